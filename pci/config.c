/*
 * Configuration-space access: ECAM (PCIe 4.0 §7.2.2, memory-mapped, 4 KiB
 * per function) and, on x86 machines without ECAM (QEMU pc), configuration
 * mechanism #1 through ports 0xcf8/0xcfc (PCI 3.0 §3.2.2.3.2).
 *
 * Every access names a function by bus/device/function ("bdf": bus << 8 |
 * device << 3 | function) on one host; a bus outside the host's range reads
 * as all ones (nothing there) and ignores writes.
 */
#include <stdio.h>

#include "io.h"
#include "pci.h"
#include "rt.h"

unsigned pci_errors;

/* Bad input from a device or firmware: counted and said, never followed. */
void pci_error(const struct pci_func *f, const char *what)
{
	pci_errors++;
	printf("pci %s: %s\n", f ? f->name : "-", what);
}

static bool bus_in_range(const struct pci_host *h, uint32_t bdf)
{
	unsigned bus = bdf >> 8;
	return bus >= h->bus_start && bus <= h->bus_end;
}

static bool access_ok(uint16_t off, unsigned size)
{
	if (size != 1 && size != 2 && size != 4)
		return false;
	return (off & (size - 1)) == 0 && off + size <= PCI_CFG_SIZE;
}

static uint32_t all_ones(unsigned size)
{
	return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* ---- ECAM ---- */

static uintptr_t ecam_addr(const struct pci_host *h, uint32_t bdf, uint16_t off)
{
	uintptr_t rel = (uintptr_t)((bdf >> 8) - h->bus_start) << PCI_ECAM_BUS_SHIFT;
	return h->ecam + rel + ((uintptr_t)(bdf & 0xff) << PCI_ECAM_FUNC_SHIFT) + off;
}

static uint32_t ecam_read(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size)
{
	uintptr_t a = ecam_addr(h, bdf, off);
	if (size == 1)
		return mmio_read8(a);
	if (size == 2)
		return mmio_read16(a);
	return mmio_read32(a);
}

static void ecam_write(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size,
                       uint32_t v)
{
	uintptr_t a = ecam_addr(h, bdf, off);
	if (size == 1)
		mmio_write8(a, (uint8_t)v);
	else if (size == 2)
		mmio_write16(a, (uint16_t)v);
	else
		mmio_write32(a, v);
}

const struct pci_cfg_ops pci_ecam_ops = {.name = "ecam", .read = ecam_read, .write = ecam_write};

/* ---- Configuration mechanism #1 (x86 port I/O) ---- */

#if ARCH_HAS_PORT_IO
/*
 * The address register selects a dword; the data port's byte lanes
 * 0xcfc..0xcff reach the bytes within it. The address/data pair is two
 * accesses, so cf8_lock (a spinlock; no interrupt handler touches
 * configuration space) keeps CPUs from interleaving them.
 */
static struct spinlock cf8_lock;

static void cf8_select(uint32_t bdf, uint16_t off)
{
	port_write32(PCI_CF8_ADDRESS, PCI_CF8_ENABLE | (bdf << 8) | (off & 0xfc));
}

static uint32_t cf8_read(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size)
{
	(void)h;
	uint16_t port = PCI_CF8_DATA + (off & 3);
	uint32_t v;
	spin_lock(&cf8_lock);
	cf8_select(bdf, off);
	if (size == 1)
		v = port_read8(port);
	else if (size == 2)
		v = port_read16(port);
	else
		v = port_read32(port);
	spin_unlock(&cf8_lock);
	return v;
}

static void cf8_write(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size,
                      uint32_t v)
{
	(void)h;
	uint16_t port = PCI_CF8_DATA + (off & 3);
	spin_lock(&cf8_lock);
	cf8_select(bdf, off);
	if (size == 1)
		port_write8(port, (uint8_t)v);
	else if (size == 2)
		port_write16(port, (uint16_t)v);
	else
		port_write32(port, v);
	spin_unlock(&cf8_lock);
}

/*
 * Mechanism #1 is there when the address register holds what was written
 * (PCI 3.0 §3.2.2.3.2 reads it back as written), the classic probe.
 */
bool pci_cf8_present(void)
{
	/* Boot CPU only, before any other configuration access. */
	uint32_t saved = port_read32(PCI_CF8_ADDRESS);
	port_write32(PCI_CF8_ADDRESS, PCI_CF8_ENABLE);
	bool present = port_read32(PCI_CF8_ADDRESS) == PCI_CF8_ENABLE;
	port_write32(PCI_CF8_ADDRESS, saved);
	return present;
}
#else
static uint32_t cf8_read(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size)
{
	(void)h, (void)bdf, (void)off;
	return all_ones(size);
}

static void cf8_write(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size,
                      uint32_t v)
{
	(void)h, (void)bdf, (void)off, (void)size, (void)v;
}

bool pci_cf8_present(void)
{
	return false;
}
#endif

const struct pci_cfg_ops pci_cf8_ops = {.name = "cf8", .read = cf8_read, .write = cf8_write};

/* ---- Accessors the rest of pci/ uses ---- */

uint32_t pci_host_read(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size)
{
	if (!access_ok(off, size) || !bus_in_range(h, bdf))
		return all_ones(size);
	return h->ops->read(h, bdf, off, size) & all_ones(size);
}

void pci_host_write(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size, uint32_t v)
{
	if (!access_ok(off, size) || !bus_in_range(h, bdf))
		return;
	h->ops->write(h, bdf, off, size, v);
}

static uint32_t func_bdf(const struct pci_func *f)
{
	return pci_bdf(f->bus, f->dev, f->fn);
}

uint8_t pci_read8(const struct pci_func *f, uint16_t off)
{
	return (uint8_t)pci_host_read(f->host, func_bdf(f), off, 1);
}

uint16_t pci_read16(const struct pci_func *f, uint16_t off)
{
	return (uint16_t)pci_host_read(f->host, func_bdf(f), off, 2);
}

uint32_t pci_read32(const struct pci_func *f, uint16_t off)
{
	return pci_host_read(f->host, func_bdf(f), off, 4);
}

void pci_write8(const struct pci_func *f, uint16_t off, uint8_t v)
{
	pci_host_write(f->host, func_bdf(f), off, 1, v);
}

void pci_write16(const struct pci_func *f, uint16_t off, uint16_t v)
{
	pci_host_write(f->host, func_bdf(f), off, 2, v);
}

void pci_write32(const struct pci_func *f, uint16_t off, uint32_t v)
{
	pci_host_write(f->host, func_bdf(f), off, 4, v);
}

static uint32_t func_reader_read(const void *ctx, uint16_t off, unsigned size)
{
	return pci_host_read(((const struct pci_func *)ctx)->host,
	                     func_bdf((const struct pci_func *)ctx), off, size);
}

struct pci_cfg_reader pci_func_reader(const struct pci_func *f)
{
	return (struct pci_cfg_reader){.read = func_reader_read, .ctx = f};
}
