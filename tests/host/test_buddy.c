/*
 * rt/buddy.c against a model, on an arena of host memory standing in for
 * RAM: random alloc/free sequences (alignment, no overlap, contents kept,
 * counters consistent), coalescing back to the initial blocks, exhaustion
 * and recovery, malformed input, and the detections (double free, bad
 * frees, use after free) through panic_catch.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "check.h"
#include "noos.h"
#include "panic_catch.h"
#include "rt.h"

#define ARENA_BYTES (64ul << 20)
#define ARENA_ALIGN (4ul << 20)
#define MAX_LIVE    4096

static uint8_t *arena;
static struct buddy *b;
static struct noos_mem_stats initial;

struct live {
	uint8_t *p;
	unsigned order;
	uint8_t fill;
};
static struct live live[MAX_LIVE];
static unsigned nlive;
static uint8_t owner_map[ARENA_BYTES / PAGE_SIZE]; /* model: which pages are handed out */

static uint64_t rnd(uint64_t n)
{
	return ((uint64_t)rand() << 31 ^ (uint64_t)rand()) % n;
}

static struct noos_mem_stats stats(void)
{
	struct noos_mem_stats st = {0};
	buddy_stats(b, &st);
	return st;
}

/* The arena as two ranges with a hole and unaligned ends, like RAM around a PCI hole. */
static void setup(bool debug)
{
	struct mem_range r[2] = {
	    {(uintptr_t)arena + PAGE_SIZE, 3 * (1ul << 20) - PAGE_SIZE},
	    {(uintptr_t)arena + (5ul << 20), ARENA_BYTES - (5ul << 20) - 3 * PAGE_SIZE},
	};
	b = buddy_init(r, 2, debug);
	CHECK(b != NULL);
	CHECK(buddy_check(b) == NULL);
	initial = stats();
	memset(owner_map, 0, sizeof(owner_map));
	nlive = 0;
}

static bool same_free_blocks(const struct noos_mem_stats *a, const struct noos_mem_stats *c)
{
	return memcmp(a->free_blocks, c->free_blocks, sizeof(a->free_blocks)) == 0 &&
	       a->free_pages == c->free_pages;
}

/* Independently compute the maximal aligned blocks of [s, e) and compare with the counters. */
static void test_initial_blocks(void)
{
	setup(false);
	uint64_t expect[NOOS_MEM_ORDERS] = {0}, pages = 0;
	uintptr_t ranges[2][2] = {
	    {(uintptr_t)arena + PAGE_SIZE + buddy_meta_bytes(b),
	     (uintptr_t)arena + 3 * (1ul << 20)},
	    {(uintptr_t)arena + (5ul << 20), (uintptr_t)arena + ARENA_BYTES - 3 * PAGE_SIZE},
	};
	for (int i = 0; i < 2; i++) {
		for (uintptr_t s = ranges[i][0]; s < ranges[i][1];) {
			unsigned k = BUDDY_MAX_ORDER;
			while (s % (PAGE_SIZE << k) || s + (PAGE_SIZE << k) > ranges[i][1])
				k--;
			expect[k]++;
			pages += 1ul << k;
			s += PAGE_SIZE << k;
		}
	}
	CHECK(memcmp(expect, initial.free_blocks, sizeof(expect)) == 0);
	CHECK(initial.free_pages == pages && initial.total_pages == pages);
	for (unsigned k = 0; k < NOOS_MEM_ORDERS; k++)
		CHECK(initial.used_blocks[k] == 0);
	/* 12 bytes of page map per page of the span, and the allocator's own struct. */
	CHECK(buddy_meta_bytes(b) <= ARENA_BYTES / PAGE_SIZE * 12 + 2 * PAGE_SIZE);
}

static void model_mark(struct live *l, uint8_t v)
{
	size_t first = (size_t)(l->p - arena) / PAGE_SIZE;
	for (size_t i = 0; i < (1ul << l->order); i++) {
		if (v)
			CHECK_MSG(owner_map[first + i] == 0, "page %zu handed out twice",
			          first + i);
		owner_map[first + i] = v;
	}
}

static bool do_alloc(unsigned order)
{
	uint8_t *p = buddy_alloc(b, order);
	if (!p)
		return false;
	CHECK(((uintptr_t)p & ((PAGE_SIZE << order) - 1)) == 0);
	CHECK(p >= arena && p + (PAGE_SIZE << order) <= arena + ARENA_BYTES);
	struct live *l = &live[nlive++];
	*l = (struct live){p, order, (uint8_t)rnd(256)};
	model_mark(l, 1);
	memset(p, l->fill, PAGE_SIZE << order);
	CHECK(buddy_block_order(b, p) == (int)order);
	return true;
}

static void do_free(unsigned i)
{
	struct live *l = &live[i];
	size_t bytes = PAGE_SIZE << l->order;
	for (size_t j = 0; j < bytes; j += 61)
		if (l->p[j] != l->fill) {
			CHECK_MSG(false, "block %p changed at +%zu", (void *)l->p, j);
			break;
		}
	model_mark(l, 0);
	buddy_free(b, l->p);
	live[i] = live[--nlive];
}

static void check_counters(void)
{
	struct noos_mem_stats st = stats();
	uint64_t used = 0, blocks[NOOS_MEM_ORDERS] = {0};
	for (unsigned i = 0; i < nlive; i++) {
		used += 1ul << live[i].order;
		blocks[live[i].order]++;
	}
	CHECK(st.total_pages == initial.total_pages);
	CHECK(st.free_pages + used == st.total_pages);
	CHECK(memcmp(blocks, st.used_blocks, sizeof(blocks)) == 0);
	const char *err = buddy_check(b);
	CHECK_MSG(err == NULL, "%s", err);
}

static void free_all_randomly(void)
{
	while (nlive)
		do_free(rnd(nlive));
}

static void test_random_model(bool debug)
{
	setup(debug);
	for (int step = 0; step < 40000; step++) {
		bool alloc = nlive == 0 || (nlive < MAX_LIVE && rnd(100) < 55);
		if (alloc)
			do_alloc(rnd(4) ? rnd(3) : rnd(9)); /* mostly small orders */
		else
			do_free(rnd(nlive));
		if (step % 2000 == 0)
			check_counters();
	}
	check_counters();
	free_all_randomly();
	check_counters();
	struct noos_mem_stats st = stats();
	CHECK(same_free_blocks(&st, &initial)); /* coalesced back to the initial blocks */
}

static void test_exhaustion(void)
{
	setup(false);
	struct noos_mem_stats st;
	/* Take every page as 64 KiB blocks, then single pages: the sum is all of it. */
	while (nlive < MAX_LIVE && do_alloc(4))
		;
	while (nlive < MAX_LIVE && do_alloc(0))
		;
	st = stats();
	CHECK(nlive < MAX_LIVE);
	CHECK(st.free_pages == 0);
	CHECK(buddy_alloc(b, 0) == NULL && buddy_alloc(b, 9) == NULL);
	CHECK(stats().failed_allocs >= 3);
	/* Recovery: a freed page is handed out again. */
	void *p = live[nlive - 1].p;
	do_free(nlive - 1);
	CHECK(buddy_alloc(b, 0) == p);
	buddy_free(b, p);
	check_counters();
	free_all_randomly();
	st = stats();
	CHECK(same_free_blocks(&st, &initial));
	/* Orders beyond what exists, or beyond the maximum, fail without panicking. */
	CHECK(buddy_alloc(b, BUDDY_MAX_ORDER) == NULL);
	CHECK(buddy_alloc(b, BUDDY_MAX_ORDER + 1) == NULL);
	CHECK(buddy_alloc(b, ~0u) == NULL);
	check_counters();
}

static void test_bad_ranges(void)
{
	uintptr_t a = (uintptr_t)arena;
	struct mem_range unsorted[2] = {{a + (8 << 20), 1 << 20}, {a, 1 << 20}};
	struct mem_range overlap[2] = {{a, 2 << 20}, {a + (1 << 20), 1 << 20}};
	struct mem_range unaligned[1] = {{a + 8, 1 << 20}};
	struct mem_range empty[1] = {{a, 0}};
	struct mem_range tiny[1] = {{a, PAGE_SIZE}}; /* no room for the metadata besides */
	struct mem_range wraps[1] = {{a, (uintptr_t)0 - a + PAGE_SIZE}};
	CHECK(buddy_init(unsorted, 2, false) == NULL);
	CHECK(buddy_init(overlap, 2, false) == NULL);
	CHECK(buddy_init(unaligned, 1, false) == NULL);
	CHECK(buddy_init(empty, 1, false) == NULL);
	CHECK(buddy_init(wraps, 1, false) == NULL);
	CHECK(buddy_init(NULL, 0, false) == NULL);
	struct buddy *t = buddy_init(tiny, 1, false);
	if (t) { /* the page holds only the metadata: nothing to hand out */
		struct noos_mem_stats st = {0};
		buddy_stats(t, &st);
		CHECK(st.total_pages == 0 && buddy_alloc(t, 0) == NULL);
	}
	/*
	 * A sparse map: a range 1 TiB above the arena would need a 1 GiB page
	 * map; it is left out (and never touched) instead of failing.
	 */
	struct mem_range sparse[2] = {{a, 1 << 20}, {a + (1ull << 40), PAGE_SIZE}};
	struct buddy *s = buddy_init(sparse, 2, false);
	CHECK(s != NULL);
	if (s) {
		struct noos_mem_stats st = {0};
		buddy_stats(s, &st);
		CHECK(st.total_pages == 255);
		CHECK(buddy_check(s) == NULL);
	}
}

static void test_detections(void)
{
	setup(true);
	uint8_t *p = buddy_alloc(b, 2), *q = buddy_alloc(b, 0);
	buddy_free(b, p);
	EXPECT_PANIC(buddy_free(b, p), "double free");
	EXPECT_PANIC(buddy_free(b, q + 8), "not page-aligned");
	EXPECT_PANIC(buddy_free(b, arena + ARENA_BYTES + PAGE_SIZE), "not memory it manages");
	EXPECT_PANIC(buddy_free(b, arena + (4ul << 20)), "not memory it manages"); /* the hole */
	p = buddy_alloc(b, 2);
	EXPECT_PANIC(buddy_free(b, p + PAGE_SIZE), "inside a block");
	buddy_free(b, p);
	buddy_free(b, q);
	CHECK(buddy_check(b) == NULL);
	CHECK(buddy_block_order(b, p) == -1 && buddy_block_order(b, p + 1) == -1);
}

/* Owner tags belong to the block's user; a fresh allocation starts untagged. */
static void test_owner(void)
{
	setup(false);
	uint8_t *p = buddy_alloc(b, 0);
	CHECK(buddy_owner(b, p) == 0);
	buddy_set_owner(b, p, 0x1234);
	CHECK(buddy_owner(b, p + 100) == 0x1234);
	buddy_free(b, p);
	CHECK(buddy_alloc(b, 0) == p && buddy_owner(b, p) == 0);
	buddy_free(b, p);
	CHECK(buddy_owner(b, arena) == 0); /* unmanaged */
	EXPECT_PANIC(buddy_set_owner(b, arena, 1), "does not manage");
}

/* A managed area of exactly one order-4 block, so what is freed is what comes back. */
static struct buddy *small_buddy(uintptr_t *block)
{
	uintptr_t a = ((uintptr_t)arena + (1 << 20)) & ~((uintptr_t)(1 << 20) - 1);
	struct mem_range r[2] = {{a, PAGE_SIZE}, {a + (64 << 10), 16 * PAGE_SIZE}};
	*block = a + (64 << 10);
	return buddy_init(r, 2, true); /* the first range holds just the metadata */
}

static void test_use_after_free(void)
{
	uintptr_t blk;
	struct buddy *t = small_buddy(&blk);
	uint8_t *p = buddy_alloc(t, 4);
	CHECK((uintptr_t)p == blk);
	buddy_free(t, p);
	p[8192 + 100] = 1; /* write after free */
	EXPECT_PANIC(buddy_alloc(t, 2), "use after free");

	t = small_buddy(&blk);
	p = buddy_alloc(t, 0);
	uint8_t *q = buddy_alloc(t, 0);
	buddy_free(t, p);
	buddy_free(t, q);
	CHECK(buddy_check(t) == NULL);
	memset((void *)blk, 0, 16); /* where free list links would be, in a block never poisoned */
	CHECK(buddy_check(t) == NULL); /* the links are in the page map: the lists are whole */

	/* A poisoned block is checked from its first byte: no links hide a write there. */
	t = small_buddy(&blk);
	buddy_free(t, buddy_alloc(t, 4));
	*(volatile uint8_t *)blk = 0;
	EXPECT_PANIC(buddy_alloc(t, 4), "use after free");

	/* The halves split off a poisoned block are checked too. */
	t = small_buddy(&blk);
	buddy_free(t, buddy_alloc(t, 4));
	p = buddy_alloc(t, 0); /* splits off halves at +4K, +8K, +16K and +32K */
	p[8192 + 100] = 1;     /* a write into the free half at +8K */
	EXPECT_PANIC(buddy_alloc(t, 1), "use after free");

	/* Blocks merged from poisoned halves stay poisoned, including the absorbed links. */
	t = small_buddy(&blk);
	p = buddy_alloc(t, 3);
	q = buddy_alloc(t, 3);
	buddy_free(t, q);
	buddy_free(t, p);
	p = buddy_alloc(t, 4); /* checks all 64 KiB: no false alarm */
	CHECK(p != NULL && buddy_check(t) == NULL);
}

/* Resident pages of [p, p + bytes), page-aligned p. */
static size_t resident_pages(void *p, size_t bytes)
{
	static unsigned char vec[(4ul << 20) / PAGE_SIZE];
	size_t n = bytes / PAGE_SIZE, count = 0;
	CHECK(n <= sizeof(vec) && mincore(p, bytes, vec) == 0);
	for (size_t i = 0; i < n && i < sizeof(vec); i++)
		count += vec[i] & 1;
	return count;
}

/*
 * Boot touches only what it needs: the allocator never reads or writes free
 * memory (it is mapped PROT_NONE here, so a touch is a crash), and of its
 * page map it zeroes a few chunks, not one entry per page of the span.
 */
static void test_untouched(void)
{
	const size_t span = 1ul << 30, meta_room = 4ul << 20;
	uint8_t *m =
	    mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(m != MAP_FAILED);
	if (m == MAP_FAILED)
		return;
	CHECK(mprotect(m, meta_room, PROT_READ | PROT_WRITE) == 0);
	struct mem_range r[2] = {
	    {(uintptr_t)m, meta_room},
	    {(uintptr_t)m + meta_room + PAGE_SIZE, span - meta_room - PAGE_SIZE}};
	struct buddy *t = buddy_init(r, 2, false);
	CHECK(t != NULL && buddy_meta_bytes(t) > (span >> PAGE_SHIFT) * 8);
	if (!t)
		return;
	/* A page map for 1 GiB is 3 MiB; boot wrote a chunk per initial free block. */
	CHECK(resident_pages(m, meta_room) < 64);
	void *p[BUDDY_ORDERS];
	for (unsigned k = 0; k < BUDDY_ORDERS; k++)
		p[k] = buddy_alloc(t, k); /* splits, pushes halves: all in the page map */
	CHECK(buddy_check(t) == NULL);
	for (unsigned k = 0; k < BUDDY_ORDERS; k++)
		if (p[k])
			buddy_free(t, p[k]);
	struct noos_mem_stats st = {0};
	buddy_stats(t, &st);
	CHECK(st.free_pages == st.total_pages && buddy_check(t) == NULL);
	CHECK(resident_pages(m, meta_room) < 256);
	munmap(m, span);
}

int main(void)
{
	srand(1);
	arena = aligned_alloc(ARENA_ALIGN, ARENA_BYTES);
	test_initial_blocks();
	test_random_model(false);
	test_random_model(true);
	test_exhaustion();
	test_bad_ranges();
	test_detections();
	test_owner();
	test_use_after_free();
	test_untouched();
	free(arena);
	return check_report("buddy");
}
