/*
 * rt/ internal header: the kernel core's functions, grouped by the file that
 * defines them. Applications use noos.h instead.
 */
#ifndef NOOS_RT_H
#define NOOS_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arch.h"

#define NOOS_VERSION "0.1.0"

/* The exit status of a panicked guest (as Rust uses 101), seen by ./noos run. */
#define PANIC_EXIT_STATUS 101

/* console.c */
void console_write(const char *s, size_t len);

/* panic.c */
void panic(const char *fmt, ...) __attribute__((noreturn, format(__printf__, 1, 2)));
void panic_trap(const struct trap_frame *tf, const char *fmt, ...)
    __attribute__((noreturn, format(__printf__, 2, 3)));
void backtrace_print(uintptr_t first_pc, uintptr_t fp);

/* ssp.c */
void ssp_init(void);

/* cmdline.c: the boot command line split into argv and key=value environment. */
#define CMDLINE_MAX_BYTES 4096
#define CMDLINE_MAX_ARGS  64
#define CMDLINE_MAX_ENV   64
struct cmdline {
	char storage[CMDLINE_MAX_BYTES];
	int argc;
	char *argv[CMDLINE_MAX_ARGS + 1]; /* NULL-terminated; argv[0] is the program name */
	int envc;
	char *envp[CMDLINE_MAX_ENV + 1]; /* NULL-terminated "key=value" strings */
	bool truncated;                  /* something did not fit and was dropped */
};
void cmdline_parse(const char *src, const char *program, struct cmdline *out);
const char *cmdline_lookup(const struct cmdline *c, const char *key);

/* boot.c */
extern struct cmdline boot_cmdline;

/*
 * spinlock (inline): test-and-test-and-set on one atomic byte; acquire on
 * lock and release on unlock order the data it guards across vCPUs.
 * TODO(issue 5): once interrupt handlers may take a lock, add a variant that
 * masks interrupts on this CPU while held, and relax the CPU while spinning
 * (pause / yield) through an arch.h call.
 */
struct spinlock {
	bool locked;
};
static inline void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, true, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			;
}
static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, false, __ATOMIC_RELEASE);
}

/* pmm.c: RAM from struct boot_info -> sorted, disjoint, page-aligned ranges. */
#define PMM_MAX_RANGES (2 * BOOT_MAX_RANGES) /* each reserved range splits at most one */
unsigned pmm_ram_ranges(const struct boot_info *bi, uint64_t limit, struct mem_range *out);
unsigned pmm_free_ranges(const struct boot_info *bi, uint64_t limit, struct mem_range *out);
uint64_t pmm_total(const struct mem_range *r, unsigned n);

/* buddy.c: the page allocator (blocks of PAGE_SIZE << order, order <= BUDDY_MAX_ORDER). */
#define PAGE_SHIFT      12
#define PAGE_SIZE       (1ul << PAGE_SHIFT)
#define BUDDY_MAX_ORDER 18 /* 1 GiB blocks */
#define BUDDY_ORDERS    (BUDDY_MAX_ORDER + 1)
struct buddy;
struct noos_mem_stats;
struct buddy *buddy_init(const struct mem_range *ranges, unsigned n, bool debug);
void *buddy_alloc(struct buddy *b, unsigned order);
void buddy_free(struct buddy *b, void *p);
int buddy_block_order(struct buddy *b, const void *p);
unsigned buddy_owner(struct buddy *b, const void *p);
void buddy_set_owner(struct buddy *b, const void *p, unsigned owner);
void buddy_stats(struct buddy *b, struct noos_mem_stats *st);
size_t buddy_meta_bytes(const struct buddy *b);
const char *buddy_check(struct buddy *b);

/* heap.c: malloc and friends on top of a page allocator. */
struct heap;
struct heap *heap_init(struct buddy *pages, bool debug);
void *heap_alloc(struct heap *h, size_t size);
void *heap_memalign(struct heap *h, size_t align, size_t size);
void *heap_calloc(struct heap *h, size_t n, size_t size);
void *heap_realloc(struct heap *h, void *p, size_t size);
void heap_free(struct heap *h, void *p);
size_t heap_usable_size(struct heap *h, const void *p);
void heap_trim(struct heap *h);
void heap_stats(struct heap *h, struct noos_mem_stats *st);

/* mem.c: the kernel's page allocator and heap, set up from the boot info. */
extern struct heap *mem_heap; /* NULL when there is no usable RAM */
void mem_init(const struct boot_info *bi);
void *page_alloc(unsigned order);
void page_free(void *p);

#endif
