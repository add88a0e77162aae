/*
 * Host benchmark (not a test): nanoseconds per alloc/free pair of the page
 * allocator and the heap, single thread, over a 256 MiB arena of host memory.
 *   build/<dir>/tests/host/bench_alloc
 * "pair" allocates and frees at once (the worst case for a buddy allocator:
 * the page is split off and merged back every time); "batch" allocates 1000,
 * then frees them in random order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "noos.h"
#include "rt.h"

#define ARENA_BYTES (256ul << 20)
#define BATCH       1000

static uint8_t *arena;
static void *ptrs[BATCH];
static unsigned perm[BATCH];

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static struct buddy *fresh(bool debug)
{
	struct mem_range r = {(uintptr_t)arena, ARENA_BYTES};
	return buddy_init(&r, 1, debug);
}

static void shuffle(void)
{
	for (unsigned i = 0; i < BATCH; i++)
		perm[i] = i;
	for (unsigned i = BATCH - 1; i > 0; i--) {
		unsigned j = rand() % (i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
}

static void bench_pages(bool debug, unsigned rounds)
{
	struct buddy *b = fresh(debug);
	double t0 = now_ns();
	for (unsigned i = 0; i < rounds * BATCH; i++)
		buddy_free(b, buddy_alloc(b, 0));
	double pair = (now_ns() - t0) / (rounds * BATCH);
	t0 = now_ns();
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < BATCH; i++)
			ptrs[i] = buddy_alloc(b, 0);
		for (unsigned i = 0; i < BATCH; i++)
			buddy_free(b, ptrs[perm[i]]);
	}
	double batch = (now_ns() - t0) / (rounds * BATCH);
	printf("pages (4 KiB)%s: %6.1f ns/pair, %6.1f ns/pair in batches of %d\n",
	       debug ? ", debug" : "       ", pair, batch, BATCH);
}

static void bench_heap(bool debug, unsigned rounds, size_t lo, size_t hi)
{
	struct heap *h = heap_init(fresh(debug), debug);
	double t0 = now_ns();
	for (unsigned i = 0; i < rounds * BATCH; i++)
		heap_free(h, heap_alloc(h, lo));
	double pair = (now_ns() - t0) / (rounds * BATCH);
	static size_t sizes[BATCH];
	for (unsigned i = 0; i < BATCH; i++)
		sizes[i] = lo + rand() % (hi - lo + 1);
	t0 = now_ns();
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned i = 0; i < BATCH; i++)
			ptrs[i] = heap_alloc(h, sizes[i]);
		for (unsigned i = 0; i < BATCH; i++)
			heap_free(h, ptrs[perm[i]]);
	}
	double batch = (now_ns() - t0) / (rounds * BATCH);
	printf("heap %4zu..%-4zu B%s: %6.1f ns/pair (%zu B), %6.1f ns/pair in batches of %d\n", lo,
	       hi, debug ? ", debug" : "       ", pair, lo, batch, BATCH);
}

int main(void)
{
	srand(3);
	arena = aligned_alloc(2ul << 20, ARENA_BYTES);
	memset(arena, 0, ARENA_BYTES); /* fault the arena in before timing */
	shuffle();
	bench_pages(false, 2000);
	bench_heap(false, 2000, 32, 32);
	bench_heap(false, 2000, 16, 512);
	bench_pages(true, 200);
	bench_heap(true, 200, 32, 32);
	free(arena);
	return 0;
}
