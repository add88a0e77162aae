/*
 * aarch64 device access for drivers outside arch/ (pci/, virtio/, mmio/):
 * MMIO accessors and the mapping of device memory. The same names exist in
 * arch/x86_64/io.h; there is no port I/O here (PCI I/O space is
 * memory-mapped through the host bridge's window).
 *
 * Ordering, as Linux's readl/writel give it (ARM ARM B2.3 and K13.6): a DMB
 * before each device store orders the driver's earlier normal-memory stores
 * (a DMA buffer, a ring entry) before the doorbell, and a DMB after each
 * device load orders it before later reads of memory the device wrote.
 * Accesses are single plain loads and stores (no writeback addressing), so
 * a hypervisor can always decode them (ESR_EL2.ISV).
 */
#ifndef NOOS_ARCH_IO_H
#define NOOS_ARCH_IO_H

#include <stdint.h>

#include "arch.h"

#define ARCH_HAS_PORT_IO 0

static inline uint8_t mmio_read8(uintptr_t addr)
{
	uint8_t v;
	__asm__ volatile("ldrb %w0, [%1]\n\tdmb oshld" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint16_t mmio_read16(uintptr_t addr)
{
	uint16_t v;
	__asm__ volatile("ldrh %w0, [%1]\n\tdmb oshld" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
	uint32_t v;
	__asm__ volatile("ldr %w0, [%1]\n\tdmb oshld" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write8(uintptr_t addr, uint8_t v)
{
	__asm__ volatile("dmb oshst\n\tstrb %w0, [%1]" : : "rZ"(v), "r"(addr) : "memory");
}

static inline void mmio_write16(uintptr_t addr, uint16_t v)
{
	__asm__ volatile("dmb oshst\n\tstrh %w0, [%1]" : : "rZ"(v), "r"(addr) : "memory");
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("dmb oshst\n\tstr %w0, [%1]" : : "rZ"(v), "r"(addr) : "memory");
}

/*
 * Where the CPU reaches device memory [phys, phys + size): its virtual
 * address, or 0 when it cannot be mapped. The kernel page tables map it
 * uncached on first use (arch.h, arch_map_device).
 */
static inline uintptr_t io_map(uint64_t phys, uint64_t size)
{
	return phys == 0 ? 0 : arch_map_device(phys, size);
}

#endif
