/*
 * Condition variables on the futex: a waiter notes the sequence number,
 * unlocks the mutex and sleeps while the number is unchanged; a signal bumps
 * it and wakes one (broadcast: all). A signal between the unlock and the
 * sleep changes the number, so the futex refuses to sleep (-EAGAIN): it is
 * never lost. `waiters` lets signal skip the futex call when nobody waits;
 * the waiter counts itself in before it unlocks the mutex, so a signaller
 * holding the mutex sees it.
 */
#include <errno.h>
#include <limits.h>

#include "noos.h"
#include "rt.h"

int noos_cond_init(noos_cond_t *c)
{
	if (!c)
		return -EINVAL;
	c->seq = 0;
	c->waiters = 0;
	return 0;
}

static int wait_until(noos_cond_t *c, noos_mutex_t *m, uint64_t deadline)
{
	if (!c || !m)
		return -EINVAL;
	if (arch_in_interrupt() || !mutex_held_by_me(m))
		return -EPERM;
	__atomic_add_fetch(&c->waiters, 1, __ATOMIC_SEQ_CST);
	uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_SEQ_CST);
	noos_mutex_unlock(m);
	int err = futex_wait(&c->seq, seq, deadline);
	__atomic_sub_fetch(&c->waiters, 1, __ATOMIC_SEQ_CST);
	mutex_relock(m);
	return err == -ETIMEDOUT ? -ETIMEDOUT : 0;
}

int noos_cond_wait(noos_cond_t *c, noos_mutex_t *m)
{
	return wait_until(c, m, 0);
}

int noos_cond_timedwait(noos_cond_t *c, noos_mutex_t *m, uint64_t timeout_ns)
{
	return wait_until(c, m, futex_deadline(timeout_ns));
}

static int signal_n(noos_cond_t *c, int n)
{
	if (!c)
		return -EINVAL;
	__atomic_add_fetch(&c->seq, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&c->waiters, __ATOMIC_SEQ_CST))
		futex_wake(&c->seq, n);
	return 0;
}

int noos_cond_signal(noos_cond_t *c)
{
	return signal_n(c, 1);
}

int noos_cond_broadcast(noos_cond_t *c)
{
	return signal_n(c, INT_MAX);
}
