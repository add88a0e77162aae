/* The page allocator rt/mem.c provides in the image, for host tests: aligned host memory. */
#include <stdlib.h>
#include <string.h>

#include "rt.h"

void *page_alloc(unsigned order)
{
	void *p = aligned_alloc(PAGE_SIZE << order, PAGE_SIZE << order);
	if (p)
		memset(p, 0xa5, PAGE_SIZE << order); /* as debug poisoning would: never zeroed */
	return p;
}

void page_free(void *p)
{
	free(p);
}
