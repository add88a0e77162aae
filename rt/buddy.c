/*
 * The buddy page allocator (Knowlton 1965; Knuth, TAOCP vol. 1 §2.5,
 * algorithms R and S): memory in blocks of PAGE_SIZE << order bytes, each
 * aligned to its own size, so a block's buddy is found by flipping one
 * address bit. Allocation splits the smallest free block that fits, freeing
 * merges a block with its buddy for as long as the buddy is free too.
 *
 * Addresses are plain addresses in the caller's address space: the kernel
 * passes its directly mapped RAM, host tests pass an arena of their own.
 *
 * Metadata: 12 bytes per page (struct page) in one array, the page map,
 * covering the span from the lowest to the highest managed address, holes
 * included, carved from the managed memory itself. The free lists live in the
 * page map too (page numbers, not pointers into the blocks), so the allocator
 * never reads or writes a free block: memory is first touched by whoever is
 * handed it. That matters at boot, where every first touch of a guest page
 * can cost the VMM a host page fault (under QEMU TCG, the zeroing of a 2 MiB
 * huge page): buddy_init() touches its own metadata only, and not all of that.
 *
 * The page map is zeroed lazily, MAP_CHUNK entries at a time, the first time
 * an entry of a chunk is written; a bitmap says which chunks are. An entry in
 * a chunk never written reads as zero (PG_NONE, no owner), which is what
 * zeroing it would have written. Boot then zeroes a chunk per initial free
 * block instead of a page map sized by all of RAM.
 *
 * Debug mode (buddy_init(.., debug = true)) fills freed blocks with a poison
 * pattern and checks it when they are handed out again, so a write after free
 * is reported instead of silently corrupting the next user. Blocks that were
 * never freed since boot are not poisoned (that would cost a pass over all of
 * RAM at boot) and are not checked.
 */
#include <string.h>

#include "noos.h"
#include "rt.h"

_Static_assert(NOOS_MEM_ORDERS == BUDDY_ORDERS, "noos_mem_stats has one counter per order");

#define BUDDY_POISON      0xa5
#define BUDDY_POISON_WORD 0xa5a5a5a5a5a5a5a5ull

enum page_state {
	PG_NONE, /* not the first page of a block: inside one, or not managed (zero: cheap init) */
	PG_FREE, /* first page of a free block */
	PG_USED, /* first page of an allocated block */
};
#define PG_STATE    0x0f
#define PG_POISONED 0x80 /* with PG_FREE: the block holds the poison pattern */

/* What the allocator knows about one 4 KiB page. Guarded by buddy.lock, except owner. */
struct page {
	uint32_t next, prev; /* PG_FREE: the free list of its order, page numbers or PAGE_NIL */
	uint8_t order;       /* first page of a block: its order */
	uint8_t state;       /* enum page_state, | PG_POISONED */
	uint16_t owner;      /* set by the block's allocator (the heap); 0 after buddy_alloc */
};
#define PAGE_NIL UINT32_MAX /* end of a free list; page numbers stay below (span_ok) */

/* Page map entries zeroed at a time (3 KiB of page map, 1 MiB of memory). */
#define MAP_CHUNK 256

struct buddy {
	struct spinlock lock; /* guards everything below and page state/order */
	bool debug;
	uintptr_t base, end; /* pages[] describes [base, end) */
	struct page *pages;
	struct mem_range *ranges; /* what is managed: sorted, disjoint (for checks only) */
	unsigned nranges;
	uint64_t *map_ready;              /* bit per MAP_CHUNK entries of pages[]: zeroed */
	uint32_t free_head[BUDDY_ORDERS]; /* first page of each order's free list, or PAGE_NIL */
	uint64_t nfree[BUDDY_ORDERS];     /* free blocks per order */
	uint64_t nused[BUDDY_ORDERS];     /* allocated blocks per order */
	uint64_t total_pages, free_pages, failed;
	size_t meta_bytes; /* this struct, ranges[], map_ready[] and pages[] */
};

static size_t block_bytes(unsigned order)
{
	return PAGE_SIZE << order;
}

/* The page number of a: its index in pages[]. */
static uint32_t pfn(const struct buddy *b, uintptr_t a)
{
	return (uint32_t)((a - b->base) >> PAGE_SHIFT);
}

static uintptr_t pfn_addr(const struct buddy *b, uint32_t i)
{
	return b->base + ((uintptr_t)i << PAGE_SHIFT);
}

/* Whether the chunk of page map entry i was zeroed (acquire: buddy_owner takes no lock). */
static bool map_ready(const struct buddy *b, uint32_t i)
{
	uint32_t c = i / MAP_CHUNK;
	return (__atomic_load_n(&b->map_ready[c / 64], __ATOMIC_ACQUIRE) >> (c % 64)) & 1;
}

/* The entry of the page holding a, for reading: one in a chunk never written reads as zero. */
static const struct page *page_get(const struct buddy *b, uintptr_t a)
{
	static const struct page never_written;
	uint32_t i = pfn(b, a);
	return map_ready(b, i) ? &b->pages[i] : &never_written;
}

/* The entry of the page holding a, for writing (b->lock held): its chunk is zeroed first. */
static struct page *page_of(struct buddy *b, uintptr_t a)
{
	uint32_t i = pfn(b, a), c = i / MAP_CHUNK;
	if (!map_ready(b, i)) {
		uint64_t *w = (uint64_t *)&b->pages[c * MAP_CHUNK];
		for (size_t k = 0; k < MAP_CHUNK * sizeof(struct page) / sizeof(*w); k++)
			w[k] = 0; /* word stores: rt's memset goes byte by byte */
		__atomic_fetch_or(&b->map_ready[c / 64], 1ull << (c % 64), __ATOMIC_RELEASE);
	}
	return &b->pages[i];
}

/* Whether pages[] describes a: cheap, for the hot paths. Holes are in the span. */
static bool in_span(const struct buddy *b, uintptr_t a)
{
	return a >= b->base && a < b->end;
}

/* Whether a is in memory the allocator manages (not a hole, not its metadata). */
static bool in_ranges(const struct buddy *b, uintptr_t a)
{
	unsigned lo = 0, hi = b->nranges;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (a < b->ranges[mid].base)
			hi = mid;
		else if (a - b->ranges[mid].base >= b->ranges[mid].size)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Report a broken invariant or a bad free; the lock is released so a host test can go on. */
#define buddy_panic(b, ...)                                                                        \
	do {                                                                                       \
		spin_unlock(&(b)->lock);                                                           \
		panic(__VA_ARGS__);                                                                \
	} while (0)

/* ---- free lists ---- */

/* Push the free block a on its order's list: only the page map is written, never the block. */
static void free_push(struct buddy *b, uintptr_t a, unsigned order, uint8_t poisoned)
{
	struct page *p = page_of(b, a);
	uint32_t i = pfn(b, a), first = b->free_head[order];
	p->next = first;
	p->prev = PAGE_NIL;
	if (first != PAGE_NIL)
		b->pages[first].prev = i; /* a free head: its chunk is zeroed */
	b->free_head[order] = i;
	p->state = PG_FREE | poisoned;
	p->order = order;
	b->nfree[order]++;
}

/* The link from i's neighbour back to i: the neighbour's entry, or the list head. */
static uint32_t *link_to(struct buddy *b, uint32_t neighbour, unsigned order, bool prev)
{
	if (neighbour == PAGE_NIL)
		return prev ? &b->free_head[order] : NULL;
	return prev ? &b->pages[neighbour].next : &b->pages[neighbour].prev;
}

static bool link_ok(const struct buddy *b, uint32_t l)
{
	return l == PAGE_NIL || l < pfn(b, b->end);
}

/* Unlink a free block; the links are checked, a stray write into the page map lands there. */
static void free_unlink(struct buddy *b, uintptr_t a, unsigned order)
{
	uint32_t i = pfn(b, a);
	struct page *p = &b->pages[i];
	uint32_t *from_prev = NULL, *from_next = NULL;
	if (link_ok(b, p->next) && link_ok(b, p->prev)) {
		from_prev = link_to(b, p->prev, order, true);
		from_next = link_to(b, p->next, order, false);
	}
	if (!from_prev || *from_prev != i || (from_next && *from_next != i))
		buddy_panic(b, "page allocator: free list of order %u corrupted at %p", order,
		            (void *)a);
	*from_prev = p->next;
	if (from_next)
		*from_next = p->prev;
	b->nfree[order]--;
}

/* ---- poison (debug mode) ---- */

/* A poisoned free block holds the poison in every byte (its list links are in the page map). */
static void poison_check(uintptr_t a, unsigned order)
{
	const uint64_t *w = (const uint64_t *)a;
	size_t words = block_bytes(order) / sizeof(*w);
	for (size_t i = 0; i < words; i++)
		if (w[i] != BUDDY_POISON_WORD)
			panic("page allocator: use after free: the free block %p (order %u) "
			      "was written at +%#lx after it was freed",
			      (void *)a, order, (unsigned long)(i * sizeof(*w)));
}

/* ---- allocation ---- */

/* Take a free block of exactly this order, splitting a larger one (Knuth's R3). */
static uintptr_t take_block(struct buddy *b, unsigned order, uint8_t *poisoned)
{
	unsigned k = order;
	while (k < BUDDY_ORDERS && b->free_head[k] == PAGE_NIL)
		k++;
	if (k == BUDDY_ORDERS)
		return 0;
	uintptr_t a = pfn_addr(b, b->free_head[k]);
	*poisoned = page_get(b, a)->state & PG_POISONED;
	free_unlink(b, a, k);
	while (k > order) {
		k--;
		free_push(b, a + block_bytes(k), k, *poisoned);
	}
	return a;
}

/* A block of PAGE_SIZE << order bytes aligned to its size, or NULL when none is free. */
void *buddy_alloc(struct buddy *b, unsigned order)
{
	if (order > BUDDY_MAX_ORDER)
		return NULL;
	/*
	 * Per-CPU cache hook (issue 5, SMP): order-0 requests will first take a
	 * page from this CPU's own short list without b->lock, refilled from
	 * here in batches; buddy_free() will put single pages back on it. With
	 * one CPU running there is nothing to cache yet.
	 */
	uint8_t poisoned = 0;
	spin_lock(&b->lock);
	uintptr_t a = take_block(b, order, &poisoned);
	if (!a) {
		b->failed++;
		spin_unlock(&b->lock);
		return NULL;
	}
	struct page *p = page_of(b, a);
	p->state = PG_USED;
	p->order = order;
	p->owner = 0;
	b->nused[order]++;
	b->free_pages -= 1ul << order;
	spin_unlock(&b->lock);
	if (poisoned)
		poison_check(a, order); /* the block is ours: no lock needed */
	return (void *)a;
}

/* ---- freeing ---- */

/* The order of the allocated block starting at a; panics on anything else. */
static unsigned used_order(struct buddy *b, uintptr_t a)
{
	if (a & (PAGE_SIZE - 1))
		buddy_panic(b, "page allocator: free of %p: not page-aligned", (void *)a);
	if (!in_ranges(b, a))
		buddy_panic(b, "page allocator: free of %p: not memory it manages", (void *)a);
	const struct page *p = page_get(b, a);
	switch (p->state & PG_STATE) {
	case PG_USED:
		return p->order;
	case PG_FREE:
		buddy_panic(b, "page allocator: double free of %p (order %u)", (void *)a, p->order);
	default:
		buddy_panic(b, "page allocator: free of %p: inside a block, not its start",
		            (void *)a);
	}
}

/* Merge the free block a with its buddy while the buddy is free and whole (Knuth's S1-S3). */
static void merge_and_push(struct buddy *b, uintptr_t a, unsigned order, uint8_t poisoned)
{
	while (order < BUDDY_MAX_ORDER) {
		uintptr_t buddy = a ^ block_bytes(order);
		if (!in_span(b, buddy))
			break;
		const struct page *bp = page_get(b, buddy);
		if ((bp->state & PG_STATE) != PG_FREE || bp->order != order)
			break;
		free_unlink(b, buddy, order);
		poisoned &= bp->state;
		page_of(b, a > buddy ? a : buddy)->state = PG_NONE;
		a = a < buddy ? a : buddy;
		order++;
	}
	free_push(b, a, order, poisoned);
}

void buddy_free(struct buddy *b, void *ptr)
{
	uintptr_t a = (uintptr_t)ptr;
	/* Per-CPU cache hook (issue 5, SMP): single pages will go to this CPU's list here. */
	spin_lock(&b->lock);
	unsigned order = used_order(b, a);
	page_of(b, a)->state = PG_NONE;
	b->nused[order]--;
	b->free_pages += 1ul << order;
	uint8_t poisoned = 0;
	if (b->debug) {
		memset(ptr, BUDDY_POISON, block_bytes(order));
		poisoned = PG_POISONED;
	}
	merge_and_push(b, a, order, poisoned);
	spin_unlock(&b->lock);
}

/* ---- set-up ---- */

/* Hand [s, e) to the free lists as the largest aligned blocks that fit. */
static void add_free_range(struct buddy *b, uintptr_t s, uintptr_t e)
{
	b->total_pages += (e - s) >> PAGE_SHIFT;
	b->free_pages += (e - s) >> PAGE_SHIFT;
	while (s < e) {
		unsigned k = 0;
		while (k < BUDDY_MAX_ORDER && (s & (block_bytes(k + 1) - 1)) == 0 &&
		       e - s >= block_bytes(k + 1))
			k++;
		free_push(b, s, k, 0);
		s += block_bytes(k);
	}
}

/* Ranges must be page-aligned, non-empty, sorted and disjoint (what pmm.c produces). */
static bool ranges_ok(const struct mem_range *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (r[i].size == 0 || ((r[i].base | r[i].size) & (PAGE_SIZE - 1)) ||
		    r[i].size > UINTPTR_MAX - r[i].base)
			return false;
		if (i > 0 && r[i].base < r[i - 1].base + r[i - 1].size)
			return false;
	}
	return true;
}

/* Page map chunks of a span, rounded up: the last one may reach past the span's end. */
static size_t map_chunks(uintptr_t base, uintptr_t end)
{
	return (((end - base) >> PAGE_SHIFT) + MAP_CHUNK - 1) / MAP_CHUNK;
}

/* The bytes of the map_ready bitmap. */
static size_t ready_bytes(uintptr_t base, uintptr_t end)
{
	return (map_chunks(base, end) + 63) / 64 * sizeof(uint64_t);
}

/*
 * Metadata: struct buddy, ranges[n], the map_ready bitmap, then pages[] for
 * whole chunks of the span, in whole pages.
 */
static size_t meta_size(unsigned n, uintptr_t base, uintptr_t end)
{
	size_t bytes = sizeof(struct buddy) + n * sizeof(struct mem_range) +
	               ready_bytes(base, end) +
	               map_chunks(base, end) * MAP_CHUNK * sizeof(struct page);
	return (bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

static struct buddy *build(const struct mem_range *r, unsigned n, unsigned at, size_t meta,
                           bool debug)
{
	struct buddy *b = (struct buddy *)(uintptr_t)r[at].base;
	memset(b, 0, sizeof(*b));
	b->debug = debug;
	b->base = r[0].base;
	b->end = r[n - 1].base + r[n - 1].size;
	b->ranges = (struct mem_range *)(b + 1);
	b->map_ready = (uint64_t *)(b->ranges + n);
	b->pages = (struct page *)((char *)b->map_ready + ready_bytes(b->base, b->end));
	b->meta_bytes = meta;
	memset(b->map_ready, 0, ready_bytes(b->base, b->end)); /* pages[] is zeroed as it is used */
	for (unsigned k = 0; k < BUDDY_ORDERS; k++)
		b->free_head[k] = PAGE_NIL;
	for (unsigned i = 0; i < n; i++) {
		uintptr_t s = r[i].base + (i == at ? meta : 0), e = r[i].base + r[i].size;
		if (s < e) {
			b->ranges[b->nranges++] = (struct mem_range){s, e - s};
			add_free_range(b, s, e);
		}
	}
	return b;
}

/* Page numbers of the span, page map chunks included, fit a uint32_t below PAGE_NIL. */
static bool span_ok(uintptr_t base, uintptr_t end)
{
	return map_chunks(base, end) < PAGE_NIL / MAP_CHUNK;
}

/*
 * Manage the given ranges. The allocator's own metadata is carved from the
 * first range large enough to hold it; when none is (a sparse map whose span
 * is huge), or the span has more pages than a page number counts, the
 * highest ranges are left out until it fits. Returns NULL when
 * the ranges are malformed or nothing fits.
 */
struct buddy *buddy_init(const struct mem_range *ranges, unsigned n, bool debug)
{
	if (!ranges_ok(ranges, n))
		return NULL;
	if (n > 0 && ranges[0].base == 0) /* address 0 is NULL: never hand it out */
		return NULL;
	for (; n > 0; n--) {
		uintptr_t end = ranges[n - 1].base + ranges[n - 1].size;
		if (!span_ok(ranges[0].base, end))
			continue;
		size_t meta = meta_size(n, ranges[0].base, end);
		for (unsigned i = 0; i < n; i++)
			if (ranges[i].size >= meta)
				return build(ranges, n, i, meta, debug);
	}
	return NULL;
}

/* ---- what the block's owner (the heap) may ask ---- */

/* The order of the allocated block starting at p, or -1 when p starts none. */
int buddy_block_order(struct buddy *b, const void *p)
{
	uintptr_t a = (uintptr_t)p;
	if ((a & (PAGE_SIZE - 1)) || !in_span(b, a))
		return -1;
	const struct page *pg = page_get(b, a);
	return (pg->state & PG_STATE) == PG_USED ? pg->order : -1;
}

/*
 * The owner tag of the page holding p (0 when unmanaged or untagged). Owner
 * tags belong to whoever allocated the block and are guarded by its lock.
 */
unsigned buddy_owner(struct buddy *b, const void *p)
{
	uintptr_t a = (uintptr_t)p;
	return in_span(b, a) ? page_get(b, a)->owner : 0;
}

void buddy_set_owner(struct buddy *b, const void *p, unsigned owner)
{
	uintptr_t a = (uintptr_t)p;
	if (!in_ranges(b, a))
		panic("page allocator: owner tag for %p, which it does not manage", p);
	if (!map_ready(b, pfn(b, a))) { /* zeroing a chunk is b->lock's business */
		spin_lock(&b->lock);
		page_of(b, a);
		spin_unlock(&b->lock);
	}
	b->pages[pfn(b, a)].owner = (uint16_t)owner;
}

/* ---- statistics and self-check ---- */

void buddy_stats(struct buddy *b, struct noos_mem_stats *st)
{
	spin_lock(&b->lock);
	st->total_pages = b->total_pages;
	st->free_pages = b->free_pages;
	st->failed_allocs = b->failed;
	for (unsigned k = 0; k < BUDDY_ORDERS && k < NOOS_MEM_ORDERS; k++) {
		st->free_blocks[k] = b->nfree[k];
		st->used_blocks[k] = b->nused[k];
	}
	spin_unlock(&b->lock);
}

size_t buddy_meta_bytes(const struct buddy *b)
{
	return b->meta_bytes;
}

/* Every free list entry is a free head of its order, and the counts agree. */
static const char *check_lists(struct buddy *b, uint64_t *free_pages)
{
	for (unsigned k = 0; k < BUDDY_ORDERS; k++) {
		uint64_t n = 0;
		for (uint32_t i = b->free_head[k]; i != PAGE_NIL; i = b->pages[i].next, n++) {
			uintptr_t a = pfn_addr(b, i);
			if (!link_ok(b, i) || !in_ranges(b, a) || (a & (block_bytes(k) - 1)))
				return "free list entry outside the span or misaligned";
			if ((page_get(b, a)->state & PG_STATE) != PG_FREE ||
			    page_get(b, a)->order != k)
				return "free list entry is not a free block of that order";
			if (n > b->total_pages)
				return "free list loops";
		}
		if (n != b->nfree[k])
			return "free block count differs from the free list";
		*free_pages += n << k;
	}
	return NULL;
}

/* One block in the page map: aligned, inside its range, its other pages not heads. */
static const char *check_block(struct buddy *b, uintptr_t a, uintptr_t range_end,
                               uint64_t used[BUDDY_ORDERS])
{
	const struct page *p = page_get(b, a);
	unsigned st = p->state & PG_STATE;
	if (st == PG_NONE)
		return "managed memory that belongs to no block";
	if (p->order > BUDDY_MAX_ORDER || (a & (block_bytes(p->order) - 1)) ||
	    range_end - a < block_bytes(p->order))
		return "a block with a bad order or alignment";
	for (uintptr_t t = a + PAGE_SIZE; t < a + block_bytes(p->order); t += PAGE_SIZE)
		if ((page_get(b, t)->state & PG_STATE) != PG_NONE)
			return "a block head inside another block";
	uintptr_t buddy = a ^ block_bytes(p->order);
	if (st == PG_FREE && p->order < BUDDY_MAX_ORDER && in_span(b, buddy) &&
	    (page_get(b, buddy)->state & PG_STATE) == PG_FREE &&
	    page_get(b, buddy)->order == p->order)
		return "two free buddies not merged";
	if (st == PG_USED)
		used[p->order]++;
	return NULL;
}

/* Walk the page map: every range tiled by blocks, nothing outside the ranges, buddies merged. */
static const char *check_pages(struct buddy *b, uint64_t used[BUDDY_ORDERS])
{
	uintptr_t prev_end = b->base;
	for (unsigned i = 0; i < b->nranges; i++) {
		uintptr_t s = b->ranges[i].base, e = s + b->ranges[i].size;
		for (uintptr_t a = prev_end; a < s; a += PAGE_SIZE)
			if ((page_get(b, a)->state & PG_STATE) != PG_NONE)
				return "a block head outside the managed ranges";
		for (uintptr_t a = s; a < e; a += block_bytes(page_get(b, a)->order)) {
			const char *err = check_block(b, a, e, used);
			if (err)
				return err;
		}
		prev_end = e;
	}
	return NULL;
}

/*
 * Check every invariant of the allocator (O(pages); for tests and debugging).
 * Returns NULL when all hold, else what is broken.
 */
const char *buddy_check(struct buddy *b)
{
	uint64_t free_pages = 0, used[BUDDY_ORDERS] = {0}, used_pages = 0;
	spin_lock(&b->lock);
	const char *err = check_lists(b, &free_pages);
	if (!err)
		err = check_pages(b, used);
	for (unsigned k = 0; !err && k < BUDDY_ORDERS; k++) {
		if (used[k] != b->nused[k])
			err = "allocated block count differs from the page map";
		used_pages += used[k] << k;
	}
	if (!err && (free_pages != b->free_pages || free_pages + used_pages != b->total_pages))
		err = "page totals do not add up";
	spin_unlock(&b->lock);
	return err;
}
