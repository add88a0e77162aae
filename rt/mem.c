/*
 * The kernel's memory, set up once at boot: the usable physical ranges
 * (pmm.c), noos's own page tables mapping all of that RAM (arch mmu.c over
 * pagetable.c, their first pages taken from the front of the free ranges),
 * the page allocator over what is left (buddy.c) and the heap on top
 * (heap.c); plus the page calls for drivers and page tables, and the
 * counters of the C API.
 */
#include <errno.h>
#include <string.h>

#include "noos.h"
#include "rt.h"

/* Debug mode poisons freed memory and checks it on reuse; off only in NDEBUG (release) builds. */
#ifdef NDEBUG
#define MEM_DEBUG false
#else
#define MEM_DEBUG true
#endif

static struct buddy *mem_pages; /* NULL when there is no usable RAM */
struct heap *mem_heap;
static uint64_t noos_bytes; /* mapped RAM not free after mem_init: image, metadata, boot data */
static uint64_t pt_pages;   /* pages holding page tables */
static uint64_t ram_bytes;  /* RAM mapped: what the allocators may use, and noos's own */

/* Until the page allocator exists, page tables come from the free ranges (mem_init's). */
static struct {
	struct mem_range *ranges;
	unsigned count;
	uint64_t limit; /* what the boot page tables map */
} early;

static uint64_t kib(uint64_t bytes)
{
	return bytes >> 10;
}

/* "12.3 MiB": printf here has no floating point. */
static void print_mib(uint64_t bytes)
{
	uint64_t tenths = (bytes * 10 + (1 << 19)) >> 20;
	printf("%lu.%lu MiB", (unsigned long)(tenths / 10), (unsigned long)(tenths % 10));
}

static void print_summary(const struct boot_info *bi, uint64_t limit, unsigned nfree)
{
	static struct mem_range ram[PMM_MAX_RANGES];
	uint64_t mapped = pmm_total(ram, pmm_ram_ranges(bi, limit, ram));
	uint64_t all = pmm_total(ram, pmm_ram_ranges(bi, UINT64_MAX, ram));
	struct noos_mem_stats st;
	noos_mem_stats(&st);
	uint64_t free = st.free_pages * PAGE_SIZE,
	         used = (st.total_pages - st.free_pages) * PAGE_SIZE;
	noos_bytes = mapped - free;
	ram_bytes = mapped;
	printf("mem: ");
	print_mib(free);
	printf(" free of ");
	print_mib(mapped);
	printf(" RAM in %u ranges, noos uses %lu KiB (image %lu KiB, page map %lu KiB, page "
	       "tables %lu KiB, heap %lu KiB)\n",
	       nfree, (unsigned long)kib(noos_bytes),
	       (unsigned long)kib((uintptr_t)__image_end - (uintptr_t)__image_start),
	       (unsigned long)kib(buddy_meta_bytes(mem_pages)),
	       (unsigned long)kib(pt_pages * PAGE_SIZE), (unsigned long)kib(used));
	if (all > mapped) {
		printf("mem: ");
		print_mib(all - mapped);
		printf(" of RAM above the mapped %lu MiB is not used yet\n",
		       (unsigned long)(limit >> 20));
	}
}

/* A page table page before the page allocator exists: the first page the boot map reaches. */
static void *early_page(void)
{
	for (unsigned i = 0; i < early.count; i++) {
		struct mem_range *r = &early.ranges[i];
		if (r->size == 0 || r->base + PAGE_SIZE > early.limit)
			continue;
		void *p = (void *)(uintptr_t)r->base;
		r->base += PAGE_SIZE;
		r->size -= PAGE_SIZE;
		return p;
	}
	return NULL;
}

static unsigned drop_empty(struct mem_range *r, unsigned n)
{
	unsigned out = 0;
	for (unsigned i = 0; i < n; i++)
		if (r[i].size != 0)
			r[out++] = r[i];
	return out;
}

/*
 * The kernel page tables (arch_mmu_init), taking their pages from the front
 * of the free ranges, which then hold all RAM it mapped; returns the
 * remaining range count, or n again when it failed and the boot tables stay.
 */
static unsigned map_memory(const struct boot_info *bi, struct mem_range *ranges, unsigned n,
                           uint64_t *limit)
{
	early.ranges = ranges;
	early.count = n;
	early.limit = arch_mapped_limit();
	int err = arch_mmu_init(bi);
	early.count = 0;
	if (err == 0)
		return drop_empty(ranges, n);
	printf("mem: no memory for the kernel page tables (%d): boot tables kept, no W^X\n", err);
	*limit = arch_mapped_limit();
	return pmm_free_ranges(bi, *limit, ranges); /* the tables built so far are not in use */
}

void mem_init(const struct boot_info *bi)
{
	static struct mem_range
	    ranges[PMM_MAX_RANGES]; /* static: 2 KiB is much for the boot stack */
	/* After arch_mmu_init all RAM below the vm window is mapped, virtual == physical. */
	uint64_t limit = ARCH_VM_BASE;
	unsigned n = map_memory(bi, ranges, pmm_free_ranges(bi, limit, ranges), &limit);
	mem_pages = buddy_init(ranges, n, MEM_DEBUG);
	if (mem_pages)
		mem_heap = heap_init(mem_pages, MEM_DEBUG);
	if (!mem_heap) {
		printf("mem: no usable RAM for the page allocator: every allocation will fail\n");
		return;
	}
	vm_guard_static((uintptr_t)boot_stack_bottom - PAGE_SIZE, "the boot stack (cpu 0)");
	print_summary(bi, limit, n);
}

/* A block of PAGE_SIZE << order bytes aligned to its size, or NULL. */
void *page_alloc(unsigned order)
{
	if (!mem_pages)
		return NULL;
	void *p = buddy_alloc(mem_pages, order);
	if (!p) {
		heap_trim(mem_heap); /* the empty slabs the heap keeps for reuse */
		p = buddy_alloc(mem_pages, order);
	}
	return p;
}

void page_free(void *p)
{
	if (!mem_pages)
		panic("page_free(%p): there is no page allocator", p);
	buddy_free(mem_pages, p);
}

void *pt_page_alloc(void)
{
	uint64_t *p = mem_pages ? page_alloc(0) : early_page();
	if (!p)
		return NULL;
	for (size_t i = 0; i < PAGE_SIZE / sizeof(*p); i++)
		p[i] = 0;
	__atomic_fetch_add(&pt_pages, 1, __ATOMIC_RELAXED);
	return p;
}

void pt_page_free(void *p)
{
	page_free(p);
	__atomic_fetch_sub(&pt_pages, 1, __ATOMIC_RELAXED);
}

int noos_mem_stats(struct noos_mem_stats *st)
{
	if (!st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	if (mem_pages)
		buddy_stats(mem_pages, st);
	if (mem_heap)
		heap_stats(mem_heap, st);
	st->noos_bytes = noos_bytes;
	st->ram_bytes = ram_bytes;
	st->pagetable_pages = __atomic_load_n(&pt_pages, __ATOMIC_RELAXED);
	vm_stats(st);
	return 0;
}

void *noos_pages_alloc(unsigned order)
{
	return order < NOOS_MEM_ORDERS ? page_alloc(order) : NULL;
}

void noos_pages_free(void *block)
{
	page_free(block);
}
