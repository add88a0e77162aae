/*
 * futex: noos_futex_wait / noos_futex_wake semantics.
 *
 *  - a word that differs from the expected value: -EAGAIN at once
 *  - a timeout: -ETIMEDOUT, never before the timeout passed; 0 ns too
 *  - a wake from another CPU ends a long wait early with 0
 *  - wake N wakes exactly N of M waiters (the oldest), then the rest
 *  - waiters on other words sharing a hash bucket are not woken
 *  - a waiter that times out while being woken is accounted once: every
 *    wake that reported a waiter matches a wait that returned 0
 *  - bad addresses: -EINVAL
 *
 * Prints "futex: ok N" (N CPUs) and returns 0, or FAIL lines and 1.
 */
#include "threads.h"

#include <errno.h>
#include <limits.h>

static uint32_t word;

static void check_basics(void)
{
	word = 5;
	if (noos_futex_wait(&word, 4, NOOS_FOREVER) != -EAGAIN)
		FAIL("wait on a changed word did not return -EAGAIN\n");
	if (noos_futex_wait(&word, 5, 0) != -ETIMEDOUT)
		FAIL("a 0 ns wait did not time out\n");
	uint64_t start = noos_time_ns();
	int err = noos_futex_wait(&word, 5, 20 * MS);
	uint64_t took = noos_time_ns() - start;
	if (err != -ETIMEDOUT || took < 20 * MS)
		FAIL("20 ms wait: %d after %lu us\n", err, (unsigned long)(took / 1000));
	printf("futex: a 20 ms timeout took %lu us\n", (unsigned long)(took / 1000));
	if (noos_futex_wait(NULL, 0, 0) != -EINVAL ||
	    noos_futex_wait((uint32_t *)((char *)&word + 1), 0, 0) != -EINVAL ||
	    noos_futex_wake((uint32_t *)((char *)&word + 2), 1) != -EINVAL)
		FAIL("a bad futex address was accepted\n");
	if (noos_futex_wake(&word, 10) != 0)
		FAIL("wake with nobody waiting woke someone\n");
}

static int waiting, woken_ok;

static void *waiter(void *arg)
{
	uint32_t *w = arg;
	__atomic_fetch_add(&waiting, 1, __ATOMIC_RELEASE);
	int err = noos_futex_wait(w, 0, 10000 * MS);
	if (err == 0)
		__atomic_fetch_add(&woken_ok, 1, __ATOMIC_RELAXED);
	else
		FAIL("waiter: %d (it should have been woken)\n", err);
	return NULL;
}

/* Wait until `want` waiters counted themselves in, and a little more for them to sleep. */
static void settle(int want)
{
	while (__atomic_load_n(&waiting, __ATOMIC_ACQUIRE) < want)
		noos_sleep_ns(MS);
	noos_sleep_ns(20 * MS);
}

static void check_wake_n(unsigned n)
{
	static uint32_t other[4];
	uint32_t w = 0;
	noos_thread_t *t[8], *o[4];
	for (int i = 0; i < 4; i++)
		o[i] = spawn(waiter, &other[i], "other", 0);
	for (int i = 0; i < 8; i++)
		t[i] = spawn(waiter, &w, "waiter", n > 1 ? cpu_bit(1 + i % (n - 1)) : 0);
	settle(12);
	int got = noos_futex_wake(&w, 3);
	if (got != 3)
		FAIL("wake(3) of 8 waiters woke %d\n", got);
	got = noos_futex_wake(&w, INT_MAX);
	if (got != 5)
		FAIL("wake(all) of the 5 left woke %d\n", got);
	for (int i = 0; i < 8; i++)
		join(t[i]);
	if (woken_ok != 8)
		FAIL("%d of 8 waiters returned 0\n", woken_ok);
	for (int i = 0; i < 4; i++)
		if (noos_futex_wake(&other[i], 1) != 1)
			FAIL("waiter %d on another word was gone\n", i);
	for (int i = 0; i < 4; i++)
		join(o[i]);
}

/* Timeouts racing with wakes: wakes that found a waiter == waits that returned 0. */
static uint32_t race_word;
static int race_zero, race_timeout;

static void *racer(void *arg)
{
	unsigned long rounds = (uintptr_t)arg;
	for (unsigned long i = 0; i < rounds; i++) {
		int err = noos_futex_wait(&race_word, 0, 200000 + (i % 7) * 50000);
		if (err == 0)
			__atomic_fetch_add(&race_zero, 1, __ATOMIC_RELAXED);
		else if (err == -ETIMEDOUT)
			__atomic_fetch_add(&race_timeout, 1, __ATOMIC_RELAXED);
		else
			FAIL("racing wait: %d\n", err);
	}
	return NULL;
}

static void check_race(unsigned n)
{
	unsigned long rounds = 300;
	noos_thread_t *t[4];
	int threads = n > 1 ? 3 : 2;
	for (int i = 0; i < threads; i++)
		t[i] = spawn(racer, (void *)rounds, "racer", 0);
	int reported = 0;
	uint64_t end = noos_time_ns() + 60000 * MS;
	while (race_zero + race_timeout < threads * (int)rounds && noos_time_ns() < end) {
		reported += noos_futex_wake(&race_word, 1);
		noos_sleep_ns((reported % 5) * 60000);
	}
	for (int i = 0; i < threads; i++)
		join(t[i]);
	if (reported != race_zero)
		FAIL("wakes found %d waiters but %d waits returned 0\n", reported, race_zero);
	printf("futex: %d woken, %d timed out while racing\n", race_zero, race_timeout);
}

int main(void)
{
	unsigned n = noos_cpu_count();
	check_basics();
	check_wake_n(n);
	check_race(n);
	return finish("futex", n);
}
