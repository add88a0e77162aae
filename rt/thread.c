/*
 * Threads: creation, exit, join and detach, the main thread, thread-local
 * storage, and the noos_thread_* calls of noos.h. Scheduling itself is
 * sched.c's.
 *
 * Memory. A thread is one heap block (struct thread, then its FP/SIMD save
 * area, 64-byte aligned) and a stack. A joined thread is freed by its
 * joiner; a detached one that exits goes on a list (thread_reap_later,
 * called while switching away from it, where nothing may be freed) and is
 * freed by the next thread_create or by an idle CPU (thread_reap). Either
 * way only once its CPU has saved its registers (on_cpu clear).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "noos.h"
#include "rt.h"

#define STACK_DEFAULT (64u << 10)
#define STACK_MIN     (16u << 10)
#define STACK_MAX     (64ul << 20)
#define MAIN_STACK    (256u << 10)

static uint32_t next_id = 1;
static uint64_t live; /* threads created and not exited; the VM exits when none are left */
static struct {
	struct spinlock lock; /* guards head */
	struct thread *head;
} zombies;

/* A thread id: never 0 (mutex.c's "no owner"), even after 2^32 threads. */
static uint32_t new_id(void)
{
	uint32_t id;
	do
		id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
	while (id == 0);
	return id;
}

/* ---- stacks ---- */

/*
 * A few default-size stacks are kept for reuse: freeing a stack unmaps it,
 * which on x86_64 means a TLB shootdown that waits for every other CPU
 * (rt/tlb.c), so a program that starts and ends many short threads would
 * spend most of its time there. Bounded, so the memory held stays small.
 */
#define STACK_CACHE 16
static struct {
	struct spinlock lock; /* guards top[] and count */
	void *top[STACK_CACHE];
	unsigned count;
} stack_cache;

static void *stack_get(size_t size, const char *name)
{
	void *top = NULL;
	if (size == STACK_DEFAULT) {
		spin_lock(&stack_cache.lock);
		if (stack_cache.count)
			top = stack_cache.top[--stack_cache.count];
		spin_unlock(&stack_cache.lock);
	}
	return top ? top : stack_alloc(size, name); /* with a guard page below */
}

static void stack_put(void *top, size_t size)
{
	if (size == STACK_DEFAULT) {
		spin_lock(&stack_cache.lock);
		bool kept = stack_cache.count < STACK_CACHE;
		if (kept)
			stack_cache.top[stack_cache.count++] = top;
		spin_unlock(&stack_cache.lock);
		if (kept)
			return;
	}
	stack_free(top);
}

/* ---- life and death ---- */

static size_t header_bytes(void)
{
	return (sizeof(struct thread) + 63) & ~(size_t)63;
}

static struct thread *thread_alloc(const char *name, size_t stack_size)
{
	struct thread *t = aligned_alloc(64, header_bytes() + arch_fpu_size());
	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name ? name : "thread");
	t->stack_size = stack_size;
	t->stack_top = stack_get(stack_size, t->name);
	if (!t->stack_top) {
		free(t);
		return NULL;
	}
	t->fpu = (char *)t + header_bytes();
	arch_fpu_init(t->fpu);
	t->id = new_id();
	t->magic = THREAD_MAGIC;
	t->prio = NOOS_PRIO_DEFAULT;
	t->affinity = ~0ull;
	t->cpu = arch_cpu_id();
	t->timer_cpu = t->cpu;
	return t;
}

/* Free t once its CPU has finished switching away from it. */
static void thread_free(struct thread *t)
{
	while (__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE))
		arch_cpu_relax();
	if (t->static_stack)
		return;
	t->magic = 0;
	stack_put(t->stack_top, t->stack_size);
	free(t);
}

void thread_reap_later(struct thread *t)
{
	spin_lock(&zombies.lock);
	t->zombie_next = zombies.head;
	zombies.head = t;
	spin_unlock(&zombies.lock);
}

void thread_reap(void)
{
	if (!__atomic_load_n(&zombies.head, __ATOMIC_RELAXED))
		return;
	spin_lock(&zombies.lock);
	struct thread *list = zombies.head;
	zombies.head = NULL;
	spin_unlock(&zombies.lock);
	while (list) {
		struct thread *next = list->zombie_next;
		thread_free(list);
		list = next;
	}
}

/* Where every thread begins (the trampoline calls it), interrupts off. */
static void thread_start(void *arg)
{
	struct thread *t = arg;
	sched_started();
	arch_irq_enable();
	thread_exit(t->fn(t->arg));
}

void thread_exit(void *retval)
{
	struct thread *t = sched_current();
	arch_irq_disable();
	spin_lock(&t->lock);
	t->retval = retval;
	t->exited = true;
	if (t->joiner)
		sched_wake(t->joiner, t->join_seq);
	bool reap = t->detached && !t->static_stack;
	spin_unlock(&t->lock);
	if (!t->static_stack && __atomic_sub_fetch(&live, 1, __ATOMIC_ACQ_REL) == 0)
		exit(0); /* the last thread is gone: as a process whose threads all exited */
	sched_exit(reap);
}

static int check_opts(const struct noos_thread_opts *o)
{
	if (o->priority && (o->priority < NOOS_PRIO_MIN || o->priority > NOOS_PRIO_MAX))
		return -EINVAL;
	if (o->stack_size > STACK_MAX)
		return -EINVAL;
	if (o->affinity && !(o->affinity & sched_online_mask()))
		return -EINVAL;
	if (o->flags & ~(unsigned)NOOS_THREAD_DETACHED)
		return -EINVAL;
	return 0;
}

static struct thread *create(void *(*fn)(void *), void *arg, const struct noos_thread_opts *o,
                             int cpu)
{
	size_t stack = o->stack_size ? o->stack_size : STACK_DEFAULT;
	struct thread *t = thread_alloc(o->name, stack < STACK_MIN ? STACK_MIN : stack);
	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	if (o->priority)
		t->prio = (uint8_t)o->priority;
	if (o->affinity)
		t->affinity = o->affinity;
	t->detached = o->flags & NOOS_THREAD_DETACHED;
	t->sp = arch_context_init((uintptr_t)t->stack_top, thread_start, t);
	__atomic_add_fetch(&live, 1, __ATOMIC_ACQ_REL);
	sched_add(t, cpu);
	return t;
}

int noos_thread_create(noos_thread_t **out, void *(*fn)(void *), void *arg,
                       const struct noos_thread_opts *opts)
{
	static const struct noos_thread_opts defaults;
	const struct noos_thread_opts *o = opts ? opts : &defaults;
	int err = check_opts(o);
	if (!fn || (!out && !(o->flags & NOOS_THREAD_DETACHED)))
		err = -EINVAL;
	if (err)
		return err;
	if (arch_in_interrupt())
		return -EPERM;
	thread_reap();
	struct thread *t = create(fn, arg, o, -1);
	if (!t)
		return -ENOMEM;
	if (out)
		*out = (noos_thread_t *)t;
	return 0;
}

/* ---- the boot thread and the main thread ---- */

/* sched_init: the boot context as a thread (its stack is the boot stack), or NULL. */
struct thread *thread_boot(void)
{
	static struct thread boot;
	void *fpu = aligned_alloc(64, arch_fpu_size());
	if (!fpu)
		return NULL;
	boot = (struct thread){.state = THREAD_RUNNING,
	                       .on_cpu = true,
	                       .static_stack = true,
	                       .detached = true,
	                       .prio = NOOS_PRIO_DEFAULT,
	                       .affinity = 1,
	                       .fpu = fpu,
	                       .name = "boot",
	                       .magic = THREAD_MAGIC};
	boot.id = new_id();
	return &boot;
}

static struct {
	int (*fn)(int, char **);
	int argc;
	char **argv;
} app;

static void *main_thread(void *arg)
{
	(void)arg;
	sched_set_affinity(sched_current(), ~0ull); /* created pinned, so that it starts on CPU 0 */
	exit(app.fn(app.argc, app.argv));
}

/* rt_boot's last step: main() in thread "main" on CPU 0, and the boot thread ends. */
void thread_run_main(int (*main_fn)(int, char **), int argc, char **argv)
{
	app.fn = main_fn;
	app.argc = argc;
	app.argv = argv;
	struct noos_thread_opts o = {.name = "main", .stack_size = MAIN_STACK, .affinity = 1};
	if (!create(main_thread, NULL, &o, 0))
		panic("no memory for the main thread");
	thread_exit(NULL);
}

/* ---- handles ---- */

static struct thread *handle(noos_thread_t *h)
{
	struct thread *t = h ? (struct thread *)(void *)h : sched_current();
	return t && t->magic == THREAD_MAGIC ? t : NULL;
}

int noos_thread_join(noos_thread_t *h, void **retval)
{
	struct thread *t = handle(h), *self = sched_current();
	if (!t || !h)
		return -ESRCH;
	if (t == self)
		return -EDEADLK;
	if (arch_in_interrupt())
		return -EPERM;
	unsigned long f = arch_irq_save();
	spin_lock(&t->lock);
	int err = t->detached || (t->joiner && t->joiner != self) ? -EINVAL : 0;
	while (!err && !t->exited) {
		t->joiner = self;
		t->join_seq = sched_block_prepare();
		spin_unlock(&t->lock);
		sched_block(0);
		spin_lock(&t->lock);
	}
	spin_unlock(&t->lock);
	arch_irq_restore(f);
	if (err)
		return err;
	if (retval)
		*retval = t->retval;
	thread_free(t);
	return 0;
}

int noos_thread_detach(noos_thread_t *h)
{
	struct thread *t = handle(h);
	if (!t || !h)
		return -ESRCH;
	spin_lock(&t->lock);
	int err = t->detached || t->joiner ? -EINVAL : 0;
	bool gone = !err && t->exited;
	if (!err)
		t->detached = true;
	spin_unlock(&t->lock);
	if (gone)
		thread_free(t);
	return err;
}

void noos_thread_exit(void *retval)
{
	thread_exit(retval);
}

void noos_thread_yield(void)
{
	sched_yield();
}

noos_thread_t *noos_thread_self(void)
{
	return (noos_thread_t *)sched_current();
}

int noos_thread_set_affinity(noos_thread_t *h, uint64_t mask)
{
	struct thread *t = handle(h);
	return t ? sched_set_affinity(t, mask) : -ESRCH;
}

int noos_thread_set_priority(noos_thread_t *h, int priority)
{
	struct thread *t = handle(h);
	if (!t)
		return -ESRCH;
	return priority < 0 ? -EINVAL : sched_set_priority(t, (unsigned)priority);
}

uint32_t noos_thread_id(noos_thread_t *h)
{
	struct thread *t = handle(h);
	return t ? t->id : 0;
}

const char *noos_thread_name(noos_thread_t *h)
{
	struct thread *t = handle(h);
	return t ? t->name : NULL;
}

/* ---- thread-local storage ---- */

int noos_tls_set(void *base)
{
	unsigned long f = arch_irq_save();
	struct thread *t = sched_current();
	if (t)
		t->tls = (uintptr_t)base;
	arch_tls_set((uintptr_t)base);
	arch_irq_restore(f);
	return 0;
}

void *noos_tls_get(void)
{
	return (void *)arch_tls_get();
}
