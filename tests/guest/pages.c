/*
 * pages: noos_pages_alloc/free. Blocks are aligned to their size, writable,
 * counted in noos_mem_stats while held and back once freed; a request larger
 * than free memory, or of a nonexistent order, is refused with NULL and the
 * system keeps running.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "noos.h"
#include "fail.h"

static uint64_t free_pages(void)
{
	struct noos_mem_stats st;
	noos_mem_stats(&st);
	return st.free_pages;
}

static void block_of_order(unsigned order)
{
	size_t size = (size_t)NOOS_PAGE_SIZE << order;
	uint64_t before = free_pages();
	unsigned char *b = noos_pages_alloc(order);
	if (!b) {
		FAIL("order %u refused\n", order);
		return;
	}
	if ((uintptr_t)b % size)
		FAIL("order %u block %p not aligned to its size\n", order, (void *)b);
	memset(b, 0xa5, size);
	if (b[0] != 0xa5 || b[size - 1] != 0xa5)
		FAIL("order %u block not writable\n", order);
	if (before - free_pages() != (1ull << order))
		FAIL("order %u: free pages dropped by %lu\n", order,
		     (unsigned long)(before - free_pages()));
	noos_pages_free(b);
	if (free_pages() != before)
		FAIL("order %u: free pages not back after free\n", order);
}

int main(void)
{
	for (unsigned order = 0; order <= 9; order += 3)
		block_of_order(order);
	struct noos_mem_stats st;
	noos_mem_stats(&st);
	uint64_t failed = st.failed_allocs;
	if (noos_pages_alloc(NOOS_MEM_ORDERS) != NULL || noos_pages_alloc(~0u) != NULL)
		FAIL("a nonexistent order was granted\n");
	if (noos_pages_alloc(NOOS_MEM_ORDERS - 1) != NULL) /* 1 GiB on a 128 MiB VM */
		FAIL("a block larger than RAM was granted\n");
	noos_mem_stats(&st);
	if (st.failed_allocs <= failed)
		FAIL("the refused request was not counted\n");
	block_of_order(1); /* still working after the refusal */
	if (failures)
		return 1;
	printf("pages: ok\n");
	return 0;
}
