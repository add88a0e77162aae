/*
 * The C library's allocation calls, on the kernel heap (rt/heap.c via
 * mem_heap). Kept apart from heap.c so host tests link the heap under its
 * own names and never interpose on the host's malloc.
 */
#include <errno.h>
#include <stdlib.h>

#include "rt.h"

void *malloc(size_t size)
{
	return heap_alloc(mem_heap, size);
}

void *calloc(size_t n, size_t size)
{
	return heap_calloc(mem_heap, n, size);
}

void *realloc(void *p, size_t size)
{
	return heap_realloc(mem_heap, p, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	return heap_memalign(mem_heap, align, size);
}

/* POSIX: returns an error number (not negated), *out untouched on failure. */
int posix_memalign(void **out, size_t align, size_t size)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	void *p = heap_memalign(mem_heap, align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void free(void *p)
{
	heap_free(mem_heap, p);
}
