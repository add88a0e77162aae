/*
 * The heap: malloc and friends on top of the buddy page allocator.
 *
 * Small requests (up to SMALL_MAX bytes) are rounded up to one of a few size
 * classes, four per doubling above 128 bytes, so rounding wastes at most 25%.
 * Each class carves slabs (blocks of 1..8 pages from the page allocator)
 * into equal objects; objects start at the slab's first byte, and the slab's
 * header (struct slab) sits at its end. A class allocates from its partly
 * used slabs first, then from its empty ones, and keeps empty slabs up to a
 * quarter of those in use (at least one): a population that swings (a TCP
 * sender's segments, allocated as it writes and freed as the peer
 * acknowledges) reuses its slabs instead of taking and giving back pages,
 * and a shrinking one gives them back. Whoever runs short of pages takes
 * the rest back (heap_trim; page_alloc does). A bitmap in the header says which
 * objects are allocated: it finds a free one in a few word operations and
 * makes double frees detectable without trusting anything stored in freed
 * memory. Larger requests take a power-of-two block of pages of their own.
 *
 * Every page the heap holds carries an owner tag in the page allocator's map
 * (buddy_set_owner): each page of a slab names its class, the first page of a
 * large block says so. free() starts from that tag, so a pointer the heap
 * never gave out, one into the middle of an object, or one freed twice is
 * caught and reported instead of corrupting the heap.
 *
 * Debug mode fills freed objects with a poison pattern and checks it when
 * the object is handed out again (use after free).
 */
#include <string.h>

#include "noos.h"
#include "rt.h"

#define HEAP_ALIGN       16 /* what malloc guarantees: max_align_t on both arches */
#define SMALL_MAX        3584
#define SLAB_MAX_ORDER   3
#define SLAB_MAX_OBJECTS 256
#define HEAP_OWNER_SLAB  0x4000 /* | class index: every page of a slab */
#define HEAP_OWNER_LARGE 0x8000 /* the first page of a large block */
#define HEAP_OWNER_CLASS 0x00ff
#define HEAP_POISON      0x6b
#define HEAP_MAX         (PAGE_SIZE << BUDDY_MAX_ORDER)

static const uint16_t class_sizes[] = {
    16,  32,  48,  64,  80,  96,   112,  128,  160,  192,  224,  256,  320,  384,
    448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584,
};
#define NCLASSES (sizeof(class_sizes) / sizeof(class_sizes[0]))

/* At the end of every slab. Guarded by heap.lock. */
enum slab_list { ON_NONE, ON_PARTIAL, ON_EMPTY }; /* full slabs are on no list */

struct slab {
	struct slab *next, *prev; /* on its class's list: partial or empty */
	uint16_t inuse, capacity, cls, on_list;
	uint64_t used[SLAB_MAX_OBJECTS / 64]; /* bit i: object i is allocated */
};

struct heap_class {
	uint32_t size;
	uint16_t capacity;    /* objects per slab */
	uint8_t order;        /* slab size: PAGE_SIZE << order */
	struct slab *partial; /* slabs with some objects in use and some free */
	struct slab *empty;   /* slabs with none in use */
	uint32_t slabs, empties;
};

struct heap {
	struct spinlock lock; /* guards everything here and in slabs; taken before the buddy's */
	struct buddy *pages;
	bool debug;
	struct heap_class cls[NCLASSES];
	uint8_t class_of[SMALL_MAX / HEAP_ALIGN + 1]; /* (size + 15) / 16 -> class */
	uint64_t objects, bytes, slab_pages, large_pages;
};

#define heap_panic(h, ...)                                                                         \
	do {                                                                                       \
		spin_unlock(&(h)->lock);                                                           \
		panic(__VA_ARGS__);                                                                \
	} while (0)

/* ---- size classes ---- */

/* The smallest slab order (up to 8 pages) that wastes at most 1/8 of the slab. */
static void class_setup(struct heap_class *c, uint32_t size)
{
	c->size = size;
	for (unsigned o = 0; o <= SLAB_MAX_ORDER; o++) {
		size_t bytes = PAGE_SIZE << o, cap = (bytes - sizeof(struct slab)) / size;
		if (cap > SLAB_MAX_OBJECTS)
			cap = SLAB_MAX_OBJECTS;
		if ((cap > 0 && bytes - cap * size <= bytes / 8) || o == SLAB_MAX_ORDER) {
			c->order = o;
			c->capacity = cap;
			return;
		}
	}
}

/* The class for size bytes aligned to align (<= PAGE_SIZE), or -1: take pages. */
static int class_for(const struct heap *h, size_t size, size_t align)
{
	if (size > SMALL_MAX)
		return -1;
	for (unsigned c = h->class_of[(size + HEAP_ALIGN - 1) / HEAP_ALIGN]; c < NCLASSES; c++)
		if (class_sizes[c] % align == 0)
			return c; /* slabs are page-aligned, so object i is aligned too */
	return -1;
}

/* The smallest order whose block holds bytes (bytes <= HEAP_MAX). */
static unsigned order_for(size_t bytes)
{
	unsigned k = 0;
	while ((PAGE_SIZE << k) < bytes)
		k++;
	return k;
}

struct heap *heap_init(struct buddy *pages, bool debug)
{
	struct heap *h = buddy_alloc(pages, order_for(sizeof(struct heap)));
	if (!h)
		return NULL;
	memset(h, 0, sizeof(*h));
	h->pages = pages;
	h->debug = debug;
	for (unsigned c = 0, i = 0; c < NCLASSES; c++) {
		class_setup(&h->cls[c], class_sizes[c]);
		for (; i <= class_sizes[c] / HEAP_ALIGN; i++)
			h->class_of[i] = c;
	}
	return h;
}

/* ---- slabs ---- */

static uintptr_t slab_base(const struct heap *h, const struct slab *s)
{
	return (uintptr_t)(s + 1) - (PAGE_SIZE << h->cls[s->cls].order);
}

static struct slab **list_head(struct heap_class *c, unsigned which)
{
	return which == ON_EMPTY ? &c->empty : &c->partial;
}

static void list_add(struct heap_class *c, struct slab *s, unsigned which)
{
	struct slab **head = list_head(c, which);
	s->prev = NULL;
	s->next = *head;
	if (*head)
		(*head)->prev = s;
	*head = s;
	s->on_list = (uint16_t)which;
	c->empties += which == ON_EMPTY;
}

static void list_del(struct heap_class *c, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*list_head(c, s->on_list) = s->next;
	if (s->next)
		s->next->prev = s->prev;
	c->empties -= s->on_list == ON_EMPTY;
	s->on_list = ON_NONE;
}

static void set_owner(struct heap *h, uintptr_t base, unsigned order, unsigned owner)
{
	for (size_t i = 0; i < (1ul << order); i++)
		buddy_set_owner(h->pages, (void *)(base + i * PAGE_SIZE), owner);
}

static struct slab *slab_new(struct heap *h, unsigned cls)
{
	struct heap_class *c = &h->cls[cls];
	size_t bytes = PAGE_SIZE << c->order;
	uintptr_t base = (uintptr_t)buddy_alloc(h->pages, c->order);
	if (!base)
		return NULL;
	set_owner(h, base, c->order, HEAP_OWNER_SLAB | cls);
	struct slab *s = (struct slab *)(base + bytes) - 1;
	memset(s, 0, sizeof(*s));
	s->capacity = c->capacity;
	s->cls = cls;
	if (h->debug)
		memset((void *)base, HEAP_POISON, (size_t)c->capacity * c->size);
	list_add(c, s, ON_EMPTY);
	c->slabs++;
	h->slab_pages += 1ul << c->order;
	return s;
}

static void slab_release(struct heap *h, struct slab *s)
{
	struct heap_class *c = &h->cls[s->cls];
	uintptr_t base = slab_base(h, s);
	list_del(c, s);
	c->slabs--;
	set_owner(h, base, c->order, 0);
	h->slab_pages -= 1ul << c->order;
	buddy_free(h->pages, (void *)base);
}

/* Give empty slabs back to the page allocator. Called with h->lock held. */
static void trim_locked(struct heap *h)
{
	for (unsigned c = 0; c < NCLASSES; c++)
		while (h->cls[c].empty)
			slab_release(h, h->cls[c].empty);
}

void heap_trim(struct heap *h)
{
	spin_lock(&h->lock);
	trim_locked(h);
	spin_unlock(&h->lock);
}

/* Index of a free object in s, now marked allocated (s has one). */
static unsigned slab_take(struct slab *s)
{
	for (unsigned w = 0;; w++) {
		if (~s->used[w]) {
			unsigned bit = __builtin_ctzll(~s->used[w]);
			s->used[w] |= 1ull << bit;
			s->inuse++;
			return w * 64 + bit;
		}
	}
}

/* ---- debug poison ---- */

static void poison_check(const void *obj, size_t size)
{
	/* Objects are HEAP_ALIGN-aligned and sized: compare words, find the byte on a miss. */
	const uint64_t *w = obj, poison = 0x0101010101010101ull * HEAP_POISON;
	size_t i = 0;
	while (i < size / sizeof(*w) && w[i] == poison)
		i++;
	if (i == size / sizeof(*w))
		return;
	const uint8_t *p = obj;
	for (i *= sizeof(*w); p[i] == HEAP_POISON; i++)
		;
	panic("heap: use after free: %p (size %lu) was written at +%lu after it was freed", obj,
	      (unsigned long)size, (unsigned long)i);
}

/* ---- allocation ---- */

/* A slab of class cls with a free object, on its partial list; NULL when out of pages. */
static struct slab *slab_with_room(struct heap *h, unsigned cls)
{
	struct heap_class *c = &h->cls[cls];
	if (c->partial)
		return c->partial;
	if (!c->empty && !slab_new(h, cls)) {
		trim_locked(h);
		if (!slab_new(h, cls))
			return NULL;
	}
	struct slab *s = c->empty;
	list_del(c, s);
	list_add(c, s, ON_PARTIAL);
	return s;
}

static void *small_alloc(struct heap *h, unsigned cls)
{
	struct heap_class *c = &h->cls[cls];
	spin_lock(&h->lock);
	struct slab *s = slab_with_room(h, cls);
	if (!s) {
		spin_unlock(&h->lock);
		return NULL;
	}
	unsigned i = slab_take(s);
	if (s->inuse == s->capacity)
		list_del(c, s);
	h->objects++;
	h->bytes += c->size;
	void *obj = (void *)(slab_base(h, s) + (size_t)i * c->size);
	spin_unlock(&h->lock);
	if (h->debug)
		poison_check(obj, c->size);
	return obj;
}

static void *large_alloc(struct heap *h, size_t bytes)
{
	unsigned order = order_for(bytes);
	spin_lock(&h->lock);
	void *p = buddy_alloc(h->pages, order);
	if (!p) {
		trim_locked(h);
		p = buddy_alloc(h->pages, order);
	}
	if (p) {
		buddy_set_owner(h->pages, p, HEAP_OWNER_LARGE);
		h->objects++;
		h->bytes += PAGE_SIZE << order;
		h->large_pages += 1ul << order;
	}
	spin_unlock(&h->lock);
	return p;
}

/* size bytes aligned to align (a power of two); NULL when out of memory or align is bad. */
void *heap_memalign(struct heap *h, size_t align, size_t size)
{
	if (!h || align == 0 || (align & (align - 1)) || size > HEAP_MAX || align > HEAP_MAX)
		return NULL;
	if (align < HEAP_ALIGN)
		align = HEAP_ALIGN;
	if (size == 0)
		size = 1; /* a unique pointer, as glibc and musl give */
	int cls = align <= PAGE_SIZE ? class_for(h, size, align) : -1;
	if (cls >= 0)
		return small_alloc(h, cls);
	return large_alloc(h, size > align ? size : align); /* blocks are aligned to their size */
}

void *heap_alloc(struct heap *h, size_t size)
{
	return heap_memalign(h, HEAP_ALIGN, size);
}

void *heap_calloc(struct heap *h, size_t n, size_t size)
{
	size_t bytes;
	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	void *p = heap_alloc(h, bytes);
	if (p)
		memset(p, 0, bytes);
	return p;
}

/* ---- freeing ---- */

/* The slab holding p, whose pages are tagged with class cls; panics unless p starts an object. */
static struct slab *slab_of(struct heap *h, const void *p, unsigned cls, unsigned *index)
{
	if (cls >= NCLASSES)
		heap_panic(h, "heap: %p: page owner tag names no size class (corrupted)", p);
	const struct heap_class *c = &h->cls[cls];
	uintptr_t base = (uintptr_t)p & ~((PAGE_SIZE << c->order) - 1);
	if (buddy_owner(h->pages, (void *)base) != (HEAP_OWNER_SLAB | cls) ||
	    buddy_block_order(h->pages, (void *)base) != c->order)
		heap_panic(h, "heap: %p: its slab at %#lx is not intact (corrupted)", p,
		           (unsigned long)base);
	struct slab *s = (struct slab *)(base + (PAGE_SIZE << c->order)) - 1;
	size_t off = (uintptr_t)p - base;
	if (off % c->size || off / c->size >= s->capacity)
		heap_panic(h,
		           "heap: free of %p: not the start of a heap block (inside a %u-byte one)",
		           p, c->size);
	*index = off / c->size;
	if (!(s->used[*index / 64] & (1ull << (*index % 64))))
		heap_panic(h,
		           "heap: %p (size %u) was already freed: a double free or use after free",
		           p, c->size);
	return s;
}

static void small_free(struct heap *h, void *p, unsigned cls)
{
	unsigned i;
	struct slab *s = slab_of(h, p, cls, &i);
	struct heap_class *c = &h->cls[cls];
	s->used[i / 64] &= ~(1ull << (i % 64));
	s->inuse--;
	h->objects--;
	h->bytes -= c->size;
	if (h->debug)
		memset(p, HEAP_POISON, c->size);
	if (s->on_list == ON_NONE)
		list_add(c, s, ON_PARTIAL); /* it was full */
	if (s->inuse > 0)
		return;
	list_del(c, s);
	list_add(c, s, ON_EMPTY);
	while (c->empties > 1 + (c->slabs - c->empties) / 4)
		slab_release(h, c->empty);
}

static void large_free(struct heap *h, void *p)
{
	int order = buddy_block_order(h->pages, p);
	if (order < 0)
		heap_panic(h, "heap: free of %p: not the start of a heap block", p);
	buddy_set_owner(h->pages, p, 0);
	h->objects--;
	h->bytes -= PAGE_SIZE << order;
	h->large_pages -= 1ul << order;
	buddy_free(h->pages, p);
}

/* The owner tag of p's page, checked to be the heap's. Called with h->lock held. */
static unsigned heap_owner(struct heap *h, const void *p)
{
	unsigned owner = buddy_owner(h->pages, p);
	if (!(owner & (HEAP_OWNER_SLAB | HEAP_OWNER_LARGE)))
		heap_panic(
		    h, "heap: %p is not a pointer the heap gave out (or it was freed already)", p);
	return owner;
}

void heap_free(struct heap *h, void *p)
{
	if (!p)
		return;
	if (!h)
		panic("heap: free of %p, but there is no heap", p);
	spin_lock(&h->lock);
	unsigned owner = heap_owner(h, p);
	if (owner & HEAP_OWNER_SLAB)
		small_free(h, p, owner & HEAP_OWNER_CLASS);
	else
		large_free(h, p);
	spin_unlock(&h->lock);
}

/* How many bytes the block at p can hold; panics unless p is a live heap block. */
size_t heap_usable_size(struct heap *h, const void *p)
{
	if (!h)
		panic("heap: %p is not a pointer the heap gave out: there is no heap", p);
	spin_lock(&h->lock);
	unsigned owner = heap_owner(h, p), i;
	size_t size;
	if (owner & HEAP_OWNER_SLAB) {
		slab_of(h, p, owner & HEAP_OWNER_CLASS, &i);
		size = h->cls[owner & HEAP_OWNER_CLASS].size;
	} else {
		int order = buddy_block_order(h->pages, p);
		if (order < 0)
			heap_panic(h, "heap: %p: not the start of a heap block", p);
		size = PAGE_SIZE << order;
	}
	spin_unlock(&h->lock);
	return size;
}

/* The usable size a fresh heap_alloc(size) would get (size <= HEAP_MAX). */
static size_t rounded_size(const struct heap *h, size_t size)
{
	int cls = class_for(h, size ? size : 1, HEAP_ALIGN);
	return cls >= 0 ? class_sizes[cls] : PAGE_SIZE << order_for(size);
}

/*
 * Resize: in place when the new size rounds to the same block size, else
 * move. A failed move leaves p untouched and returns NULL, except when
 * shrinking, where the old block still fits and is returned. realloc(p, 0)
 * frees p and returns NULL (as glibc does).
 */
void *heap_realloc(struct heap *h, void *p, size_t size)
{
	if (!p)
		return heap_alloc(h, size);
	if (size == 0) {
		heap_free(h, p);
		return NULL;
	}
	size_t old = heap_usable_size(h, p);
	if (size <= HEAP_MAX && rounded_size(h, size) == old)
		return p;
	void *n = heap_alloc(h, size);
	if (!n)
		return size <= old ? p : NULL;
	memcpy(n, p, size < old ? size : old);
	heap_free(h, p);
	return n;
}

void heap_stats(struct heap *h, struct noos_mem_stats *st)
{
	spin_lock(&h->lock);
	st->heap_pages = h->slab_pages + h->large_pages;
	st->heap_bytes = h->bytes;
	st->heap_objects = h->objects;
	spin_unlock(&h->lock);
}
