/*
 * Enumeration: a depth-first scan of a host's buses across PCI-to-PCI
 * bridges, recording every function and sizing its BARs.
 *
 * Bus numbers (P2P 1.2 §3.2.5.3-5): where firmware numbered the bridges
 * (SeaBIOS on x86) and the numbers are consistent, they are kept; otherwise
 * (no firmware ran, aarch64 virt with -kernel, or the numbers are bad) each
 * bridge gets the next free bus as its secondary, its subordinate is opened
 * to the limit while the scan runs below it, then closed to the highest bus
 * found there, as depth-first numbering requires.
 *
 * BAR sizing (PCI 3.0 §6.2.5.1): with the function's decoding off, write
 * all ones, read back which address bits stick, restore the original value.
 */
#include <stdio.h>

#include "pci.h"
#include "rt.h"

#define MAX_BRIDGE_DEPTH 32 /* deeper hierarchies are refused as malformed */

struct scan {
	struct pci_host *h;
	struct pci_func *funcs;
	unsigned max, n;
	unsigned next_bus; /* first bus number not yet given to a bridge; may reach 256 */
};

static void scan_bus(struct scan *s, unsigned bus, struct pci_func *parent, unsigned limit,
                     unsigned depth);

/* ---- BAR sizing ---- */

static uint32_t bar_probe32(struct pci_func *f, uint16_t off, uint32_t *orig)
{
	*orig = pci_read32(f, off);
	pci_write32(f, off, 0xffffffffu);
	uint32_t mask = pci_read32(f, off);
	pci_write32(f, off, *orig);
	return mask;
}

static uint64_t lowest_bit(uint64_t m)
{
	return m & (~m + 1);
}

static void size_io_bar(struct pci_bar *b, uint32_t orig, uint32_t mask)
{
	uint64_t m = mask & PCI_BAR_IO_MASK;
	/* Devices decoding only 16 I/O address bits read 0 above them (PCI 3.0 §6.2.5.1). */
	if (!(m & 0xffff0000u))
		m |= 0xffff0000u;
	b->kind = PCI_BAR_IO;
	b->size = (mask & PCI_BAR_IO_MASK) ? lowest_bit(m) : 0;
	b->bus_addr = orig & PCI_BAR_IO_MASK;
}

/* Returns the number of extra BAR slots used: 1 for a 64-bit BAR. */
static unsigned size_mem_bar(struct pci_func *f, unsigned i, unsigned nbars, uint32_t orig,
                             uint32_t mask)
{
	struct pci_bar *b = &f->bar[i];
	uint32_t type = orig & PCI_BAR_MEM_TYPE_MASK;
	b->prefetch = orig & PCI_BAR_MEM_PREFETCH;
	if (type == PCI_BAR_MEM_TYPE_32) {
		b->kind = PCI_BAR_MEM32;
		b->bus_addr = orig & PCI_BAR_MEM_MASK;
		uint64_t m = (mask & PCI_BAR_MEM_MASK) | 0xffffffff00000000ull;
		b->size = (mask & PCI_BAR_MEM_MASK) ? lowest_bit(m) : 0;
		return 0;
	}
	if (type != PCI_BAR_MEM_TYPE_64 || i + 1 >= nbars) {
		pci_error(f, "BAR with a reserved memory type or a 64-bit BAR in the last slot");
		return 0;
	}
	uint32_t orig_hi, mask_hi = bar_probe32(f, PCI_BASE_ADDRESS_0 + 4 * (i + 1), &orig_hi);
	uint64_t m = ((uint64_t)mask_hi << 32) | (mask & PCI_BAR_MEM_MASK);
	b->kind = PCI_BAR_MEM64;
	b->bus_addr = ((uint64_t)orig_hi << 32) | (orig & PCI_BAR_MEM_MASK);
	b->size = m ? lowest_bit(m) : 0;
	return 1;
}

void pci_bar_probe(struct pci_func *f)
{
	unsigned nbars =
	    f->header_type == PCI_HEADER_TYPE_BRIDGE ? PCI_NUM_BRIDGE_BARS : PCI_NUM_BARS;
	uint16_t cmd = pci_read16(f, PCI_COMMAND);
	pci_write16(f, PCI_COMMAND, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < nbars; i++) {
		uint32_t orig, mask = bar_probe32(f, PCI_BASE_ADDRESS_0 + 4 * i, &orig);
		f->bar[i] = (struct pci_bar){0};
		if (orig & PCI_BAR_SPACE_IO)
			size_io_bar(&f->bar[i], orig, mask);
		else
			i += size_mem_bar(f, i, nbars, orig, mask);
		if (f->bar[i].size == 0)
			f->bar[i].kind = PCI_BAR_NONE;
	}
	pci_write16(f, PCI_COMMAND, cmd);
}

/* ---- Functions and bridges ---- */

static void read_ids(struct pci_func *f)
{
	f->vendor = pci_read16(f, PCI_VENDOR_ID);
	f->device = pci_read16(f, PCI_DEVICE_ID);
	f->revision = pci_read8(f, PCI_REVISION_ID);
	f->class_code = pci_read32(f, PCI_REVISION_ID) >> 8;
	f->header_type = pci_read8(f, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
	f->int_pin = pci_read8(f, PCI_INTERRUPT_PIN);
	f->int_line = pci_read8(f, PCI_INTERRUPT_LINE);
	if (f->header_type == PCI_HEADER_TYPE_NORMAL) {
		f->subsys_vendor = pci_read16(f, PCI_SUBSYSTEM_VENDOR_ID);
		f->subsys_device = pci_read16(f, PCI_SUBSYSTEM_ID);
	}
	if (f->host->segment)
		snprintf(f->name, sizeof(f->name), "%04x:%02x:%02x.%u", f->host->segment, f->bus,
		         f->dev, f->fn);
	else
		snprintf(f->name, sizeof(f->name), "%02x:%02x.%u", f->bus, f->dev, f->fn);
}

/* Primary, secondary and subordinate in one write, keeping the secondary latency timer. */
static void write_bus_numbers(struct pci_func *br, unsigned sec, unsigned sub)
{
	uint32_t v = pci_read32(br, PCI_PRIMARY_BUS) & 0xff000000u;
	pci_write32(br, PCI_PRIMARY_BUS, v | (sub << 16) | (sec << 8) | br->bus);
}

static bool firmware_numbers_ok(const struct scan *s, const struct pci_func *br, unsigned sec,
                                unsigned sub, unsigned limit)
{
	return !s->h->assign && sec > br->bus && sec >= s->next_bus && sub >= sec && sub <= limit;
}

static void scan_bridge(struct scan *s, struct pci_func *br, unsigned limit, unsigned depth)
{
	unsigned sec = pci_read8(br, PCI_SECONDARY_BUS), sub = pci_read8(br, PCI_SUBORDINATE_BUS);
	bool keep = firmware_numbers_ok(s, br, sec, sub, limit);
	if (depth >= MAX_BRIDGE_DEPTH || (!keep && s->next_bus > limit)) {
		pci_error(br, depth >= MAX_BRIDGE_DEPTH ? "bridges nested too deep"
		                                        : "no bus numbers left for this bridge");
		write_bus_numbers(br, 0, 0); /* forwards nothing */
		return;
	}
	if (!keep) {
		sec = s->next_bus;
		sub = limit;
		write_bus_numbers(br, sec, sub);
	}
	s->next_bus = sec + 1;
	scan_bus(s, sec, br, sub, depth + 1);
	if (!keep) {
		sub = s->next_bus - 1;
		write_bus_numbers(br, sec, sub);
	} else if (s->next_bus < sub + 1) {
		s->next_bus = sub + 1;
	}
	br->secondary = (uint8_t)sec;
	br->subordinate = (uint8_t)sub;
}

/* Record the function at bus/dev/fn if one answers; returns it, or NULL. */
static struct pci_func *add_func(struct scan *s, unsigned bus, unsigned dev, unsigned fn,
                                 struct pci_func *parent)
{
	if (pci_host_read(s->h, pci_bdf(bus, dev, fn), PCI_VENDOR_ID, 2) == PCI_VENDOR_NONE)
		return NULL;
	if (s->n >= s->max) {
		pci_error(parent, "more functions than noos keeps track of; the rest are ignored");
		return NULL;
	}
	struct pci_func *f = &s->funcs[s->n++];
	*f = (struct pci_func){.host = s->h, .parent = parent, .bus = bus, .dev = dev, .fn = fn};
	read_ids(f);
	if (f->header_type != PCI_HEADER_TYPE_NORMAL && f->header_type != PCI_HEADER_TYPE_BRIDGE) {
		pci_error(f, "unsupported header type (CardBus?): ignored");
		s->n--;
		return NULL;
	}
	pci_bar_probe(f);
	return f;
}

static void scan_bus(struct scan *s, unsigned bus, struct pci_func *parent, unsigned limit,
                     unsigned depth)
{
	for (unsigned dev = 0; dev < PCI_MAX_DEVS; dev++) {
		unsigned nfn = 1;
		for (unsigned fn = 0; fn < nfn; fn++) {
			struct pci_func *f = add_func(s, bus, dev, fn, parent);
			if (!f)
				continue;
			if (fn == 0 && (pci_read8(f, PCI_HEADER_TYPE) & PCI_HEADER_MULTIFUNCTION))
				nfn = PCI_MAX_FNS;
			if (f->header_type == PCI_HEADER_TYPE_BRIDGE)
				scan_bridge(s, f, limit, depth);
		}
	}
}

unsigned pci_enumerate(struct pci_host *h, struct pci_func *funcs, unsigned max)
{
	struct scan s = {.h = h, .funcs = funcs, .max = max, .next_bus = h->bus_start + 1u};
	scan_bus(&s, h->bus_start, NULL, h->bus_end, 0);
	return s.n;
}
