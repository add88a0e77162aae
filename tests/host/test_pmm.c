/*
 * rt/pmm.c: boot memory maps -> free page ranges. Random maps (unsorted,
 * overlapping, unaligned, zero-sized, more reserved than RAM ranges) are
 * checked page by page against a model; edge cases by hand.
 */
#include <stdlib.h>

#include "check.h"
#include "panic_catch.h"
#include "rt.h"

#define MODEL_PAGES 8192 /* the random maps live below 32 MiB */

static struct boot_info bi;
static struct mem_range out[PMM_MAX_RANGES];

static uint64_t rnd(uint64_t n)
{
	return ((uint64_t)rand() << 31 ^ (uint64_t)rand()) % n;
}

static void add(struct mem_range *r, unsigned *n, uint64_t base, uint64_t size)
{
	if (*n < BOOT_MAX_RANGES)
		r[(*n)++] = (struct mem_range){base, size};
}

/* Output ranges are sorted, page-aligned, non-empty and neither overlap nor touch. */
static void check_shape(const struct mem_range *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		CHECK(r[i].size > 0);
		CHECK(((r[i].base | r[i].size) & (PAGE_SIZE - 1)) == 0);
		if (i > 0)
			CHECK(r[i].base > r[i - 1].base + r[i - 1].size);
	}
}

/* A page is free iff wholly inside some RAM range, below limit, and touching no reserved range. */
static bool model_free(uint64_t page, uint64_t limit)
{
	uint64_t a = page * PAGE_SIZE, e = a + PAGE_SIZE;
	bool ram = false;
	for (unsigned i = 0; i < bi.ram_count; i++)
		if (bi.ram[i].base <= a && e <= bi.ram[i].base + bi.ram[i].size)
			ram = true;
	for (unsigned i = 0; i < bi.reserved_count; i++) {
		const struct mem_range *r = &bi.reserved[i];
		if (r->size && r->base < e && a < r->base + r->size)
			return false;
	}
	return ram && e <= limit;
}

static bool in_output(uint64_t page, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (page * PAGE_SIZE >= out[i].base && page * PAGE_SIZE < out[i].base + out[i].size)
			return true;
	return false;
}

static void random_map(void)
{
	bi.ram_count = bi.reserved_count = 0;
	unsigned nram = 1 + rnd(BOOT_MAX_RANGES), nres = rnd(BOOT_MAX_RANGES + 1);
	for (unsigned i = 0; i < nram; i++)
		add(bi.ram, &bi.ram_count, rnd(MODEL_PAGES * PAGE_SIZE),
		    rnd(8) ? rnd(MODEL_PAGES * PAGE_SIZE / 8) : 0);
	for (unsigned i = 0; i < nres; i++)
		add(bi.reserved, &bi.reserved_count, rnd(MODEL_PAGES * PAGE_SIZE),
		    rnd(8) ? rnd(64 * PAGE_SIZE) : 0);
}

static void test_random_against_model(void)
{
	for (int round = 0; round < 300; round++) {
		random_map();
		uint64_t limit = rnd(3) ? MODEL_PAGES * PAGE_SIZE : rnd(MODEL_PAGES * PAGE_SIZE);
		unsigned n = pmm_free_ranges(&bi, limit, out);
		check_shape(out, n);
		unsigned bad = 0;
		for (uint64_t p = 0; p < MODEL_PAGES; p++)
			bad += model_free(p, limit) != in_output(p, n);
		CHECK_MSG(bad == 0, "round %d: %u pages differ from the model", round, bad);
	}
}

static void test_ram_ranges_merge(void)
{
	bi = (struct boot_info){0};
	add(bi.ram, &bi.ram_count, 0x300000, 0x100000);
	add(bi.ram, &bi.ram_count, 0x100000, 0x200000); /* touches the first: merged */
	add(bi.ram, &bi.ram_count, 0x180000, 0x10);     /* inside: absorbed */
	add(bi.ram, &bi.ram_count, 0x800000, 0);        /* empty: ignored */
	add(bi.ram, &bi.ram_count, 0x900800, 0x1000);   /* no whole page: dropped */
	unsigned n = pmm_ram_ranges(&bi, UINT64_MAX, out);
	CHECK(n == 1 && out[0].base == 0x100000 && out[0].size == 0x300000);
	add(bi.reserved, &bi.reserved_count, 0x200010, 0x10); /* splits; rounded out to its page */
	n = pmm_free_ranges(&bi, UINT64_MAX, out);
	CHECK(n == 2);
	CHECK(out[0].base == 0x100000 && out[0].size == 0x100000);
	CHECK(out[1].base == 0x201000 && out[1].size == 0x1ff000);
	CHECK(pmm_total(out, n) == 0x2ff000);
}

/* Values at the top of the address space must saturate, not wrap. */
static void test_huge_and_limit(void)
{
	bi = (struct boot_info){0};
	add(bi.ram, &bi.ram_count, 0x100000, UINT64_MAX); /* runs past the top */
	add(bi.ram, &bi.ram_count, UINT64_MAX - 10, 100);
	add(bi.reserved, &bi.reserved_count, UINT64_MAX - 0x1000, UINT64_MAX);
	unsigned n = pmm_free_ranges(&bi, UINT64_MAX, out);
	check_shape(out, n);
	CHECK(n == 1 && out[0].base == 0x100000);
	CHECK(out[0].base + out[0].size <= UINT64_MAX - 0x1000);
	/* The mapped limit clips, and is itself rounded down to a page. */
	n = pmm_free_ranges(&bi, (4ull << 30) + 123, out);
	CHECK(n == 1 && out[0].base == 0x100000 && out[0].base + out[0].size == 4ull << 30);
	n = pmm_free_ranges(&bi, 0x100000, out);
	CHECK(n == 0);
	/* A reserved range covering everything leaves nothing. */
	add(bi.reserved, &bi.reserved_count, 0, UINT64_MAX);
	CHECK(pmm_free_ranges(&bi, UINT64_MAX, out) == 0);
}

/* q35 with -m 3G: RAM below the PCI hole and above 4 GiB; only the mapped part counts. */
static void test_q35_3g(void)
{
	bi = (struct boot_info){0};
	add(bi.ram, &bi.ram_count, 0, 0x9fc00);
	add(bi.ram, &bi.ram_count, 0x100000, 0x7ff00000);
	add(bi.ram, &bi.ram_count, 0x100000000, 0x40000000);
	add(bi.reserved, &bi.reserved_count, 0, 0x1000);
	add(bi.reserved, &bi.reserved_count, 0x100000, 0x24000);
	unsigned n = pmm_free_ranges(&bi, 4ull << 30, out);
	CHECK(n == 2);
	CHECK(out[0].base == 0x1000 && out[0].size == 0x9e000);
	CHECK(out[1].base == 0x124000 && out[1].base + out[1].size == 0x80000000);
	CHECK(pmm_total(out, pmm_ram_ranges(&bi, UINT64_MAX, out)) ==
	      0x9f000 + 0x7ff00000 + 0x40000000ull);
}

/* Every one of 64 RAM ranges split by 64 reserved ranges: the output has room for all. */
static void test_many_ranges(void)
{
	bi = (struct boot_info){0};
	for (unsigned i = 0; i < BOOT_MAX_RANGES; i++) {
		add(bi.ram, &bi.ram_count, (uint64_t)i << 24, 1 << 20);
		add(bi.reserved, &bi.reserved_count, ((uint64_t)i << 24) + (1 << 19), 1);
	}
	unsigned n = pmm_free_ranges(&bi, UINT64_MAX, out);
	CHECK(n == 2 * BOOT_MAX_RANGES);
	check_shape(out, n);
	CHECK(pmm_total(out, n) == (uint64_t)BOOT_MAX_RANGES * ((1ull << 20) - PAGE_SIZE));
	bi.ram_count = 1000; /* a corrupted count is clamped, not followed */
	bi.reserved_count = 1000;
	CHECK(pmm_free_ranges(&bi, UINT64_MAX, out) == n);
}

int main(void)
{
	srand(4);
	test_ram_ranges_merge();
	test_huge_and_limit();
	test_q35_3g();
	test_many_ranges();
	test_random_against_model();
	return check_report("pmm");
}
