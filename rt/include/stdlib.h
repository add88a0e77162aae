/* The freestanding stdlib subset noos provides. */
#ifndef NOOS_STDLIB_H
#define NOOS_STDLIB_H

#include <stddef.h>

unsigned long strtoul(const char *restrict s, char **restrict end, int base);
long strtol(const char *restrict s, char **restrict end, int base);
int atoi(const char *s);
void exit(int status) __attribute__((noreturn));
void abort(void) __attribute__((noreturn));

/* rt/malloc.c: the kernel heap (rt/heap.c); NULL when memory runs out. */
void *malloc(size_t size) __attribute__((malloc, alloc_size(1)));
void *calloc(size_t n, size_t size) __attribute__((malloc, alloc_size(1, 2)));
void *realloc(void *p, size_t size) __attribute__((alloc_size(2)));
void *aligned_alloc(size_t align, size_t size) __attribute__((malloc, alloc_size(2)));
int posix_memalign(void **out, size_t align, size_t size);
void free(void *p);

#endif
