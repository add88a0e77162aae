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
 * Metadata: 4 bytes per page (struct page) in one array covering the span
 * from the lowest to the highest managed address, holes included, carved
 * from the managed memory itself. Free lists are intrusive: the links live in
 * the first bytes of each free block, which is why only mapped memory may be
 * given to buddy_init().
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
	uint8_t order;  /* first page of a block: its order */
	uint8_t state;  /* enum page_state, | PG_POISONED */
	uint16_t owner; /* set by whoever allocated the block (the heap); 0 after buddy_alloc */
};

/* The head of every free block: a circular doubly linked list per order. */
struct free_block {
	struct free_block *next, *prev;
};

struct buddy {
	struct spinlock lock; /* guards everything below and page state/order */
	bool debug;
	uintptr_t base, end; /* pages[] describes [base, end) */
	struct page *pages;
	struct mem_range *ranges; /* what is managed: sorted, disjoint (for checks only) */
	unsigned nranges;
	struct free_block free[BUDDY_ORDERS]; /* list sentinels */
	uint64_t nfree[BUDDY_ORDERS];         /* free blocks per order */
	uint64_t nused[BUDDY_ORDERS];         /* allocated blocks per order */
	uint64_t total_pages, free_pages, failed;
	size_t meta_bytes; /* this struct, ranges[] and pages[] */
};

static size_t block_bytes(unsigned order)
{
	return PAGE_SIZE << order;
}

static struct page *page_of(struct buddy *b, uintptr_t a)
{
	return &b->pages[(a - b->base) >> PAGE_SHIFT];
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

static void free_push(struct buddy *b, uintptr_t a, unsigned order, uint8_t poisoned)
{
	struct free_block *f = (struct free_block *)a, *head = &b->free[order];
	f->next = head->next;
	f->prev = head;
	head->next->prev = f;
	head->next = f;
	struct page *p = page_of(b, a);
	p->state = PG_FREE | poisoned;
	p->order = order;
	b->nfree[order]++;
}

/* A list link is a list sentinel or a page-aligned managed address. */
static bool link_ok(const struct buddy *b, const struct free_block *l)
{
	return (l >= b->free && l < b->free + BUDDY_ORDERS) ||
	       (in_span(b, (uintptr_t)l) && ((uintptr_t)l & (PAGE_SIZE - 1)) == 0);
}

/* Unlink a free block; the links are checked since a write after free lands there first. */
static void free_unlink(struct buddy *b, uintptr_t a, unsigned order)
{
	struct free_block *f = (struct free_block *)a;
	if (!link_ok(b, f->next) || !link_ok(b, f->prev) || f->next->prev != f ||
	    f->prev->next != f)
		buddy_panic(b,
		            "page allocator: free list of order %u corrupted at %p "
		            "(written after it was freed?)",
		            order, (void *)f);
	f->prev->next = f->next;
	f->next->prev = f->prev;
	b->nfree[order]--;
}

/* ---- poison (debug mode) ---- */

/* A free block's first bytes hold its list links; everything else holds the poison. */
static void poison_check(uintptr_t a, unsigned order)
{
	const uint64_t *w = (const uint64_t *)a;
	size_t words = block_bytes(order) / sizeof(*w);
	for (size_t i = sizeof(struct free_block) / sizeof(*w); i < words; i++)
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
	while (k < BUDDY_ORDERS && b->free[k].next == &b->free[k])
		k++;
	if (k == BUDDY_ORDERS)
		return 0;
	uintptr_t a = (uintptr_t)b->free[k].next;
	*poisoned = page_of(b, a)->state & PG_POISONED;
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
	struct page *p = page_of(b, a);
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
		struct page *bp = page_of(b, buddy);
		if ((bp->state & PG_STATE) != PG_FREE || bp->order != order)
			break;
		free_unlink(b, buddy, order);
		poisoned &= bp->state;
		uintptr_t upper = a > buddy ? a : buddy;
		page_of(b, upper)->state = PG_NONE;
		if (poisoned) /* its links are now in the middle of the merged block */
			memset((void *)upper, BUDDY_POISON, sizeof(struct free_block));
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

/* Metadata: struct buddy, then ranges[n], then pages[] for the span, in whole pages. */
static size_t meta_size(unsigned n, uintptr_t base, uintptr_t end)
{
	size_t bytes = sizeof(struct buddy) + n * sizeof(struct mem_range) +
	               ((end - base) >> PAGE_SHIFT) * sizeof(struct page);
	return (bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

/*
 * Zero the page map (all PG_NONE) with word stores: it covers all of RAM, and
 * this runs at every boot (rt's memset goes byte by byte).
 */
static void zero_words(void *p, size_t bytes)
{
	uint64_t *w = p;
	for (size_t i = 0; i < bytes / sizeof(*w); i++)
		w[i] = 0;
	memset((char *)p + bytes / sizeof(*w) * sizeof(*w), 0, bytes % sizeof(*w));
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
	b->pages = (struct page *)(b->ranges + n);
	b->meta_bytes = meta;
	zero_words(b->pages, ((b->end - b->base) >> PAGE_SHIFT) * sizeof(struct page));
	for (unsigned k = 0; k < BUDDY_ORDERS; k++)
		b->free[k].next = b->free[k].prev = &b->free[k];
	for (unsigned i = 0; i < n; i++) {
		uintptr_t s = r[i].base + (i == at ? meta : 0), e = r[i].base + r[i].size;
		if (s < e) {
			b->ranges[b->nranges++] = (struct mem_range){s, e - s};
			add_free_range(b, s, e);
		}
	}
	return b;
}

/*
 * Manage the given ranges. The allocator's own metadata is carved from the
 * first range large enough to hold it; when none is (a sparse map whose span
 * is huge), the highest ranges are left out until it fits. Returns NULL when
 * the ranges are malformed or nothing fits.
 */
struct buddy *buddy_init(const struct mem_range *ranges, unsigned n, bool debug)
{
	if (!ranges_ok(ranges, n))
		return NULL;
	if (n > 0 && ranges[0].base == 0) /* address 0 is NULL: never hand it out */
		return NULL;
	for (; n > 0; n--) {
		size_t meta = meta_size(n, ranges[0].base, ranges[n - 1].base + ranges[n - 1].size);
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
	const struct page *pg = page_of(b, a);
	return (pg->state & PG_STATE) == PG_USED ? pg->order : -1;
}

/*
 * The owner tag of the page holding p (0 when unmanaged or untagged). Owner
 * tags belong to whoever allocated the block and are guarded by its lock.
 */
unsigned buddy_owner(struct buddy *b, const void *p)
{
	uintptr_t a = (uintptr_t)p;
	return in_span(b, a) ? page_of(b, a)->owner : 0;
}

void buddy_set_owner(struct buddy *b, const void *p, unsigned owner)
{
	uintptr_t a = (uintptr_t)p;
	if (!in_ranges(b, a))
		panic("page allocator: owner tag for %p, which it does not manage", p);
	page_of(b, a)->owner = (uint16_t)owner;
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
		for (struct free_block *f = b->free[k].next; f != &b->free[k]; f = f->next, n++) {
			uintptr_t a = (uintptr_t)f;
			if (!in_ranges(b, a) || (a & (block_bytes(k) - 1)))
				return "free list entry outside the span or misaligned";
			if ((page_of(b, a)->state & PG_STATE) != PG_FREE ||
			    page_of(b, a)->order != k)
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
	const struct page *p = page_of(b, a);
	unsigned st = p->state & PG_STATE;
	if (st == PG_NONE)
		return "managed memory that belongs to no block";
	if (p->order > BUDDY_MAX_ORDER || (a & (block_bytes(p->order) - 1)) ||
	    range_end - a < block_bytes(p->order))
		return "a block with a bad order or alignment";
	for (uintptr_t t = a + PAGE_SIZE; t < a + block_bytes(p->order); t += PAGE_SIZE)
		if ((page_of(b, t)->state & PG_STATE) != PG_NONE)
			return "a block head inside another block";
	uintptr_t buddy = a ^ block_bytes(p->order);
	if (st == PG_FREE && p->order < BUDDY_MAX_ORDER && in_span(b, buddy) &&
	    (page_of(b, buddy)->state & PG_STATE) == PG_FREE &&
	    page_of(b, buddy)->order == p->order)
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
			if ((page_of(b, a)->state & PG_STATE) != PG_NONE)
				return "a block head outside the managed ranges";
		for (uintptr_t a = s; a < e; a += block_bytes(page_of(b, a)->order)) {
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
