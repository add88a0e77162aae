/*
 * rt/heap.c on rt/buddy.c over a host arena: size classes, large blocks,
 * realloc, calloc overflow, aligned allocation, a random model (no overlap,
 * contents kept, counters right), exhaustion and recovery, and the
 * detections (double free, foreign pointers, use after free).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "noos.h"
#include "panic_catch.h"
#include "rt.h"

#define ARENA_BYTES (32ul << 20)
#define MAX_LIVE    2048

static uint8_t *arena;
static struct buddy *b;
static struct heap *h;
static uint64_t pages_after_init; /* free pages once the heap exists */

static uint64_t rnd(uint64_t n)
{
	return ((uint64_t)rand() << 31 ^ (uint64_t)rand()) % n;
}

static struct noos_mem_stats stats(void)
{
	struct noos_mem_stats st = {0};
	buddy_stats(b, &st);
	heap_stats(h, &st);
	return st;
}

static void setup_bytes(size_t bytes, bool debug)
{
	struct mem_range r = {(uintptr_t)arena, bytes};
	b = buddy_init(&r, 1, debug);
	h = b ? heap_init(b, debug) : NULL;
	CHECK(h != NULL);
	pages_after_init = stats().free_pages;
}

/* Everything freed and trimmed: the page allocator has all its pages back. */
static void check_all_returned(void)
{
	heap_trim(h);
	struct noos_mem_stats st = stats();
	CHECK(st.heap_objects == 0 && st.heap_bytes == 0 && st.heap_pages == 0);
	CHECK(st.free_pages == pages_after_init);
	const char *err = buddy_check(b);
	CHECK_MSG(err == NULL, "%s", err);
}

static void test_classes(void)
{
	setup_bytes(ARENA_BYTES, false);
	size_t prev = 0;
	for (size_t n = 0; n <= 20000; n += n < 4200 ? 1 : 97) {
		uint8_t *p = heap_alloc(h, n);
		size_t u = heap_usable_size(h, p);
		CHECK_MSG(p && u >= n && ((uintptr_t)p & 15) == 0, "size %zu", n);
		CHECK(u >= prev); /* usable sizes grow with the request */
		if (n <= 128)
			CHECK_MSG(u == (n ? (n + 15) / 16 * 16 : 16), "size %zu -> %zu", n, u);
		else if (n <= 3584)
			CHECK_MSG(u - n < u / 4 + 16, "size %zu wastes %zu", n, u - n); /* <= 25% */
		else
			CHECK_MSG(
			    u == (size_t)PAGE_SIZE
			             << (n > 4096 ? 64 - __builtin_clzl((n - 1) / PAGE_SIZE) : 0),
			    "size %zu -> %zu", n, u);
		memset(p, 0x5a, n);
		heap_free(h, p);
		prev = u;
	}
	uint8_t *big = heap_alloc(h, 1 << 20);
	CHECK(big && ((uintptr_t)big & (PAGE_SIZE - 1)) == 0 &&
	      heap_usable_size(h, big) == 1 << 20);
	heap_free(h, big);
	check_all_returned();
}

/* Freeing a class's objects gives its slabs back to the page allocator, all but one. */
static void test_slab_release(void)
{
	static void *ptrs[5000];
	setup_bytes(ARENA_BYTES, false);
	for (int i = 0; i < 5000; i++)
		ptrs[i] = heap_alloc(h, 64);
	CHECK(stats().heap_pages >= 5000 / 63);
	for (int i = 0; i < 5000; i++)
		heap_free(h, ptrs[(i * 7) % 5000]);
	CHECK(stats().heap_pages == 1); /* the one empty slab kept for the next malloc */
	check_all_returned();
}

/*
 * A population that swings reuses its slabs: emptied slabs are kept, up to a
 * quarter of those in use, and handed out again before new pages are taken.
 */
static void test_slab_reuse(void)
{
	static void *ptrs[400];
	setup_bytes(ARENA_BYTES, false);
	for (int i = 0; i < 400; i++)
		ptrs[i] = heap_alloc(h, 1700); /* 1792-byte class: two per one-page slab */
	uint64_t peak = stats().heap_pages;
	CHECK(peak == 200);
	for (int i = 0; i < 80; i++)
		heap_free(h, ptrs[i]); /* 40 slabs emptied: within 1 + 160 / 4 */
	CHECK(stats().heap_pages == peak);
	for (int i = 0; i < 80; i++)
		ptrs[i] = heap_alloc(h, 1700);
	CHECK(stats().heap_pages == peak); /* the emptied slabs, not new pages */
	for (int i = 0; i < 300; i++)
		heap_free(h, ptrs[i]); /* 150 emptied, 50 in use: at most 1 + 50 / 4 kept */
	CHECK(stats().heap_pages <= 50 + 1 + 50 / 4);
	for (int i = 300; i < 400; i++)
		heap_free(h, ptrs[i]);
	CHECK(stats().heap_pages == 1);
	check_all_returned();
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static bool intact(const uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (uint8_t)(seed + i * 7))
			return false;
	return true;
}

static void test_realloc_calloc(void)
{
	setup_bytes(ARENA_BYTES, true);
	uint8_t *p = heap_realloc(h, NULL, 40); /* realloc(NULL) is malloc */
	fill(p, 40, 1);
	CHECK(heap_realloc(h, p, 48) == p); /* same class: in place */
	p = heap_realloc(h, p, 3000);       /* grow: moved, contents kept */
	CHECK(p && intact(p, 40, 1));
	fill(p, 3000, 2);
	p = heap_realloc(h, p, 100000); /* small -> large */
	CHECK(p && intact(p, 3000, 2) && ((uintptr_t)p & (PAGE_SIZE - 1)) == 0);
	fill(p, 100000, 3);
	CHECK(heap_realloc(h, p, 120000) == p); /* still fits its 128 KiB block */
	p = heap_realloc(h, p, 20);             /* large -> small: prefix kept */
	CHECK(p && intact(p, 20, 3) && heap_usable_size(h, p) == 32);
	CHECK(heap_realloc(h, p, 0) == NULL); /* frees */
	CHECK(stats().heap_objects == 0);
	CHECK(heap_realloc(h, heap_alloc(h, 8), (size_t)-1) == NULL); /* too big: NULL, old kept */
	CHECK(stats().heap_objects == 1);

	CHECK(heap_calloc(h, SIZE_MAX / 2, 3) == NULL); /* n * size overflows */
	CHECK(heap_calloc(h, 1ul << 40, 1ul << 30) == NULL);
	CHECK(heap_alloc(h, SIZE_MAX) == NULL);
	uint8_t *d = heap_alloc(h, 500);
	memset(d, 0xff, 500);
	heap_free(h, d);
	uint8_t *z = heap_calloc(h, 125, 4);
	CHECK(z != NULL);
	for (int i = 0; z && i < 500; i++)
		CHECK(z[i] == 0);
	heap_free(h, z);
}

static void test_aligned(void)
{
	setup_bytes(ARENA_BYTES, false);
	for (size_t align = 1; align <= (1 << 20); align <<= 1) {
		for (size_t size = 1; size < 20000; size = size * 3 + 1) {
			void *p = heap_memalign(h, align, size);
			CHECK_MSG(p && ((uintptr_t)p & (align - 1)) == 0, "align %zu size %zu",
			          align, size);
			CHECK(heap_usable_size(h, p) >= size);
			memset(p, 1, size);
			heap_free(h, p);
		}
	}
	CHECK(heap_memalign(h, 24, 10) == NULL); /* not a power of two */
	CHECK(heap_memalign(h, 0, 10) == NULL);
	check_all_returned();
}

struct obj {
	uint8_t *p;
	size_t size;
	uint8_t seed;
};

static size_t random_size(void)
{
	switch (rnd(10)) {
	case 0:
		return rnd(300000);
	case 1:
	case 2:
		return rnd(4000);
	default:
		return rnd(200);
	}
}

static int cmp_obj(const void *a, const void *c)
{
	const struct obj *x = a, *y = c;
	return x->p < y->p ? -1 : x->p > y->p;
}

/* No two live blocks overlap, each is intact, and the counters agree. */
static void check_model(struct obj *live, unsigned n)
{
	static struct obj sorted[MAX_LIVE];
	memcpy(sorted, live, n * sizeof(*live));
	qsort(sorted, n, sizeof(*sorted), cmp_obj);
	uint64_t bytes = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t u = heap_usable_size(h, sorted[i].p);
		bytes += u;
		CHECK(intact(sorted[i].p, sorted[i].size, sorted[i].seed));
		if (i + 1 < n)
			CHECK(sorted[i].p + u <= sorted[i + 1].p);
	}
	struct noos_mem_stats st = stats();
	CHECK(st.heap_objects == n && st.heap_bytes == bytes);
	CHECK(buddy_check(b) == NULL);
}

static void random_step(struct obj *live, unsigned *n)
{
	unsigned op = rnd(10);
	if (*n == 0 || (op < 4 && *n < MAX_LIVE)) {
		struct obj o = {NULL, random_size(), (uint8_t)rnd(256)};
		o.p = rnd(5) ? heap_alloc(h, o.size) : heap_memalign(h, 1ul << rnd(13), o.size);
		if (o.p) {
			fill(o.p, o.size, o.seed);
			live[(*n)++] = o;
		}
	} else if (op < 7) {
		unsigned i = rnd(*n);
		CHECK(intact(live[i].p, live[i].size, live[i].seed));
		heap_free(h, live[i].p);
		live[i] = live[--*n];
	} else {
		struct obj *o = &live[rnd(*n)];
		size_t size = random_size() + 1;
		uint8_t *p = heap_realloc(h, o->p, size);
		size_t kept = size < o->size ? size : o->size;
		if (p) {
			CHECK(intact(p, kept, o->seed));
			o->p = p;
			o->size = size;
			fill(p, size, o->seed);
		} else {
			CHECK(
			    intact(o->p, o->size, o->seed)); /* a failed realloc leaves it alone */
		}
	}
}

static void test_random_model(bool debug, size_t arena_bytes)
{
	static struct obj live[MAX_LIVE];
	unsigned n = 0;
	setup_bytes(arena_bytes, debug);
	for (int step = 0; step < 30000; step++) {
		random_step(live, &n);
		if (step % 3000 == 0)
			check_model(live, n);
	}
	check_model(live, n);
	while (n)
		heap_free(h, live[--n].p);
	check_all_returned();
}

/* How many 16 KiB blocks fit; all freed again. */
static unsigned count_large(void **ptrs)
{
	unsigned n = 0;
	while (n < 100 && (ptrs[n] = heap_alloc(h, 10000)))
		n++;
	for (unsigned i = 0; i < n; i++)
		heap_free(h, ptrs[i]);
	return n;
}

static void test_exhaustion(void)
{
	static void *ptrs[1 << 16];
	unsigned n = 0;
	setup_bytes(1 << 20, false); /* 1 MiB: runs out quickly */
	while (n < (1 << 16) && (ptrs[n] = heap_alloc(h, 64)))
		n++;
	CHECK(n > 10000 && n < (1 << 16));
	CHECK(heap_alloc(h, 64) == NULL && heap_alloc(h, 100000) == NULL);
	CHECK(heap_calloc(h, 10, 10) == NULL && heap_memalign(h, 4096, 64) == NULL);
	heap_free(h, ptrs[--n]);
	CHECK((ptrs[n] = heap_alloc(h, 64)) != NULL); /* recovers */
	n++;
	while (n)
		heap_free(h, ptrs[--n]);
	check_all_returned();
	/* 16 KiB blocks until none fit, then back. */
	unsigned fresh = count_large(ptrs);
	CHECK(fresh > 50 && fresh < 100);
	check_all_returned();
	/*
	 * The empty slabs the heap keeps (one per class) are given back when a
	 * large block needs their pages: as many blocks fit as on a fresh heap.
	 */
	for (n = 0; n < 2000; n++)
		ptrs[n] = heap_alloc(h, 16 + n % 3000);
	while (n)
		heap_free(h, ptrs[--n]);
	CHECK(stats().heap_pages > 0);
	CHECK(count_large(ptrs) == fresh);
	check_all_returned();
}

static void test_detections(void)
{
	setup_bytes(ARENA_BYTES, true);
	int on_stack;
	uint8_t *p = heap_alloc(h, 100), *q = heap_alloc(h, 100);
	heap_free(h, p);
	EXPECT_PANIC(heap_free(h, p), "already freed");
	EXPECT_PANIC(heap_free(h, q + 16), "not the start");
	EXPECT_PANIC(heap_free(h, &on_stack), "not a pointer the heap gave out");
	EXPECT_PANIC(heap_free(h, arena + ARENA_BYTES + 64), "not a pointer the heap gave out");
	uint8_t *page = buddy_alloc(b, 0); /* pages, but not the heap's */
	EXPECT_PANIC(heap_free(h, page), "not a pointer the heap gave out");
	EXPECT_PANIC(heap_free(h, h), "not a pointer the heap gave out");
	uint8_t *big = heap_alloc(h, 3 * PAGE_SIZE);
	EXPECT_PANIC(heap_free(h, big + PAGE_SIZE), "not a pointer the heap gave out");
	EXPECT_PANIC(heap_free(h, big + 8), "not the start");
	heap_free(h, big);
	EXPECT_PANIC(heap_free(h, big), "not a pointer the heap gave out"); /* large double free */
	EXPECT_PANIC(heap_realloc(h, p, 10), "already freed");
	EXPECT_PANIC(heap_usable_size(h, &on_stack), "not a pointer");
	/* Use after free: a write into a freed object is found when it is handed out again. */
	uint8_t *r = heap_alloc(h, 100);
	heap_free(h, r);
	r[50] = 0;
	EXPECT_PANIC(heap_alloc(h, 100), "written at +50 after it was freed");
	/* The check covers the whole object (100 bytes round up to 112), to its last byte. */
	r = heap_alloc(h, 100);
	heap_free(h, r);
	r[111] = 0;
	EXPECT_PANIC(heap_alloc(h, 100), "written at +111 after it was freed");
	/* The heap still works after all of that. */
	void *s = heap_alloc(h, 200);
	CHECK(s != NULL);
	heap_free(h, s);
	heap_free(h, q);
	buddy_free(b, page);
	CHECK(buddy_check(b) == NULL);
	CHECK(heap_alloc(NULL, 10) == NULL); /* no heap: NULL, not a crash */
	heap_free(NULL, NULL);
	EXPECT_PANIC(heap_free(NULL, q), "no heap");
}

int main(void)
{
	srand(2);
	arena = aligned_alloc(2ul << 20, ARENA_BYTES);
	test_classes();
	test_slab_release();
	test_slab_reuse();
	test_realloc_calloc();
	test_aligned();
	test_random_model(false, ARENA_BYTES);
	test_random_model(true, ARENA_BYTES);
	test_random_model(true, 3 << 20); /* tight: allocations fail often */
	test_exhaustion();
	test_detections();
	free(arena);
	return check_report("heap");
}
