/*
 * Sleeping mutexes on the futex (the three-state lock of Drepper, "Futexes
 * Are Tricky", 2011, mutex3): state 0 free, 1 held, 2 held and maybe
 * waited for. Uncontended lock and unlock are one atomic each; unlock calls
 * futex_wake only when someone may be asleep. A short spin first, since the
 * holder often runs on another CPU and is about to let go. Not fair, not
 * recursive, no priority inheritance.
 */
#include <errno.h>

#include "noos.h"
#include "rt.h"

#define SPIN_TRIES 100

static uint32_t self_id(void)
{
	struct thread *t = sched_current();
	return t ? t->id : 0;
}

static bool try_take(noos_mutex_t *m)
{
	uint32_t free_state = 0;
	return __atomic_compare_exchange_n(&m->state, &free_state, 1, false, __ATOMIC_ACQUIRE,
	                                   __ATOMIC_RELAXED);
}

int noos_mutex_init(noos_mutex_t *m)
{
	if (!m)
		return -EINVAL;
	m->state = 0;
	m->owner = 0;
	return 0;
}

/* The slow path: mark the lock contended and sleep until it is handed over free. */
static void lock_contended(noos_mutex_t *m)
{
	while (__atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE) != 0)
		futex_wait(&m->state, 2, 0);
}

int noos_mutex_lock(noos_mutex_t *m)
{
	if (!m)
		return -EINVAL;
	uint32_t me = self_id();
	if (arch_in_interrupt())
		return -EPERM;
	if (me && __atomic_load_n(&m->owner, __ATOMIC_RELAXED) == me)
		return -EDEADLK;
	if (!try_take(m)) {
		for (int i = 0; i < SPIN_TRIES; i++) {
			if (__atomic_load_n(&m->state, __ATOMIC_RELAXED) == 0 && try_take(m))
				goto taken;
			arch_cpu_relax();
		}
		lock_contended(m);
	}
taken:
	__atomic_store_n(&m->owner, me, __ATOMIC_RELAXED);
	return 0;
}

int noos_mutex_trylock(noos_mutex_t *m)
{
	if (!m)
		return -EINVAL;
	if (!try_take(m))
		return -EBUSY;
	__atomic_store_n(&m->owner, self_id(), __ATOMIC_RELAXED);
	return 0;
}

int noos_mutex_unlock(noos_mutex_t *m)
{
	if (!m)
		return -EINVAL;
	if (__atomic_load_n(&m->state, __ATOMIC_RELAXED) == 0 ||
	    __atomic_load_n(&m->owner, __ATOMIC_RELAXED) != self_id())
		return -EPERM;
	__atomic_store_n(&m->owner, 0, __ATOMIC_RELAXED);
	if (__atomic_exchange_n(&m->state, 0, __ATOMIC_RELEASE) == 2)
		futex_wake(&m->state, 1);
	return 0;
}

/* cond.c: retake m after a wait, as contended (other waiters may sleep on it). */
void mutex_relock(noos_mutex_t *m)
{
	if (!try_take(m))
		lock_contended(m);
	__atomic_store_n(&m->owner, self_id(), __ATOMIC_RELAXED);
}

bool mutex_held_by_me(noos_mutex_t *m)
{
	return __atomic_load_n(&m->state, __ATOMIC_RELAXED) != 0 &&
	       __atomic_load_n(&m->owner, __ATOMIC_RELAXED) == self_id();
}
