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
 * Addresses devices see (DMA): RAM is identity-mapped, so a kernel virtual
 * address is its physical address, except in the virtual memory window
 * (thread stacks, vm reservations), where only one page at a time is
 * contiguous. The one place to change when the page tables move RAM to a
 * direct map at an offset.
 */
uint64_t vm_virt_to_phys(uintptr_t va); /* vm.c: stacks and the vm window, page by page */
static inline uint64_t virt_to_phys(const void *p)
{
#ifndef NOOS_HOST_TEST
	if ((uintptr_t)p >= ARCH_VM_BASE)
		return vm_virt_to_phys((uintptr_t)p);
#endif
	return (uint64_t)(uintptr_t)p;
}
static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

/* chacha20.c: the ChaCha20 block function and stream cipher (RFC 8439 §2.3, §2.4). */
#define CHACHA20_KEY_BYTES   32
#define CHACHA20_NONCE_BYTES 12
#define CHACHA20_BLOCK_BYTES 64
void chacha20_block(const uint8_t key[CHACHA20_KEY_BYTES], uint32_t counter,
		    const uint8_t nonce[CHACHA20_NONCE_BYTES], uint8_t out[CHACHA20_BLOCK_BYTES]);
void chacha20_xor(const uint8_t key[CHACHA20_KEY_BYTES], uint32_t counter,
		  const uint8_t nonce[CHACHA20_NONCE_BYTES], const uint8_t *in, uint8_t *out,
		  size_t len);
void crypto_wipe(void *p, size_t len); /* zero secrets with stores the compiler keeps */

/* blake2s.c: BLAKE2s (RFC 7693), optionally keyed. */
#define BLAKE2S_OUT_BYTES 32
#define BLAKE2S_KEY_BYTES 32
struct blake2s {
	uint32_t h[8], t[2];
	uint8_t buf[64];
	size_t buflen, outlen;
};
int blake2s_init(struct blake2s *st, size_t outlen, const void *key, size_t keylen); /* 0 or -1 */
void blake2s_update(struct blake2s *st, const void *data, size_t len);
void blake2s_final(struct blake2s *st, void *out); /* outlen bytes; wipes the state */

/*
 * random.c: the entropy pool behind noos_random(). Sources are polled for
 * input (never from interrupt handlers); each registers a struct it owns.
 */
struct random_source {
	const char *name;  /* "cpu", "virtio-rng" */
	const char *where; /* the device, "" for the CPU */
	/* Mix in what has arrived (random_add_entropy); bytes credited, or -errno: source gone. */
	int (*poll)(struct random_source *src);
	uint64_t bits; /* credited so far (random.c) */
	bool dead;     /* poll failed: no longer asked (random.c) */
};
int random_add_source(struct random_source *src); /* 0 or -ENOSPC */
void random_remove_source(struct random_source *src);
/* Hash buf into the pool, crediting `bits` of entropy to src (NULL: uncredited input). */
void random_add_entropy(struct random_source *src, const void *buf, size_t len, unsigned bits);
int random_poll(void);                      /* poll every source once; live sources */
bool random_seeded(void);
uint64_t random_source_bits(const char *name); /* credited by every source of that name */
void random_report(void);                      /* one console line per source */

/*
 * spinlock (inline): test-and-test-and-set on one atomic byte. spin_lock
 * masks interrupts on this CPU while the lock is held (the previous state is
 * kept in the lock and restored by spin_unlock), so an interrupt handler may
 * take a lock the code it interrupted holds elsewhere, and a holder is never
 * preempted. Nested locks are released in reverse order. Acquire on lock and
 * release on unlock order the data it guards across vCPUs. Code that takes
 * `locked` by hand (and masks interrupts itself) may still release it with
 * spin_unlock: irq_saved is false then, and nothing is restored.
 */
struct spinlock {
	bool locked;
	bool irq_saved;          /* spin_lock masked interrupts: restore irq_state */
	unsigned long irq_state; /* arch_irq_save()'s result, written by the holder */
};
#ifdef NOOS_HOST_TEST
static inline unsigned long spin_irq_save(void) /* host unit tests have no interrupts */
{
	return 0;
}
static inline void spin_irq_restore(unsigned long s)
{
	(void)s;
}
#else
static inline unsigned long spin_irq_save(void)
{
	return arch_irq_save();
}
static inline void spin_irq_restore(unsigned long s)
{
	arch_irq_restore(s);
}
#endif
static inline void spin_lock(struct spinlock *l)
{
	unsigned long s = spin_irq_save();
	while (__atomic_exchange_n(&l->locked, true, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			arch_cpu_relax();
	l->irq_state = s;
	l->irq_saved = true;
}
static inline bool spin_trylock(struct spinlock *l)
{
	unsigned long s = spin_irq_save();
	if (__atomic_exchange_n(&l->locked, true, __ATOMIC_ACQUIRE)) {
		spin_irq_restore(s);
		return false;
	}
	l->irq_state = s;
	l->irq_saved = true;
	return true;
}
static inline void spin_unlock(struct spinlock *l)
{
	bool restore = l->irq_saved;
	unsigned long s = l->irq_state;
	l->irq_saved = false;
	__atomic_store_n(&l->locked, false, __ATOMIC_RELEASE);
	if (restore)
		spin_irq_restore(s);
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
void *pt_page_alloc(void); /* a zeroed page for page tables (before the page allocator too) */
void pt_page_free(void *p);

/*
 * pagetable.c: the kernel page tables (levels and encodings: arch.h and
 * arch/<arch>/pte.h). Nothing here flushes a TLB: callers use tlb.c.
 */
#define PT_LARGE   0x1 /* 2 MiB / 1 GiB leaves where alignment allows */
#define PT_REPLACE 0x2 /* overwrite and split what is mapped: only before the tables are live */
#define PT_CLEAR   0x4 /* unmap instead of map */
int pt_init(void);
uint64_t pt_root_pa(void);
int pt_set(uint64_t va, uint64_t pa, uint64_t size, unsigned prot, unsigned flags);
int pt_map_device(uint64_t start, uint64_t end);
size_t pt_unmap(uint64_t va, uint64_t size, uint64_t *pa, size_t max, uint64_t *stop);
long pt_protect(uint64_t va, uint64_t size, unsigned prot);
bool pt_lookup(uint64_t va, uint64_t *pa, unsigned *prot);
void *pt_prune(uint64_t va, uint64_t size);
void *pt_list_next(void *table);

/* tlb.c: TLB invalidation on every CPU (shootdown IPIs where the arch needs them). */
void tlb_flush(uintptr_t va, size_t size);
void tlb_poll(void); /* answer a pending shootdown; spin loops with interrupts off call it */
void tlb_ipi(void);  /* the ARCH_IPI_TLB handler */
uint64_t tlb_shootdowns(void);

/* vm.c: the virtual memory window (noos_vm_* in noos.h), stacks, page faults. */
#define VM_NAME_MAX 24 /* names of stacks, with the terminating NUL */
int vm_stack_create(size_t size, const char *name, uintptr_t *base);
int vm_stack_destroy(uintptr_t top);
void vm_guard_static(uintptr_t page, const char *name);
void vm_stats(struct noos_mem_stats *st);

/*
 * stack.c: thread stacks with a guard page below. stack_alloc returns the
 * top (16-byte aligned) or NULL; an overflow panics as "stack overflow of
 * <name>".
 */
void *stack_alloc(size_t size, const char *name);
void stack_free(void *top);

#endif
