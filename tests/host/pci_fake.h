/*
 * A synthetic PCI hierarchy for host tests of pci/: each function is 256
 * bytes of configuration space plus a per-byte write mask (as QEMU models
 * it), so BAR sizing, bus numbering and bridge windows behave like
 * hardware: a BAR keeps only the address bits its size allows, type bits
 * are read-only, and a configuration cycle reaches a function behind
 * bridges only through the bus numbers those bridges hold.
 */
#ifndef NOOS_TEST_PCI_FAKE_H
#define NOOS_TEST_PCI_FAKE_H

#include <stdint.h>
#include <string.h>

#include "pci.h"

#define FAKE_MAX 32

struct fake_fn {
	int parent; /* index of the bridge above, -1 on the root bus */
	uint8_t devfn;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];
};

static struct fake_fn fake[FAKE_MAX];
static int fake_count;

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fake_reset(void)
{
	memset(fake, 0, sizeof(fake));
	fake_count = 0;
}

static int fake_add(int parent, unsigned dev, unsigned fn, uint16_t vendor, uint16_t device,
                    uint32_t class_code)
{
	struct fake_fn *f = &fake[fake_count];
	f->parent = parent;
	f->devfn = (uint8_t)(dev << 3 | fn);
	put16(f->cfg + PCI_VENDOR_ID, vendor);
	put16(f->cfg + PCI_DEVICE_ID, device);
	put32(f->cfg + PCI_REVISION_ID, class_code << 8);
	put16(f->wmask + PCI_COMMAND, 0x0407);
	f->wmask[PCI_INTERRUPT_LINE] = 0xff;
	return fake_count++;
}

/* kind: PCI_BAR_IO, PCI_BAR_MEM32 or PCI_BAR_MEM64; size a power of two. */
static void fake_bar(int i, unsigned bar, enum pci_bar_kind kind, uint64_t size, bool pref)
{
	struct fake_fn *f = &fake[i];
	uint8_t *reg = f->cfg + PCI_BASE_ADDRESS_0 + 4 * bar;
	uint8_t *mask = f->wmask + PCI_BASE_ADDRESS_0 + 4 * bar;
	uint64_t addr_mask = ~(size - 1);
	uint32_t flags = kind == PCI_BAR_IO ? PCI_BAR_SPACE_IO
	                                    : (kind == PCI_BAR_MEM64 ? PCI_BAR_MEM_TYPE_64 : 0) |
	                                          (pref ? PCI_BAR_MEM_PREFETCH : 0);
	put32(reg, flags);
	put32(mask, (uint32_t)addr_mask & (kind == PCI_BAR_IO ? 0xfffffffcu : 0xfffffff0u));
	if (kind == PCI_BAR_MEM64)
		put32(mask + 4, (uint32_t)(addr_mask >> 32));
}

/* A PCI-to-PCI bridge with 32-bit I/O and 64-bit prefetchable windows (as QEMU's). */
static int fake_bridge(int parent, unsigned dev)
{
	int i = fake_add(parent, dev, 0, 0x1b36, 0x0001, PCI_CLASS_BRIDGE_PCI << 8);
	struct fake_fn *f = &fake[i];
	f->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_BRIDGE;
	memset(f->wmask + PCI_PRIMARY_BUS, 0xff, 4);
	f->cfg[PCI_IO_BASE] = f->cfg[PCI_IO_LIMIT] = PCI_BRIDGE_IO_32;
	f->wmask[PCI_IO_BASE] = f->wmask[PCI_IO_LIMIT] = 0xf0;
	put32(f->wmask + PCI_MEMORY_BASE, 0xfff0fff0u);
	put16(f->cfg + PCI_PREF_MEMORY_BASE, PCI_BRIDGE_RANGE_64);
	put16(f->cfg + PCI_PREF_MEMORY_LIMIT, PCI_BRIDGE_RANGE_64);
	put32(f->wmask + PCI_PREF_MEMORY_BASE, 0xfff0fff0u);
	memset(f->wmask + PCI_PREF_BASE_UPPER32, 0xff, 12);
	return i;
}

static unsigned fake_sec(int i)
{
	return fake[i].cfg[PCI_SECONDARY_BUS];
}

/* Does bridge i (and every bridge above it) forward configuration cycles for bus? */
static bool fake_forwards(int i, unsigned bus)
{
	const struct fake_fn *b = &fake[i];
	if (fake_sec(i) == 0 || bus < fake_sec(i) || bus > b->cfg[PCI_SUBORDINATE_BUS])
		return false;
	return b->parent < 0 || fake_forwards(b->parent, bus);
}

static struct fake_fn *fake_route(uint32_t bdf)
{
	unsigned bus = bdf >> 8;
	for (int i = 0; i < fake_count; i++) {
		struct fake_fn *f = &fake[i];
		if (f->devfn != (bdf & 0xff))
			continue;
		if (f->parent < 0 ? bus == 0
		                  : (bus == fake_sec(f->parent) && fake_forwards(f->parent, bus)))
			return f;
	}
	return NULL;
}

static uint32_t fake_read(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size)
{
	(void)h;
	struct fake_fn *f = fake_route(bdf);
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)(f ? f->cfg[off + i] : 0xff) << (8 * i);
	return v;
}

static void fake_write(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size,
                       uint32_t v)
{
	(void)h;
	struct fake_fn *f = fake_route(bdf);
	for (unsigned i = 0; f && i < size; i++) {
		uint8_t m = f->wmask[off + i], b = (uint8_t)(v >> (8 * i));
		f->cfg[off + i] = (uint8_t)((f->cfg[off + i] & ~m) | (b & m));
	}
}

static const struct pci_cfg_ops fake_ops = {.name = "fake", .read = fake_read, .write = fake_write};

#endif
