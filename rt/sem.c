/*
 * Counting semaphores on the futex: wait takes one from the count if it is
 * not zero, else sleeps while it is zero; post adds one and wakes a sleeper
 * if there may be one. No lost wakeup: a waiter counts itself in `waiters`
 * before the futex compares the count to zero, and a poster adds to the
 * count before it reads `waiters` (both sequentially consistent), so
 * either the waiter sees the new count or the poster sees the waiter.
 */
#include <errno.h>

#include "noos.h"
#include "rt.h"

int noos_sem_init(noos_sem_t *s, unsigned value)
{
	if (!s || value > NOOS_SEM_MAX)
		return -EINVAL;
	s->count = value;
	s->waiters = 0;
	return 0;
}

int noos_sem_trywait(noos_sem_t *s)
{
	if (!s)
		return -EINVAL;
	uint32_t c = __atomic_load_n(&s->count, __ATOMIC_RELAXED);
	while (c != 0)
		if (__atomic_compare_exchange_n(&s->count, &c, c - 1, true, __ATOMIC_ACQUIRE,
		                                __ATOMIC_RELAXED))
			return 0;
	return -EAGAIN;
}

static int wait_until(noos_sem_t *s, uint64_t deadline)
{
	if (!s)
		return -EINVAL;
	for (;;) {
		if (noos_sem_trywait(s) == 0)
			return 0;
		__atomic_add_fetch(&s->waiters, 1, __ATOMIC_SEQ_CST);
		int err = futex_wait(&s->count, 0, deadline);
		__atomic_sub_fetch(&s->waiters, 1, __ATOMIC_SEQ_CST);
		if (err == -ETIMEDOUT)
			return noos_sem_trywait(s) == 0 ? 0 : -ETIMEDOUT;
		if (err == -EPERM || err == -EINVAL)
			return err;
	}
}

int noos_sem_wait(noos_sem_t *s)
{
	return wait_until(s, 0);
}

int noos_sem_timedwait(noos_sem_t *s, uint64_t timeout_ns)
{
	return wait_until(s, futex_deadline(timeout_ns));
}

int noos_sem_post(noos_sem_t *s)
{
	if (!s)
		return -EINVAL;
	uint32_t c = __atomic_load_n(&s->count, __ATOMIC_RELAXED);
	do {
		if (c >= NOOS_SEM_MAX)
			return -EOVERFLOW;
	} while (!__atomic_compare_exchange_n(&s->count, &c, c + 1, true, __ATOMIC_SEQ_CST,
	                                      __ATOMIC_RELAXED));
	if (__atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST))
		futex_wake(&s->count, 1);
	return 0;
}

int noos_sem_value(noos_sem_t *s)
{
	return s ? (int)__atomic_load_n(&s->count, __ATOMIC_RELAXED) : -EINVAL;
}
