/*
 * BAR access for drivers: map a valid BAR once, then read and write it by
 * offset. An I/O BAR is reached through x86 port instructions where the
 * host has them, or through the host bridge's memory-mapped I/O window
 * (aarch64), so drivers handle both kinds of BAR with the same calls.
 *
 * Offsets are the caller's to check against the BAR size (virtio_pci.c
 * validates every structure it uses against it once, at probe time).
 */
#include <errno.h>

#include "io.h"
#include "pci.h"

int pci_bar_map(struct pci_func *f, unsigned i)
{
	if (i >= PCI_NUM_BARS || !f->bar[i].valid)
		return -ENODEV;
	struct pci_bar *b = &f->bar[i];
	if (b->va)
		return 0;
	if (b->kind == PCI_BAR_IO && f->host->io_ports) {
		if (b->cpu_addr + b->size > 0x10000)
			return -ENODEV;
		b->va = (uintptr_t)b->cpu_addr; /* a port number */
		b->port = true;
		return 0;
	}
	b->va = io_map(b->cpu_addr, b->size);
	return b->va ? 0 : -ENOMEM;
}

#if ARCH_HAS_PORT_IO
#define PORT_OR_MMIO(bits, b, off)                                                                 \
	((b)->port ? port_read##bits((uint16_t)((b)->va + (off)))                                  \
	           : mmio_read##bits((b)->va + (uintptr_t)(off)))
#define PORT_OR_MMIO_W(bits, b, off, v)                                                            \
	((b)->port ? port_write##bits((uint16_t)((b)->va + (off)), v)                              \
	           : mmio_write##bits((b)->va + (uintptr_t)(off), v))
#else
#define PORT_OR_MMIO(bits, b, off)      mmio_read##bits((b)->va + (uintptr_t)(off))
#define PORT_OR_MMIO_W(bits, b, off, v) mmio_write##bits((b)->va + (uintptr_t)(off), v)
#endif

uint8_t pci_bar_read8(const struct pci_bar *b, uint64_t off)
{
	return PORT_OR_MMIO(8, b, off);
}

uint16_t pci_bar_read16(const struct pci_bar *b, uint64_t off)
{
	return PORT_OR_MMIO(16, b, off);
}

uint32_t pci_bar_read32(const struct pci_bar *b, uint64_t off)
{
	return PORT_OR_MMIO(32, b, off);
}

void pci_bar_write8(const struct pci_bar *b, uint64_t off, uint8_t v)
{
	PORT_OR_MMIO_W(8, b, off, v);
}

void pci_bar_write16(const struct pci_bar *b, uint64_t off, uint16_t v)
{
	PORT_OR_MMIO_W(16, b, off, v);
}

void pci_bar_write32(const struct pci_bar *b, uint64_t off, uint32_t v)
{
	PORT_OR_MMIO_W(32, b, off, v);
}
