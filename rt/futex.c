/*
 * futex: wait while a 32-bit word holds a value, wake N waiters of a word
 * (the primitive Linux's futex(2) FUTEX_WAIT/FUTEX_WAKE gives, which
 * language runtimes build their locks on; mutex.c, cond.c and sem.c here
 * too).
 *
 * Waiters queue in one of FUTEX_BUCKETS hashed by address, oldest first.
 * No wakeup is lost across CPUs: a waiter compares the word and queues
 * itself under the bucket lock, and a waker, which changes the word before
 * it calls wake, takes the same lock to find it. A waiter that is woken and
 * times out at once reports the wake: `woken` is decided under the bucket
 * lock, and wakers wake under it too, so a waiter cannot return (and its
 * stack entry go away) while a waker still uses it.
 */
#include <errno.h>

#include "noos.h"
#include "rt.h"

#define FUTEX_BUCKETS_LOG2 8
#define FUTEX_BUCKETS      (1u << FUTEX_BUCKETS_LOG2)

struct futex_waiter {
	struct futex_waiter *next, *prev;
	const uint32_t *addr;
	struct thread *thread;
	uint32_t seq; /* the waiter's block, for sched_wake */
	bool woken;
};

static struct futex_bucket {
	struct spinlock lock; /* guards the list */
	struct futex_waiter *first, *last;
} buckets[FUTEX_BUCKETS];

static struct futex_bucket *bucket_of(const uint32_t *addr)
{
	uint64_t h = ((uintptr_t)addr >> 2) * 0x9e3779b97f4a7c15ull; /* Fibonacci hashing */
	return &buckets[h >> (64 - FUTEX_BUCKETS_LOG2)];
}

static void append(struct futex_bucket *b, struct futex_waiter *w)
{
	w->next = NULL;
	w->prev = b->last;
	if (b->last)
		b->last->next = w;
	else
		b->first = w;
	b->last = w;
}

static void unlink_waiter(struct futex_bucket *b, struct futex_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		b->first = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		b->last = w->prev;
}

static bool bad_addr(const uint32_t *addr)
{
	return !addr || ((uintptr_t)addr & 3);
}

uint64_t futex_deadline(uint64_t timeout_ns)
{
	if (timeout_ns == NOOS_FOREVER)
		return 0;
	uint64_t now = arch_time_ns();
	return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

/* Sleep (bucket locked, interrupts off) until woken or past deadline: 0 or -ETIMEDOUT. */
static int sleep_queued(struct futex_bucket *b, struct futex_waiter *w, uint64_t deadline)
{
	for (;;) {
		w->seq = sched_block_prepare();
		spin_unlock(&b->lock);
		sched_block(deadline);
		spin_lock(&b->lock);
		if (w->woken)
			return 0;
		if (deadline && arch_time_ns() >= deadline) {
			unlink_waiter(b, w);
			return -ETIMEDOUT;
		}
	}
}

int futex_wait(const uint32_t *addr, uint32_t expected, uint64_t deadline)
{
	if (bad_addr(addr))
		return -EINVAL;
	struct futex_waiter w = {.addr = addr, .thread = sched_current()};
	if (!w.thread || arch_in_interrupt())
		return -EPERM;
	struct futex_bucket *b = bucket_of(addr);
	unsigned long f = arch_irq_save();
	spin_lock(&b->lock);
	int err = 0;
	if (__atomic_load_n(addr, __ATOMIC_SEQ_CST) != expected)
		err = -EAGAIN;
	else if (deadline && arch_time_ns() >= deadline)
		err = -ETIMEDOUT;
	if (!err) {
		append(b, &w);
		err = sleep_queued(b, &w, deadline);
	}
	spin_unlock(&b->lock);
	arch_irq_restore(f);
	return err;
}

int futex_wake(const uint32_t *addr, int n)
{
	if (bad_addr(addr))
		return -EINVAL;
	struct futex_bucket *b = bucket_of(addr);
	int woken = 0;
	spin_lock(&b->lock);
	for (struct futex_waiter *w = b->first, *next; w && woken < n; w = next) {
		next = w->next;
		if (w->addr != addr)
			continue;
		unlink_waiter(b, w);
		w->woken = true;
		sched_wake(w->thread, w->seq);
		woken++;
	}
	spin_unlock(&b->lock);
	return woken;
}

int noos_futex_wait(uint32_t *addr, uint32_t expected, uint64_t timeout_ns)
{
	return futex_wait(addr, expected, futex_deadline(timeout_ns));
}

int noos_futex_wake(uint32_t *addr, int n)
{
	return futex_wake(addr, n);
}
