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
void console_panic_mode(void); /* from now on, write without the lock */

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

/* vm_span.c: vm.c's bookkeeping, a sorted array of spans (no locking: vm.c's). */
enum vm_span_kind { SPAN_RESERVED, SPAN_COMMITTED, SPAN_STACK, SPAN_GUARD };
struct vm_span {
	uintptr_t base, end;
	uint8_t kind;           /* enum vm_span_kind */
	uint8_t prot;           /* ARCH_PROT_* of SPAN_COMMITTED and SPAN_STACK */
	char name[VM_NAME_MAX]; /* SPAN_STACK and SPAN_GUARD: whose stack */
};
struct vm_spans {
	struct vm_span *v; /* sorted by base, disjoint */
	size_t n, cap;
};
/* The first span that ends above a (set->n when none does); the span holding a, or NULL. */
size_t vm_spans_find(const struct vm_spans *set, uintptr_t a);
struct vm_span *vm_spans_at(const struct vm_spans *set, uintptr_t a);
bool vm_spans_room(struct vm_spans *set, size_t extra); /* false: no memory for that many more */
void vm_spans_insert(struct vm_spans *set, size_t i, const struct vm_span *s);
void vm_spans_remove(struct vm_spans *set, size_t i, size_t count);
/* Make a a span boundary (needs room for one more); merge equal neighbours in [lo - 1, hi]. */
void vm_spans_split(struct vm_spans *set, uintptr_t a);
void vm_spans_merge(struct vm_spans *set, size_t lo, size_t hi);
/* [a, e) is covered by spans without a gap, each of a kind in `kinds` (bits 1 << kind). */
bool vm_spans_cover(const struct vm_spans *set, uintptr_t a, uintptr_t e, unsigned kinds);
/* [a, e), covered, takes one state (needs room for two more spans). */
void vm_spans_set_state(struct vm_spans *set, uintptr_t a, uintptr_t e, enum vm_span_kind kind,
                        unsigned prot, const char *name);
void vm_span_name(char *dst, const char *src); /* truncated to VM_NAME_MAX, NULL as "" */

/*
 * stack.c: thread stacks with a guard page below. stack_alloc returns the
 * top (16-byte aligned) or NULL; an overflow panics as "stack overflow of
 * <name>".
 */
void *stack_alloc(size_t size, const char *name);
void stack_free(void *top);

/* ---- threads and scheduling (issue 5) ---- */

#include "noos.h" /* the noos_* types that rt/ implements */

#define container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

/* runq.c: one CPU's ready threads by priority (no locking: the caller holds the CPU's). */
#define RUNQ_PRIOS 32
struct runq_node {
	struct runq_node *next, *prev;
	uint8_t prio;
	bool queued;
};
struct runq {
	struct runq_node head[RUNQ_PRIOS]; /* per priority, a FIFO ring through its head */
	uint32_t bitmap;                   /* bit p: priority p has nodes */
	unsigned count;
};
void runq_init(struct runq *q);
void runq_push(struct runq *q, struct runq_node *n, unsigned prio, bool front);
void runq_remove(struct runq *q, struct runq_node *n);
int runq_top(const struct runq *q); /* the best priority queued, -1 if none */
struct runq_node *runq_pop(struct runq *q);
struct runq_node *runq_take_if(struct runq *q, bool (*ok)(const struct runq_node *, void *),
                               void *ctx);
unsigned runq_count(const struct runq *q); /* may be read without the lock, as a hint */

/* timerq.c: one CPU's deadlines, a pairing heap (no locking: the caller's). */
struct timer {
	uint64_t deadline;                 /* arch_time_ns() */
	struct timer *child, *next, *prev; /* heap links (timerq.c) */
	bool queued;
};
struct timerq {
	struct timer *root;
	unsigned count;
};
void timerq_init(struct timerq *q);
void timerq_insert(struct timerq *q, struct timer *t);
void timerq_remove(struct timerq *q, struct timer *t);
struct timer *timerq_first(const struct timerq *q);
uint64_t timerq_next(const struct timerq *q); /* UINT64_MAX when empty */
struct timer *timerq_pop_due(struct timerq *q, uint64_t now);

/*
 * cpu_timer.c: this CPU's one deadline on its one-shot timer interrupt.
 * Run the hook on this CPU, once, at the end of the timer interrupt after
 * arch_time_ns() >= deadline_ns (never earlier; a deadline in the past at
 * once). Replaces any earlier deadline of this CPU. cpu_timer_expired and
 * cpu_timer_run_hook (the arch's interrupt calls them) are in arch.h.
 */
void cpu_timer_oneshot(uint64_t deadline_ns);
void cpu_timer_cancel(void); /* this CPU's pending deadline, if any */
typedef void (*cpu_timer_fn)(void);
void cpu_timer_set_handler(cpu_timer_fn fn); /* one hook for all CPUs; NULL = ignore */

/* A kernel thread. Application threads are these too (noos_thread_t in noos.h). */
enum thread_state {
	THREAD_RUNNING, /* current on CPU `cpu` */
	THREAD_READY,   /* in a run queue, or about to be put in one */
	THREAD_BLOCKED, /* waiting for sched_wake (or its timer) */
	THREAD_DEAD,    /* exited */
};
#define THREAD_NAME_MAX 24
#define THREAD_MAGIC    0x74687264u /* "thrd": a handle that is a live thread */
struct thread {
	uintptr_t sp; /* saved stack pointer while switched out (arch_context_switch) */
	/* sched.c: guarded by the run-queue lock of CPU `cpu` */
	struct runq_node rq;
	unsigned cpu;       /* where it runs or is queued; changes only under the old CPU's lock */
	uint8_t state;      /* enum thread_state */
	uint8_t prio;       /* NOOS_PRIO_MIN..NOOS_PRIO_MAX; 0 for idle threads */
	bool on_cpu;        /* its registers are live on a CPU (until the switch away finished) */
	bool idle;          /* a CPU's idle thread: never queued, never blocks */
	bool reap;          /* DEAD and detached: freed once switched away from */
	bool static_stack;  /* boot and AP idle contexts: nothing to free */
	uint32_t block_seq; /* counts blocks; a wake for an earlier block is stale */
	uint64_t affinity;  /* bit n: may run on CPU n */
	struct timer timer; /* sched_block's deadline, in the timer queue of timer_cpu */
	uint32_t timer_seq;
	unsigned timer_cpu;
	/* switched with the thread (sched.c) */
	uintptr_t tls;
	void *fpu; /* FP/SIMD save area, NULL for threads that never use FP (idle) */
	/* thread.c: lock guards exited, detached, joiner, join_seq, retval */
	struct spinlock lock;
	bool exited, detached;
	struct thread *joiner;
	uint32_t join_seq;
	void *retval;
	void *(*fn)(void *);
	void *arg;
	void *stack_top;
	size_t stack_size;
	struct thread *zombie_next; /* thread.c's list of detached threads to free */
	uint32_t id, magic;
	char name[THREAD_NAME_MAX];
	int errno_value; /* errno.c: this thread's errno (lwIP's sockets set it) */
};

/*
 * sched.c, sched_place.c, sched_wait.c: the scheduler; per-CPU run queues,
 * preemption, sleeping and waking. Blocking follows one pattern (futex.c,
 * thread.c): with interrupts off and the waiters' lock held, seq =
 * sched_block_prepare(), publish (thread, seq) where the waker finds it,
 * drop the lock, sched_block(deadline), retake the lock and check why we
 * woke. A waker calls sched_wake(thread, seq) with that lock held; a stale
 * seq (the thread woke already) does nothing.
 */
struct sched_cpu; /* one CPU's scheduling state, below */
/* sched.c: switching, the timer and IPI hooks, the idle loop, CPUs joining */
void sched_init(void); /* boot CPU: the boot context becomes thread "boot" */
void sched_cpu_entry(struct cpu *self) __attribute__((noreturn)); /* arch_smp_start's entry */
void sched_started(void);           /* a new thread's first act (thread.c) */
struct thread *sched_current(void); /* NULL before sched_init */
void sched_yield(void);
void sched_exit(bool reap) __attribute__((noreturn));
uint64_t sched_online_mask(void);
struct sched_cpu *sched_lock_thread(struct thread *t); /* lock the CPU that guards t's state */
void sched_switch(void); /* run the best thread this CPU has; interrupts off, no lock held */
/* sched_place.c: where a thread that became ready runs, and making that CPU look */
void sched_add(struct thread *t, int cpu); /* queue a new thread; cpu < 0: the scheduler picks */
int sched_set_affinity(struct thread *t, uint64_t mask);
int sched_set_priority(struct thread *t, unsigned prio);
unsigned sched_select_cpu(const struct thread *t);
void sched_enqueue(struct thread *t, unsigned target); /* t READY, in no queue, cpu == target */
void sched_kick(struct sched_cpu *sc);
void sched_kick_idle(const struct thread *t, unsigned queued_on);
void sched_set_idle(unsigned cpu, bool idle); /* the placement hint: cpu runs its idle thread */
bool sched_steal(struct sched_cpu *me);       /* take a thread queued elsewhere; true if one */
/* sched_wait.c: blocking and waking, sleep deadlines in each CPU's timer queue */
uint32_t sched_block_prepare(void);  /* interrupts off */
void sched_block(uint64_t deadline); /* interrupts off, no spinlock held; 0: no deadline */
bool sched_wake(struct thread *t, uint32_t seq);
int sched_sleep_until(uint64_t deadline);
void sched_expire_timers(struct sched_cpu *sc, uint64_t now); /* wake those whose deadline passed */

/* The scheduler's files share one CPU's state (locking: sched.c's comment) and these helpers. */
struct sched_cpu {
	struct spinlock lock; /* guards rq, current and its threads' state */
	struct runq rq;
	struct thread *current;
	struct thread *prev; /* switched away from, for finish_switch; this CPU only */
	bool need_resched;   /* something better is queued: switch at the next chance */
	bool rotate;         /* current's slice is over or it yielded: equal priorities go first */
	bool in_hook;        /* in the timer or IPI hook, which reschedules by itself */
	bool polling;        /* the idle thread polls for work: no IPI needed to wake it */
	uint64_t slice_end;
	uint64_t armed;          /* the CPU timer's deadline, UINT64_MAX when off; this CPU only */
	struct spinlock tq_lock; /* guards tq */
	struct timerq tq;
	uint64_t tq_next; /* timerq_next(&tq), read without tq_lock */
	unsigned id;
	struct thread idle_thread;
	uint64_t switches, preemptions, steals; /* statistics */
};
extern struct sched_cpu sched_cpus[ARCH_MAX_CPUS];

static inline struct sched_cpu *sched_this_cpu(void)
{
	return arch_this_cpu()->rt;
}
static inline struct thread *sched_thread_of(const struct runq_node *n)
{
	return container_of(n, struct thread, rq);
}
static inline bool sched_allowed_on(const struct thread *t, unsigned cpu)
{
	return (t->affinity >> cpu) & 1;
}
static inline void sched_flag_set(bool *f, bool v)
{
	__atomic_store_n(f, v, __ATOMIC_RELAXED);
}
static inline bool sched_flag_get(const bool *f)
{
	return __atomic_load_n(f, __ATOMIC_RELAXED);
}
static inline unsigned sched_thread_cpu(const struct thread *t)
{
	return __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
}
static inline void sched_set_thread_cpu(struct thread *t, unsigned cpu)
{
	__atomic_store_n(&t->cpu, cpu, __ATOMIC_RELEASE);
}
/* thread.c */
struct thread *thread_boot(void); /* sched_init: the boot context as a thread, NULL if no memory */
void thread_run_main(int (*main_fn)(int, char **), int argc, char **argv) __attribute__((noreturn));
void thread_exit(void *retval) __attribute__((noreturn));
void thread_reap(void);                   /* free detached threads that exited; thread context */
void thread_reap_later(struct thread *t); /* sched.c: t exited detached; any context */

/* mutex.c, for cond.c */
void mutex_relock(noos_mutex_t *m);
bool mutex_held_by_me(noos_mutex_t *m);

/* futex.c: the primitive mutex.c, cond.c and sem.c are built on; deadline 0 = none. */
int futex_wait(const uint32_t *addr, uint32_t expected, uint64_t deadline);
int futex_wake(const uint32_t *addr, int n);
uint64_t futex_deadline(uint64_t timeout_ns); /* now + timeout; 0 for NOOS_FOREVER */

#endif
