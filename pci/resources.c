/*
 * BAR and bridge-window resources.
 *
 * Where firmware ran (SeaBIOS on x86), the BARs it programmed are kept when
 * they are valid. Where none ran (aarch64 virt booted with -kernel), noos
 * assigns everything from the host bridge's windows:
 *
 *   1. bottom-up, each bridge's window needs per space (I/O, memory,
 *      64-bit prefetchable) = the sum of what sits on its secondary bus,
 *      aligned to the largest item and the window granularity (P2P 1.2
 *      §3.2.5.6-9: 4 KiB for I/O, 1 MiB for memory);
 *   2. top-down, items on each bus are placed largest alignment first, so
 *      no padding is ever needed between them (every size is a multiple of
 *      its alignment), and bridge windows are programmed around them.
 *
 * Either way a final check reads every BAR and bridge window back from
 * configuration space and marks a BAR valid only when it is aligned, inside
 * a host window and every window on the path to it, clear of RAM, and
 * overlaps no other valid BAR. Drivers use valid BARs only.
 */
#include "pci.h"
#include "rt.h"

#define SLOT_WINDOW PCI_NUM_BARS /* items PCI_NUM_BARS + space: a bridge's windows */
#define ITEM_SLOTS  (PCI_NUM_BARS + PCI_SPACES)

/* Scratch for one pci_assign_resources call; boot is single-threaded. */
static struct {
	uint64_t size[PCI_MAX_FUNCS][PCI_SPACES]; /* bridge window needs */
	uint64_t align[PCI_MAX_FUNCS][PCI_SPACES];
	bool placed[PCI_MAX_FUNCS][ITEM_SLOTS];
} res;

struct layout {
	struct pci_host *h;
	struct pci_func *funcs;
	unsigned n;
};

static bool is_bridge(const struct pci_func *f)
{
	return f->header_type == PCI_HEADER_TYPE_BRIDGE;
}

/* 64-bit prefetchable space reaches f only if the host and every bridge above forward it. */
static bool pref64_reaches(const struct pci_host *h, const struct pci_func *f)
{
	if (!h->win[PCI_SPACE_PREF64].size)
		return false;
	for (const struct pci_func *br = f->parent; br; br = br->parent)
		if ((pci_read16(br, PCI_PREF_MEMORY_BASE) & PCI_BRIDGE_RANGE_TYPE_MASK) !=
		    PCI_BRIDGE_RANGE_64)
			return false;
	return true;
}

static enum pci_space bar_space(const struct pci_host *h, const struct pci_func *f,
                                const struct pci_bar *b)
{
	if (b->kind == PCI_BAR_IO)
		return PCI_SPACE_IO;
	if (b->kind == PCI_BAR_MEM64 && b->prefetch && pref64_reaches(h, f))
		return PCI_SPACE_PREF64;
	return PCI_SPACE_MEM;
}

/* Item (fi, slot) in space sp: its size and alignment, or false if it is not in sp. */
static bool item(const struct layout *l, unsigned fi, unsigned slot, enum pci_space sp,
                 uint64_t *size, uint64_t *align)
{
	const struct pci_func *f = &l->funcs[fi];
	if (slot >= SLOT_WINDOW) {
		if (!is_bridge(f) || slot - SLOT_WINDOW != sp || !f->secondary)
			return false;
		*size = res.size[fi][sp];
		*align = res.align[fi][sp];
		return *size != 0;
	}
	const struct pci_bar *b = &f->bar[slot];
	if (b->kind == PCI_BAR_NONE || bar_space(l->h, f, b) != sp)
		return false;
	*size = *align = b->size;
	return true;
}

static uint64_t granularity(enum pci_space sp)
{
	return sp == PCI_SPACE_IO ? PCI_BRIDGE_IO_ALIGN : PCI_BRIDGE_MEM_ALIGN;
}

/* Sum and largest alignment of the items on the bus behind `parent` in sp. */
static void bus_needs(const struct layout *l, const struct pci_func *parent, enum pci_space sp,
                      uint64_t *total, uint64_t *max_align)
{
	uint64_t size, align;
	for (unsigned fi = 0; fi < l->n; fi++) {
		if (l->funcs[fi].parent != parent)
			continue;
		for (unsigned s = 0; s < ITEM_SLOTS; s++) {
			if (!item(l, fi, s, sp, &size, &align))
				continue;
			*total += size;
			*max_align = align > *max_align ? align : *max_align;
		}
	}
}

/* Step 1: what each bridge's windows must hold, children first (funcs[] is in DFS order). */
static void size_windows(const struct layout *l)
{
	for (unsigned bi = l->n; bi-- > 0;) {
		if (!is_bridge(&l->funcs[bi]))
			continue;
		for (unsigned sp = 0; sp < PCI_SPACES; sp++) {
			uint64_t total = 0, max_align = 0;
			bus_needs(l, &l->funcs[bi], sp, &total, &max_align);
			if (total) {
				max_align =
				    max_align > granularity(sp) ? max_align : granularity(sp);
				total = (total + max_align - 1) & ~(max_align - 1);
			}
			res.size[bi][sp] = total;
			res.align[bi][sp] = max_align;
		}
	}
}

static void write_bar(struct pci_func *f, unsigned i, uint64_t addr)
{
	uint16_t off = PCI_BASE_ADDRESS_0 + 4 * i;
	uint32_t flags = pci_read32(f, off) & (f->bar[i].kind == PCI_BAR_IO ? 0x3u : 0xfu);
	pci_write32(f, off, (uint32_t)addr | flags);
	if (f->bar[i].kind == PCI_BAR_MEM64)
		pci_write32(f, off + 4, (uint32_t)(addr >> 32));
	f->bar[i].bus_addr = addr;
}

/* Program one bridge window [base, limit]; base > limit closes it. */
static void write_window(struct pci_func *br, enum pci_space sp, uint64_t base, uint64_t limit)
{
	if (sp == PCI_SPACE_IO) {
		pci_write8(br, PCI_IO_BASE, (uint8_t)((base >> 8) & 0xf0));
		pci_write8(br, PCI_IO_LIMIT, (uint8_t)((limit >> 8) & 0xf0));
		pci_write16(br, PCI_IO_BASE_UPPER16, (uint16_t)(base >> 16));
		pci_write16(br, PCI_IO_LIMIT_UPPER16, (uint16_t)(limit >> 16));
	} else if (sp == PCI_SPACE_MEM) {
		pci_write16(br, PCI_MEMORY_BASE, (uint16_t)((base >> 16) & 0xfff0));
		pci_write16(br, PCI_MEMORY_LIMIT, (uint16_t)((limit >> 16) & 0xfff0));
	} else {
		pci_write16(br, PCI_PREF_MEMORY_BASE, (uint16_t)((base >> 16) & 0xfff0));
		pci_write16(br, PCI_PREF_MEMORY_LIMIT, (uint16_t)((limit >> 16) & 0xfff0));
		pci_write32(br, PCI_PREF_BASE_UPPER32, (uint32_t)(base >> 32));
		pci_write32(br, PCI_PREF_LIMIT_UPPER32, (uint32_t)(limit >> 32));
	}
}

static void close_windows(struct pci_func *br)
{
	for (unsigned sp = 0; sp < PCI_SPACES; sp++)
		write_window(br, sp, granularity(sp) * 0xfff0ull, 0);
}

static void place_bus(struct layout *l, const struct pci_func *parent, enum pci_space sp,
                      uint64_t base, uint64_t end);

/* The unplaced item on parent's bus in sp with the largest alignment, or false. */
static bool next_item(const struct layout *l, const struct pci_func *parent, enum pci_space sp,
                      unsigned *fi_out, unsigned *slot_out)
{
	uint64_t best = 0, size, align;
	for (unsigned fi = 0; fi < l->n; fi++) {
		if (l->funcs[fi].parent != parent)
			continue;
		for (unsigned s = 0; s < ITEM_SLOTS; s++) {
			if (res.placed[fi][s] || !item(l, fi, s, sp, &size, &align) ||
			    align <= best)
				continue;
			best = align;
			*fi_out = fi;
			*slot_out = s;
		}
	}
	return best != 0;
}

/* Step 2: lay out parent's bus in [base, end) for sp, descending into bridges. */
static void place_bus(struct layout *l, const struct pci_func *parent, enum pci_space sp,
                      uint64_t base, uint64_t end)
{
	unsigned fi, slot;
	uint64_t size, align;
	while (next_item(l, parent, sp, &fi, &slot)) {
		res.placed[fi][slot] = true;
		item(l, fi, slot, sp, &size, &align);
		uint64_t at = (base + align - 1) & ~(align - 1);
		struct pci_func *f = &l->funcs[fi];
		if (at < base || at > end || size > end - at) {
			pci_error(f, "no room for a BAR or bridge window in the host's window");
			continue;
		}
		base = at + size;
		if (slot < SLOT_WINDOW) {
			write_bar(f, slot, at);
			continue;
		}
		write_window(f, sp, at, at + size - 1);
		place_bus(l, f, sp, at, at + size);
	}
}

static void assign_all(struct layout *l)
{
	for (unsigned fi = 0; fi < l->n; fi++) {
		struct pci_func *f = &l->funcs[fi];
		for (unsigned s = 0; s < ITEM_SLOTS; s++)
			res.placed[fi][s] = false;
		pci_write16(f, PCI_COMMAND,
		            pci_read16(f, PCI_COMMAND) & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
		if (is_bridge(f))
			close_windows(f);
	}
	size_windows(l);
	for (unsigned sp = 0; sp < PCI_SPACES; sp++) {
		const struct pci_window *w = &l->h->win[sp];
		/* Bus address 0 reads as "unassigned": start a window at 0 one granule in. */
		uint64_t start = w->bus_base ? w->bus_base : granularity(sp);
		if (w->size > start - w->bus_base)
			place_bus(l, NULL, sp, start, w->bus_base + w->size);
	}
	for (unsigned fi = 0; fi < l->n; fi++)
		if (is_bridge(&l->funcs[fi]))
			pci_write16(&l->funcs[fi], PCI_COMMAND,
			            pci_read16(&l->funcs[fi], PCI_COMMAND) | PCI_COMMAND_IO |
			                PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

/* ---- Validation of what is programmed, whoever programmed it ---- */

static bool inside(uint64_t a, uint64_t size, uint64_t base, uint64_t limit)
{
	return a >= base && a <= limit && size - 1 <= limit - a;
}

/* Window [base, limit] a bridge forwards for a BAR of kind/prefetch; false if closed. */
static bool bridge_window(const struct pci_func *br, const struct pci_bar *b, bool pref,
                          uint64_t *base, uint64_t *limit)
{
	uint16_t cmd = pci_read16(br, PCI_COMMAND);
	if (b->kind == PCI_BAR_IO) {
		uint8_t lo = pci_read8(br, PCI_IO_BASE), hi = pci_read8(br, PCI_IO_LIMIT);
		bool wide = (lo & PCI_BRIDGE_RANGE_TYPE_MASK) == PCI_BRIDGE_IO_32;
		*base = ((uint64_t)(lo & 0xf0) << 8) |
		        (wide ? (uint64_t)pci_read16(br, PCI_IO_BASE_UPPER16) << 16 : 0);
		*limit = ((uint64_t)(hi & 0xf0) << 8) | 0xfff |
		         (wide ? (uint64_t)pci_read16(br, PCI_IO_LIMIT_UPPER16) << 16 : 0);
		return (cmd & PCI_COMMAND_IO) && *base <= *limit;
	}
	uint16_t off = pref ? PCI_PREF_MEMORY_BASE : PCI_MEMORY_BASE;
	uint16_t lo = pci_read16(br, off), hi = pci_read16(br, off + 2);
	*base = (uint64_t)(lo & 0xfff0) << 16;
	*limit = ((uint64_t)(hi & 0xfff0) << 16) | 0xfffff;
	if (pref && (lo & PCI_BRIDGE_RANGE_TYPE_MASK) == PCI_BRIDGE_RANGE_64) {
		*base |= (uint64_t)pci_read32(br, PCI_PREF_BASE_UPPER32) << 32;
		*limit |= (uint64_t)pci_read32(br, PCI_PREF_LIMIT_UPPER32) << 32;
	}
	return (cmd & PCI_COMMAND_MEMORY) && *base <= *limit;
}

static bool reachable_through_bridges(const struct pci_func *f, const struct pci_bar *b)
{
	uint64_t base, limit;
	for (const struct pci_func *br = f->parent; br; br = br->parent) {
		bool ok = bridge_window(br, b, false, &base, &limit) &&
		          inside(b->bus_addr, b->size, base, limit);
		if (!ok && b->kind != PCI_BAR_IO && b->prefetch)
			ok = bridge_window(br, b, true, &base, &limit) &&
			     inside(b->bus_addr, b->size, base, limit);
		if (!ok)
			return false;
	}
	return true;
}

/* The host window holding the BAR: sets cpu_addr, or false. */
static bool translate(const struct pci_host *h, struct pci_bar *b)
{
	for (unsigned sp = 0; sp < PCI_SPACES; sp++) {
		const struct pci_window *w = &h->win[sp];
		if (!w->size || (sp == PCI_SPACE_IO) != (b->kind == PCI_BAR_IO))
			continue;
		if (inside(b->bus_addr, b->size, w->bus_base, w->bus_base + w->size - 1)) {
			b->cpu_addr = b->bus_addr - w->bus_base + w->cpu_base;
			return true;
		}
	}
	return false;
}

static bool overlaps(uint64_t a, uint64_t asize, uint64_t b, uint64_t bsize)
{
	return a < b + bsize && b < a + asize;
}

static bool clear_of_others(const struct layout *l, const struct pci_bar *b)
{
	const struct pci_host *h = l->h;
	for (unsigned i = 0; b->kind != PCI_BAR_IO && i < h->ram_count; i++)
		if (overlaps(b->cpu_addr, b->size, h->ram[i].base, h->ram[i].size))
			return false;
	for (unsigned fi = 0; fi < l->n; fi++)
		for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
			const struct pci_bar *o = &l->funcs[fi].bar[i];
			if (o != b && o->valid &&
			    (o->kind == PCI_BAR_IO) == (b->kind == PCI_BAR_IO) &&
			    overlaps(o->bus_addr, o->size, b->bus_addr, b->size))
				return false;
		}
	return true;
}

static bool bar_valid(const struct layout *l, struct pci_func *f, struct pci_bar *b)
{
	if (b->bus_addr == 0 || (b->bus_addr & (b->size - 1)) ||
	    b->bus_addr + b->size < b->bus_addr)
		return false;
	return translate(l->h, b) && reachable_through_bridges(f, b) && clear_of_others(l, b);
}

unsigned pci_assign_resources(struct pci_host *h, struct pci_func *funcs, unsigned n)
{
	if (n > PCI_MAX_FUNCS)
		panic("pci: %u functions for a table of %u", n, PCI_MAX_FUNCS);
	struct layout l = {.h = h, .funcs = funcs, .n = n};
	if (h->assign)
		assign_all(&l);
	unsigned failed = 0;
	for (unsigned fi = 0; fi < n; fi++)
		for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
			struct pci_bar *b = &funcs[fi].bar[i];
			b->valid = false;
			if (b->kind == PCI_BAR_NONE)
				continue;
			b->valid = bar_valid(&l, &funcs[fi], b);
			if (!b->valid) {
				pci_error(&funcs[fi],
				          "BAR unassigned, misaligned, outside the windows "
				          "or overlapping: not used");
				failed++;
			}
		}
	return failed;
}

void pci_enable_decoding(struct pci_func *f)
{
	uint16_t cmd = pci_read16(f, PCI_COMMAND);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		if (!f->bar[i].valid)
			continue;
		cmd |= f->bar[i].kind == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
	}
	pci_write16(f, PCI_COMMAND, cmd);
}
