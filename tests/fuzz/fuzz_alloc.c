/*
 * libFuzzer target for the page allocator and the heap (rt/buddy.c,
 * rt/heap.c): the input picks the managed range and debug mode, then is read
 * as a sequence of operations (malloc, free, realloc, calloc, aligned
 * allocation, page alloc/free, trim) on up to SLOTS live blocks. After every
 * operation live blocks must not overlap; on free and realloc their
 * contents must be intact; at the end, with everything freed, the page
 * allocator must be back where it started and all its invariants hold.
 * Any panic (rt_host_stubs.c aborts) is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "noos.h"
#include "rt.h"

#define ARENA_BYTES (8ul << 20)
#define SLOTS       64
#define MARK        64 /* bytes checked at each end of a block */

struct slot {
	uint8_t *p;
	size_t size, usable;
	uint8_t seed;
	bool page; /* from buddy_alloc, not the heap */
};

struct input {
	const uint8_t *data;
	size_t len, pos;
};

static uint8_t *arena;
static struct buddy *b;
static struct heap *h;
static struct slot slots[SLOTS];

static unsigned byte(struct input *in)
{
	return in->pos < in->len ? in->data[in->pos++] : 0;
}

/* Sizes from tiny to beyond the arena, and values that overflow when multiplied. */
static size_t size_arg(struct input *in)
{
	unsigned scale = byte(in), v = byte(in) | byte(in) << 8;
	switch (scale % 8) {
	case 0:
		return v % 64;
	case 1:
	case 2:
		return v % 4096;
	case 3:
		return v;
	case 4:
		return (size_t)v << 6; /* up to 4 MiB */
	case 5:
		return (size_t)v << 8; /* up to 16 MiB: more than there is */
	case 6:
		return SIZE_MAX - v;
	default:
		return (size_t)1 << (v % 64);
	}
}

/* Bytes at both ends of a block get a pattern (index-based, so the two ends may overlap). */
static uint8_t pattern(const struct slot *s, size_t i)
{
	return (uint8_t)(s->seed + i * 31);
}

static size_t tail_start(size_t size)
{
	return size > 2 * MARK ? size - MARK : MARK;
}

static void mark(struct slot *s)
{
	for (size_t i = 0; i < s->size && i < MARK; i++)
		s->p[i] = pattern(s, i);
	for (size_t i = tail_start(s->size); i < s->size; i++)
		s->p[i] = pattern(s, i);
}

/* The marked bytes below n are intact (n < size after a shrinking realloc). */
static void check_marks(const struct slot *s, size_t n)
{
	for (size_t i = 0; i < n && i < MARK; i++)
		if (s->p[i] != pattern(s, i))
			abort();
	for (size_t i = tail_start(s->size); i < n; i++)
		if (s->p[i] != pattern(s, i))
			abort();
}

static void check_no_overlap(void)
{
	for (unsigned i = 0; i < SLOTS; i++)
		for (unsigned j = i + 1; slots[i].p && j < SLOTS; j++)
			if (slots[j].p && slots[i].p < slots[j].p + slots[j].usable &&
			    slots[j].p < slots[i].p + slots[i].usable)
				abort();
}

static void release(struct slot *s)
{
	if (!s->p)
		return;
	check_marks(s, s->size);
	if (s->page)
		buddy_free(b, s->p);
	else
		heap_free(h, s->p);
	s->p = NULL;
}

static void placed(struct slot *s, void *p, size_t size, bool page, size_t usable, uint8_t seed)
{
	*s = (struct slot){p, size, usable, seed, page};
	if (usable < size)
		abort();
	mark(s);
}

static void op_alloc(struct slot *s, unsigned op, struct input *in)
{
	size_t size = size_arg(in), n = size, align = 0;
	void *p;
	release(s);
	if (op == 1) {
		n = size_arg(in);
		p = heap_calloc(h, n, size);
		size = p ? n * size : 0;
		for (size_t i = 0; p && i < size && i < 4096; i++)
			if (((uint8_t *)p)[i] != 0)
				abort();
	} else if (op == 2) {
		align = (size_t)1 << (byte(in) % 24);
		p = heap_memalign(h, align, size);
		if (p && ((uintptr_t)p & (align - 1)))
			abort();
	} else {
		p = heap_alloc(h, size);
	}
	if (p)
		placed(s, p, size ? size : 1, false, heap_usable_size(h, p), byte(in));
}

static void op_realloc(struct slot *s, struct input *in)
{
	if (!s->p || s->page)
		return;
	size_t size = size_arg(in) | 1;
	uint8_t *p = heap_realloc(h, s->p, size);
	if (!p) {
		check_marks(s, s->size); /* a failed realloc leaves the block alone */
		return;
	}
	s->p = p;
	check_marks(s, size < s->size ? size : s->size);
	placed(s, p, size, false, heap_usable_size(h, p), s->seed + 1);
}

static void op_pages(struct slot *s, struct input *in)
{
	unsigned order = byte(in) % 12;
	release(s);
	void *p = buddy_alloc(b, order);
	if (p) {
		if (buddy_block_order(b, p) != (int)order ||
		    ((uintptr_t)p & ((PAGE_SIZE << order) - 1)))
			abort();
		placed(s, p, PAGE_SIZE << order, true, PAGE_SIZE << order, byte(in));
	}
}

static void step(struct input *in)
{
	unsigned op = byte(in), which = byte(in) % SLOTS;
	struct slot *s = &slots[which];
	switch (op % 8) {
	case 0:
	case 1:
	case 2:
		op_alloc(s, op % 8, in);
		break;
	case 3:
		release(s);
		break;
	case 4:
	case 5:
		op_realloc(s, in);
		break;
	case 6:
		op_pages(s, in);
		break;
	default:
		heap_trim(h);
	}
	check_no_overlap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct input in = {data, len, 0};
	if (!arena)
		arena = aligned_alloc(1 << 20, ARENA_BYTES);
	/* A range with ends the input chooses, so block alignment varies. */
	size_t lo = byte(&in) % 64 * PAGE_SIZE, hi = byte(&in) % 64 * PAGE_SIZE;
	struct mem_range r = {(uintptr_t)arena + lo, ARENA_BYTES - lo - hi};
	bool debug = byte(&in) & 1;
	b = buddy_init(&r, 1, debug);
	h = b ? heap_init(b, debug) : NULL;
	if (!h)
		abort();
	struct noos_mem_stats start = {0}, end = {0};
	buddy_stats(b, &start);
	memset(slots, 0, sizeof(slots));
	while (in.pos < in.len)
		step(&in);
	unsigned heap_live = 0;
	for (unsigned i = 0; i < SLOTS; i++)
		heap_live += slots[i].p && !slots[i].page;
	heap_stats(h, &end);
	if (end.heap_objects != heap_live || buddy_check(b))
		abort();
	for (unsigned i = 0; i < SLOTS; i++)
		release(&slots[i]);
	heap_trim(h);
	buddy_stats(b, &end);
	heap_stats(h, &end);
	if (end.free_pages != start.free_pages || end.heap_pages || end.heap_bytes ||
	    memcmp(end.free_blocks, start.free_blocks, sizeof(end.free_blocks)) || buddy_check(b))
		abort();
	return 0;
}
