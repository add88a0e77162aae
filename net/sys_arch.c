/*
 * lwIP's operating-system layer on noos (lwIP 2.1 src/include/lwip/sys.h):
 * semaphores and mutexes are noos's (held by value in lwIP's structures),
 * a mailbox is a bounded ring guarded by a spinlock with two counting
 * semaphores (messages, free slots), threads are detached noos threads,
 * sys_now is the monotonic clock in milliseconds.
 *
 * SYS_ARCH_PROTECT (pbuf reference counts, memp pools, stats) is one
 * spinlock that masks interrupts on the CPU holding it, and may be taken
 * again by the CPU that holds it (lwIP allows nesting); holders are a few
 * instructions long and never sleep.
 *
 * With core locking, every thread that runs the stack holds lwIP's core
 * lock (lock_tcpip_core, a noos mutex that records its holder), which
 * LWIP_ASSERT_CORE_LOCKED checks once tcpip_thread has started.
 */
#include <errno.h>
#include <stdlib.h>

#include "noos.h"
#include "rt.h" /* first: see mem_init in lwipopts.h */

#include "lwip/opt.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcpip.h"

#include "net.h"

#define NS_PER_MS         1000000ull
#define MBOX_SIZE_DEFAULT 64
#define NO_OWNER          (~0u)

/* ---- time ---- */

u32_t sys_now(void)
{
	return (u32_t)(noos_time_ns() / NS_PER_MS);
}

void sys_init(void)
{
}

/* Milliseconds since start (at least 0), as sys_arch_sem_wait and mbox_fetch report. */
static u32_t elapsed_ms(uint64_t start)
{
	return (u32_t)((noos_time_ns() - start) / NS_PER_MS);
}

static uint64_t timeout_ns(u32_t ms)
{
	return ms == 0 ? NOOS_FOREVER : ms * NS_PER_MS;
}

/* ---- semaphores and mutexes ---- */

err_t sys_sem_new(sys_sem_t *sem, u8_t count)
{
	if (noos_sem_init(&sem->sem, count) != 0)
		return ERR_VAL;
	sem->valid = true;
	SYS_ARCH_LOCKED(SYS_STATS_INC_USED(sem));
	return ERR_OK;
}

void sys_sem_free(sys_sem_t *sem)
{
	sem->valid = false;
	SYS_ARCH_LOCKED(SYS_STATS_DEC(sem.used));
}

void sys_sem_signal(sys_sem_t *sem)
{
	noos_sem_post(&sem->sem);
}

u32_t sys_arch_sem_wait(sys_sem_t *sem, u32_t timeout)
{
	uint64_t start = noos_time_ns();
	if (noos_sem_timedwait(&sem->sem, timeout_ns(timeout)) != 0)
		return SYS_ARCH_TIMEOUT;
	return elapsed_ms(start);
}

err_t sys_mutex_new(sys_mutex_t *m)
{
	noos_mutex_init(&m->mutex);
	m->valid = true;
	SYS_ARCH_LOCKED(SYS_STATS_INC_USED(mutex));
	return ERR_OK;
}

void sys_mutex_free(sys_mutex_t *m)
{
	m->valid = false;
	SYS_ARCH_LOCKED(SYS_STATS_DEC(mutex.used));
}

void sys_mutex_lock(sys_mutex_t *m)
{
	int err = noos_mutex_lock(&m->mutex);
	LWIP_ASSERT("sys_mutex_lock: not from an interrupt, not twice", err == 0);
	(void)err;
}

void sys_mutex_unlock(sys_mutex_t *m)
{
	/* The end of a burst under the core lock: TCP segments held for TSO go out (netif.c). */
	if (m == &lock_tcpip_core)
		net_netif_flush();
	noos_mutex_unlock(&m->mutex);
}

/* ---- mailboxes ---- */

struct sys_mbox {
	struct spinlock lock; /* guards head, tail and msgs */
	noos_sem_t items;     /* messages waiting */
	noos_sem_t space;     /* free slots */
	uint32_t head, tail, size;
	void *msgs[];
};

err_t sys_mbox_new(sys_mbox_t *mbox, int size)
{
	uint32_t n = size > 0 ? (uint32_t)size : MBOX_SIZE_DEFAULT;
	struct sys_mbox *mb = calloc(1, sizeof(*mb) + n * sizeof(void *));
	if (!mb) {
		SYS_ARCH_LOCKED(SYS_STATS_INC(mbox.err));
		return ERR_MEM;
	}
	mb->size = n;
	noos_sem_init(&mb->items, 0);
	noos_sem_init(&mb->space, n);
	*mbox = mb;
	SYS_ARCH_LOCKED(SYS_STATS_INC_USED(mbox));
	return ERR_OK;
}

void sys_mbox_free(sys_mbox_t *mbox)
{
	free(*mbox);
	*mbox = NULL;
	SYS_ARCH_LOCKED(SYS_STATS_DEC(mbox.used));
}

/* A slot is reserved (space taken): fill it and tell a reader. */
static void put(struct sys_mbox *mb, void *msg)
{
	spin_lock(&mb->lock);
	mb->msgs[mb->tail++ % mb->size] = msg;
	spin_unlock(&mb->lock);
	noos_sem_post(&mb->items);
}

/* A message is reserved (items taken): take it and free the slot. */
static void *get(struct sys_mbox *mb)
{
	spin_lock(&mb->lock);
	void *msg = mb->msgs[mb->head++ % mb->size];
	spin_unlock(&mb->lock);
	noos_sem_post(&mb->space);
	return msg;
}

void sys_mbox_post(sys_mbox_t *mbox, void *msg)
{
	while (noos_sem_wait(&(*mbox)->space) != 0)
		;
	put(*mbox, msg);
}

err_t sys_mbox_trypost(sys_mbox_t *mbox, void *msg)
{
	if (noos_sem_trywait(&(*mbox)->space) != 0) {
		SYS_ARCH_LOCKED(SYS_STATS_INC(mbox.err));
		return ERR_MEM;
	}
	put(*mbox, msg);
	return ERR_OK;
}

/* Neither trywait, the spinlock nor post sleeps: safe in an interrupt handler. */
err_t sys_mbox_trypost_fromisr(sys_mbox_t *mbox, void *msg)
{
	return sys_mbox_trypost(mbox, msg);
}

u32_t sys_arch_mbox_fetch(sys_mbox_t *mbox, void **msg, u32_t timeout)
{
	uint64_t start = noos_time_ns();
	if (noos_sem_timedwait(&(*mbox)->items, timeout_ns(timeout)) != 0)
		return SYS_ARCH_TIMEOUT;
	void *m = get(*mbox);
	if (msg)
		*msg = m;
	return elapsed_ms(start);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t *mbox, void **msg)
{
	if (noos_sem_trywait(&(*mbox)->items) != 0)
		return SYS_MBOX_EMPTY;
	void *m = get(*mbox);
	if (msg)
		*msg = m;
	return 0;
}

/* ---- threads ---- */

struct start {
	lwip_thread_fn fn;
	void *arg;
};

static void *trampoline(void *p)
{
	struct start s = *(struct start *)p;
	free(p);
	s.fn(s.arg);
	return NULL;
}

sys_thread_t sys_thread_new(const char *name, lwip_thread_fn fn, void *arg, int stacksize, int prio)
{
	struct start *s = malloc(sizeof(*s));
	LWIP_ASSERT("sys_thread_new: no memory", s != NULL);
	*s = (struct start){fn, arg};
	struct noos_thread_opts o = {
	    .name = name,
	    .stack_size = stacksize > 0 ? (size_t)stacksize : 0,
	    .priority = prio,
	    .flags = NOOS_THREAD_DETACHED,
	};
	noos_thread_t *t = NULL;
	int err = noos_thread_create(&t, trampoline, s, &o);
	LWIP_ASSERT("sys_thread_new: thread not created", err == 0);
	(void)err;
	return t;
}

/* ---- SYS_ARCH_PROTECT ---- */

static struct {
	struct spinlock lock;
	unsigned owner; /* CPU holding it, NO_OWNER */
	unsigned depth;
} prot = {.owner = NO_OWNER};

sys_prot_t sys_arch_protect(void)
{
	unsigned long irq = arch_irq_save(); /* no migration, no interrupt while we look */
	unsigned me = arch_cpu_id();
	if (__atomic_load_n(&prot.owner, __ATOMIC_RELAXED) == me) {
		prot.depth++;
		return irq;
	}
	spin_lock(&prot.lock);
	prot.owner = me;
	prot.depth = 1;
	return irq;
}

void sys_arch_unprotect(sys_prot_t irq)
{
	if (--prot.depth == 0) {
		__atomic_store_n(&prot.owner, NO_OWNER, __ATOMIC_RELAXED);
		spin_unlock(&prot.lock);
	}
	arch_irq_restore(irq);
}

/* ---- core locking checks ---- */

static uint32_t tcpip_thread_id;

void sys_mark_tcpip_thread(void)
{
	tcpip_thread_id = noos_thread_id(NULL);
}

void sys_check_core_locking(void)
{
	if (!tcpip_thread_id)
		return; /* lwip_init, before any other thread can be in the stack */
	LWIP_ASSERT("lwIP called without its core lock (LOCK_TCPIP_CORE)",
	            lock_tcpip_core.mutex.owner == noos_thread_id(NULL));
}
