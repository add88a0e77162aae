/*
 * sync: sleeping mutexes, condition variables and semaphores across CPUs.
 *
 *  - N threads (2 per CPU, at least 4) each add 1 to shared counters
 *    `iters` times under one mutex, with non-atomic read-modify-writes and
 *    a yield inside now and then, so any hole in the mutual exclusion loses
 *    increments: the totals must be exact.
 *  - A bounded queue between producers and consumers with a mutex and two
 *    condition variables carries every item exactly once.
 *  - A semaphore hands out `iters` posts to waiting threads exactly.
 *  - Errors: unlocking a mutex one does not hold, relocking one's own,
 *    trylock on a held one, cond_wait without the mutex.
 *
 * iters=N on the command line (default 20000). Prints "sync: ok N" (N CPUs).
 */
#include "threads.h"

#include <errno.h>

static noos_mutex_t lock = NOOS_MUTEX_INIT;
static volatile uint64_t counter_a, counter_b;
static unsigned long iters;

static void *adder(void *arg)
{
	(void)arg;
	for (unsigned long i = 0; i < iters; i++) {
		if (noos_mutex_lock(&lock) != 0)
			FAIL("mutex_lock failed\n");
		uint64_t a = counter_a;
		counter_b = counter_b + 2;
		if ((i & 255) == 0)
			noos_thread_yield(); /* give others a chance to find the hole, if any */
		counter_a = a + 1;
		noos_mutex_unlock(&lock);
	}
	return NULL;
}

static void check_counters(unsigned threads)
{
	noos_thread_t *t[128];
	uint64_t start = noos_time_ns();
	for (unsigned i = 0; i < threads; i++)
		t[i] = spawn(adder, NULL, "adder", 0);
	for (unsigned i = 0; i < threads; i++)
		join(t[i]);
	uint64_t want = (uint64_t)threads * iters;
	if (counter_a != want || counter_b != 2 * want)
		FAIL("counters %lu and %lu, want %lu and %lu\n", (unsigned long)counter_a,
		     (unsigned long)counter_b, (unsigned long)want, (unsigned long)(2 * want));
	printf("mutex: %u threads x %lu increments in %lu ms\n", threads, iters,
	       (unsigned long)((noos_time_ns() - start) / MS));
}

/* ---- a bounded queue: one mutex, two condition variables ---- */

#define QSIZE 8
static struct {
	noos_mutex_t m;
	noos_cond_t not_empty, not_full;
	unsigned long items[QSIZE];
	unsigned head, count;
} q;
static uint64_t consumed_sum, consumed_count;

static void *producer(void *arg)
{
	unsigned long base = (uintptr_t)arg * iters;
	for (unsigned long i = 0; i < iters; i++) {
		noos_mutex_lock(&q.m);
		while (q.count == QSIZE)
			noos_cond_wait(&q.not_full, &q.m);
		q.items[(q.head + q.count++) % QSIZE] = base + i + 1;
		noos_cond_signal(&q.not_empty);
		noos_mutex_unlock(&q.m);
	}
	return NULL;
}

/* Takes items until it gets a 0 (the stop marker). */
static void *consumer(void *arg)
{
	(void)arg;
	for (;;) {
		noos_mutex_lock(&q.m);
		while (q.count == 0)
			noos_cond_wait(&q.not_empty, &q.m);
		unsigned long v = q.items[q.head];
		q.head = (q.head + 1) % QSIZE;
		q.count--;
		noos_cond_signal(&q.not_full);
		if (v) {
			consumed_sum += v;
			consumed_count++;
		}
		noos_mutex_unlock(&q.m);
		if (!v)
			return NULL;
	}
}

static void check_queue(unsigned pairs)
{
	noos_thread_t *p[64], *c[64];
	for (unsigned i = 0; i < pairs; i++) {
		c[i] = spawn(consumer, NULL, "consumer", 0);
		p[i] = spawn(producer, (void *)(uintptr_t)i, "producer", 0);
	}
	for (unsigned i = 0; i < pairs; i++)
		join(p[i]);
	for (unsigned i = 0; i < pairs; i++) { /* one stop marker per consumer */
		noos_mutex_lock(&q.m);
		while (q.count == QSIZE)
			noos_cond_wait(&q.not_full, &q.m);
		q.items[(q.head + q.count++) % QSIZE] = 0;
		noos_cond_broadcast(&q.not_empty);
		noos_mutex_unlock(&q.m);
	}
	for (unsigned i = 0; i < pairs; i++)
		join(c[i]);
	uint64_t n = (uint64_t)pairs * iters, sum = n * (n + 1) / 2;
	if (consumed_count != n || consumed_sum != sum)
		FAIL("queue: %lu items summing to %lu, want %lu summing to %lu\n",
		     (unsigned long)consumed_count, (unsigned long)consumed_sum, (unsigned long)n,
		     (unsigned long)sum);
}

/* ---- a semaphore ---- */

static noos_sem_t sem;
static uint64_t taken;

static void *taker(void *arg)
{
	unsigned long want = (uintptr_t)arg;
	for (unsigned long i = 0; i < want; i++) {
		if (noos_sem_wait(&sem) != 0)
			FAIL("sem_wait failed\n");
		__atomic_fetch_add(&taken, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void check_semaphore(unsigned threads)
{
	noos_sem_init(&sem, 0);
	noos_thread_t *t[128];
	for (unsigned i = 0; i < threads; i++)
		t[i] = spawn(taker, (void *)(uintptr_t)(iters / 4), "taker", 0);
	for (unsigned long i = 0; i < threads * (iters / 4); i++)
		noos_sem_post(&sem);
	for (unsigned i = 0; i < threads; i++)
		join(t[i]);
	if (taken != threads * (iters / 4) || noos_sem_value(&sem) != 0)
		FAIL("semaphore: %lu taken, %d left\n", (unsigned long)taken, noos_sem_value(&sem));
	if (noos_sem_trywait(&sem) != -EAGAIN)
		FAIL("trywait on an empty semaphore did not say -EAGAIN\n");
	if (noos_sem_timedwait(&sem, 2 * MS) != -ETIMEDOUT)
		FAIL("timedwait on an empty semaphore did not time out\n");
}

static void *try_other(void *arg)
{
	noos_mutex_t *m = arg;
	if (noos_mutex_trylock(m) != -EBUSY)
		FAIL("trylock of a held mutex did not say -EBUSY\n");
	if (noos_mutex_unlock(m) != -EPERM)
		FAIL("unlocking another thread's mutex was not refused\n");
	return NULL;
}

static void check_errors(void)
{
	noos_mutex_t m = NOOS_MUTEX_INIT;
	noos_cond_t c = NOOS_COND_INIT;
	if (noos_mutex_unlock(&m) != -EPERM)
		FAIL("unlocking a free mutex was not refused\n");
	if (noos_cond_wait(&c, &m) != -EPERM)
		FAIL("cond_wait without the mutex was not refused\n");
	noos_mutex_lock(&m);
	if (noos_mutex_lock(&m) != -EDEADLK)
		FAIL("relocking one's own mutex did not say -EDEADLK\n");
	join(spawn(try_other, &m, "try", 0));
	if (noos_cond_timedwait(&c, &m, 3 * MS) != -ETIMEDOUT)
		FAIL("cond_timedwait without a signal did not time out\n");
	if (noos_mutex_unlock(&m) != 0)
		FAIL("unlock after cond_timedwait failed: the mutex was not held again\n");
}

int main(void)
{
	unsigned n = noos_cpu_count();
	unsigned threads = 2 * n < 4 ? 4 : 2 * n;
	iters = arg_ul("iters", 20000);
	printf("sync: %u cpus, %u threads, %lu iterations\n", n, threads, iters);
	check_errors();
	check_counters(threads);
	check_queue(threads / 2);
	check_semaphore(threads);
	return finish("sync", n);
}
