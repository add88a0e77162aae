/*
 * The kernel's memory, set up once at boot: the usable physical ranges
 * (pmm.c), the page allocator over them (buddy.c) and the heap on top
 * (heap.c); plus the page calls for drivers and the counters of the C API.
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
	printf("mem: ");
	print_mib(free);
	printf(" free of ");
	print_mib(mapped);
	printf(" RAM in %u ranges, noos uses %lu KiB (image %lu KiB, page map %lu KiB, heap %lu "
	       "KiB)\n",
	       nfree, (unsigned long)kib(noos_bytes),
	       (unsigned long)kib((uintptr_t)__image_end - (uintptr_t)__image_start),
	       (unsigned long)kib(buddy_meta_bytes(mem_pages)), (unsigned long)kib(used));
	if (all > mapped) {
		printf("mem: ");
		print_mib(all - mapped);
		printf(" of RAM above the mapped %lu MiB is not used yet\n",
		       (unsigned long)(limit >> 20));
	}
}

void mem_init(const struct boot_info *bi)
{
	static struct mem_range
	    ranges[PMM_MAX_RANGES]; /* static: 2 KiB is much for the boot stack */
	uint64_t limit = arch_mapped_limit();
	unsigned n = pmm_free_ranges(bi, limit, ranges);
	/*
	 * RAM is identity-mapped (arch/x86_64/entry.S), so physical ranges are
	 * also the addresses the allocators use. TODO(issue 4): translate here
	 * once the kernel page tables put RAM in a direct map at an offset.
	 */
	mem_pages = buddy_init(ranges, n, MEM_DEBUG);
	if (mem_pages)
		mem_heap = heap_init(mem_pages, MEM_DEBUG);
	if (!mem_heap) {
		printf("mem: no usable RAM for the page allocator: every allocation will fail\n");
		return;
	}
	print_summary(bi, limit, n);
}

/* A block of PAGE_SIZE << order bytes aligned to its size, or NULL. */
void *page_alloc(unsigned order)
{
	return mem_pages ? buddy_alloc(mem_pages, order) : NULL;
}

void page_free(void *p)
{
	if (!mem_pages)
		panic("page_free(%p): there is no page allocator", p);
	buddy_free(mem_pages, p);
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
	return 0;
}
