/*
 * x86_64 device access for drivers outside arch/ (pci/, virtio/, mmio/):
 * port I/O, MMIO accessors and the mapping of device memory. The same names
 * exist in arch/aarch64/io.h, except the port functions (ARCH_HAS_PORT_IO).
 *
 * Ordering: x86 keeps stores in program order and MMIO is uncached, so a
 * compiler barrier (the "memory" clobber) is all a driver needs between
 * writing a DMA buffer and ringing a doorbell (Intel SDM vol. 3A §8.2.2).
 */
#ifndef NOOS_ARCH_IO_H
#define NOOS_ARCH_IO_H

#include <stdint.h>

#include "arch.h"

#define ARCH_HAS_PORT_IO 1

static inline uint8_t port_read8(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint16_t port_read16(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline uint32_t port_read32(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static inline void port_write8(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void port_write16(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void port_write32(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

/* One mov each, so a hypervisor can always decode the access. */
static inline uint8_t mmio_read8(uintptr_t addr)
{
	uint8_t v;
	__asm__ volatile("movb %1, %0" : "=q"(v) : "m"(*(volatile uint8_t *)addr) : "memory");
	return v;
}

static inline uint16_t mmio_read16(uintptr_t addr)
{
	uint16_t v;
	__asm__ volatile("movw %1, %0" : "=r"(v) : "m"(*(volatile uint16_t *)addr) : "memory");
	return v;
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
	uint32_t v;
	__asm__ volatile("movl %1, %0" : "=r"(v) : "m"(*(volatile uint32_t *)addr) : "memory");
	return v;
}

static inline void mmio_write8(uintptr_t addr, uint8_t v)
{
	__asm__ volatile("movb %1, %0" : "=m"(*(volatile uint8_t *)addr) : "q"(v) : "memory");
}

static inline void mmio_write16(uintptr_t addr, uint16_t v)
{
	__asm__ volatile("movw %1, %0" : "=m"(*(volatile uint16_t *)addr) : "r"(v) : "memory");
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("movl %1, %0" : "=m"(*(volatile uint32_t *)addr) : "r"(v) : "memory");
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
