/*
 * The physical memory map: from the RAM and reserved ranges the boot protocol
 * reported (struct boot_info) to the sorted, disjoint, page-aligned ranges
 * the page allocator may hand out.
 *
 * Firmware and VMM maps are input, not truth: ranges may come unsorted,
 * overlap or repeat, have zero size, or run past the top of the address
 * space, and a reserved range may cover several RAM ranges or none. RAM is
 * rounded inwards to whole pages and reserved ranges outwards, so a page that
 * is only partly RAM, or partly reserved, is never handed out.
 */
#include "rt.h"

/* A half-open range [base, end) of physical addresses; simpler to cut than base+size. */
struct span {
	uint64_t base, end;
};

/* End of r, saturated at the top of the address space instead of wrapping. */
static uint64_t range_end(const struct mem_range *r)
{
	return r->size > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->size;
}

static uint64_t page_down(uint64_t a)
{
	return a & ~(uint64_t)(PAGE_SIZE - 1);
}

/* Round up to a page; addresses in the last partial page saturate to its start. */
static uint64_t page_up(uint64_t a)
{
	return a > UINT64_MAX - (PAGE_SIZE - 1) ? page_down(UINT64_MAX)
	                                        : page_down(a + PAGE_SIZE - 1);
}

/* Insertion sort by base: a few dozen entries at most, and no allocator exists yet. */
static void sort_spans(struct span *s, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct span x = s[i];
		unsigned j = i;
		for (; j > 0 && s[j - 1].base > x.base; j--)
			s[j] = s[j - 1];
		s[j] = x;
	}
}

/* Merge overlapping and touching spans of a sorted list; returns the new count. */
static unsigned merge_spans(struct span *s, unsigned n)
{
	unsigned out = 0;
	for (unsigned i = 0; i < n; i++) {
		if (out > 0 && s[i].base <= s[out - 1].end) {
			if (s[i].end > s[out - 1].end)
				s[out - 1].end = s[i].end;
		} else {
			s[out++] = s[i];
		}
	}
	return out;
}

/*
 * Remove [base, end) from a sorted, disjoint list of n spans with room for
 * max; returns the new count. A cut inside one span splits it in two; if the
 * list is full the upper piece is dropped (memory lost, never handed out).
 */
static unsigned cut_spans(struct span *s, unsigned n, unsigned max, uint64_t base, uint64_t end)
{
	for (unsigned i = 0; i < n; i++) {
		if (s[i].end <= base || s[i].base >= end)
			continue;
		if (s[i].base < base && s[i].end > end) { /* split */
			if (n < max) {
				for (unsigned j = n; j > i + 1; j--)
					s[j] = s[j - 1];
				s[i + 1] = (struct span){end, s[i].end};
				n++;
			}
			s[i].end = base;
			return n;
		}
		if (s[i].base < base)
			s[i].end = base;
		else
			s[i].base = end < s[i].end ? end : s[i].end;
	}
	/* Drop what became empty. */
	unsigned out = 0;
	for (unsigned i = 0; i < n; i++)
		if (s[i].base < s[i].end)
			s[out++] = s[i];
	return out;
}

static unsigned spans_to_ranges(const struct span *s, unsigned n, struct mem_range *out)
{
	for (unsigned i = 0; i < n; i++)
		out[i] = (struct mem_range){s[i].base, s[i].end - s[i].base};
	return n;
}

/* Whole pages of RAM below limit, sorted and merged, as spans; returns the count. */
static unsigned ram_spans(const struct boot_info *bi, uint64_t limit, struct span *s)
{
	unsigned n = 0, count = bi->ram_count < BOOT_MAX_RANGES ? bi->ram_count : BOOT_MAX_RANGES;
	for (unsigned i = 0; i < count; i++) {
		uint64_t end = range_end(&bi->ram[i]);
		uint64_t base = page_up(bi->ram[i].base);
		end = page_down(end < limit ? end : limit);
		if (base < end)
			s[n++] = (struct span){base, end};
	}
	sort_spans(s, n);
	return merge_spans(s, n);
}

/*
 * The RAM below limit as sorted, disjoint, page-aligned ranges (reserved
 * ranges not subtracted). out has room for PMM_MAX_RANGES; returns the count.
 */
unsigned pmm_ram_ranges(const struct boot_info *bi, uint64_t limit, struct mem_range *out)
{
	struct span s[PMM_MAX_RANGES];
	return spans_to_ranges(s, ram_spans(bi, limit, s), out);
}

/*
 * The RAM below limit that may be handed out: pmm_ram_ranges() minus every
 * reserved range (the image, boot data, the null page, firmware tables).
 * out has room for PMM_MAX_RANGES; returns the count.
 */
unsigned pmm_free_ranges(const struct boot_info *bi, uint64_t limit, struct mem_range *out)
{
	struct span s[PMM_MAX_RANGES];
	unsigned n = ram_spans(bi, limit, s);
	unsigned count =
	    bi->reserved_count < BOOT_MAX_RANGES ? bi->reserved_count : BOOT_MAX_RANGES;
	for (unsigned i = 0; i < count; i++) {
		const struct mem_range *r = &bi->reserved[i];
		if (r->size != 0)
			n = cut_spans(s, n, PMM_MAX_RANGES, page_down(r->base),
			              page_up(range_end(r)));
	}
	return spans_to_ranges(s, n, out);
}

uint64_t pmm_total(const struct mem_range *r, unsigned n)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += r[i].size;
	return total;
}
