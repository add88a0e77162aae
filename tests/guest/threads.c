/*
 * threads: every CPU runs threads. One thread pinned to each CPU reports
 * the CPU it runs on (all must report in, each on its own); one thread
 * walks every CPU by changing its own affinity; join returns each thread's
 * result; detached threads run and vanish; handles, ids and names are
 * right; bad arguments get errors, not crashes.
 *
 * Prints "threads: ok N" (N CPUs) and returns 0, or FAIL lines and 1.
 */
#include "threads.h"

#include <errno.h>

static unsigned seen_on[64];
static int reported;

static void *report(void *arg)
{
	unsigned want = (unsigned)(uintptr_t)arg;
	for (int i = 0; i < 20; i++) {
		unsigned id = noos_cpu_id();
		if (id != want)
			FAIL("thread pinned to cpu %u runs on cpu %u\n", want, id);
		noos_thread_yield();
	}
	__atomic_store_n(&seen_on[want], noos_cpu_id() + 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&reported, 1, __ATOMIC_RELEASE);
	return (void *)(uintptr_t)(want * 7 + 1);
}

/* Move through every CPU by affinity; the move happens before set_affinity returns. */
static void *walker(void *arg)
{
	unsigned n = (unsigned)(uintptr_t)arg, moves = 0;
	for (unsigned round = 0; round < 3; round++)
		for (unsigned c = 0; c < n; c++) {
			int err = noos_thread_set_affinity(NULL, cpu_bit(c));
			if (err)
				FAIL("set_affinity(cpu %u): %d\n", c, err);
			else if (noos_cpu_id() != c)
				FAIL("after set_affinity(cpu %u) the walker runs on cpu %u\n", c,
				     noos_cpu_id());
			else
				moves++;
		}
	return (void *)(uintptr_t)moves;
}

static int detached_done;

static void *detached(void *arg)
{
	(void)arg;
	if (noos_thread_detach(noos_thread_self()) != -EINVAL)
		FAIL("detaching a detached thread was not refused\n");
	__atomic_fetch_add(&detached_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void check_every_cpu(unsigned n)
{
	noos_thread_t *t[64];
	for (unsigned c = 0; c < n; c++)
		t[c] = spawn(report, (void *)(uintptr_t)c, "report", cpu_bit(c));
	for (unsigned c = 0; c < n; c++)
		if ((uintptr_t)join(t[c]) != c * 7 + 1)
			FAIL("join of cpu %u's thread returned the wrong value\n", c);
	for (unsigned c = 0; c < n; c++)
		if (seen_on[c] != c + 1)
			FAIL("cpu %u did not report in (%u)\n", c, seen_on[c]);
	printf("threads: %d of %u cpus reported in\n", reported, n);
}

static void check_handles(void)
{
	noos_thread_t *self = noos_thread_self();
	const char *name = noos_thread_name(NULL);
	if (!self || noos_thread_id(self) == 0 || !name || strcmp(name, "main") != 0)
		FAIL("main's handle, id or name is wrong (%s)\n", name ? name : "(null)");
	if (noos_thread_join(self, NULL) != -EDEADLK)
		FAIL("main joining itself was not refused\n");
	struct noos_thread_opts bad = {.priority = 99};
	noos_thread_t *t;
	if (noos_thread_create(&t, report, NULL, &bad) != -EINVAL)
		FAIL("priority 99 was accepted\n");
	bad = (struct noos_thread_opts){.affinity = 1ull << 63};
	if (noos_cpu_count() < 64 && noos_thread_create(&t, report, NULL, &bad) != -EINVAL)
		FAIL("an affinity without an online cpu was accepted\n");
	if (noos_thread_create(&t, NULL, NULL, NULL) != -EINVAL)
		FAIL("a thread without a function was accepted\n");
	if (noos_thread_set_affinity(NULL, 0) != -EINVAL)
		FAIL("an empty affinity mask was accepted\n");
}

static void check_detached(void)
{
	struct noos_thread_opts o = {.name = "detached", .flags = NOOS_THREAD_DETACHED};
	for (int i = 0; i < 16; i++) {
		int err = noos_thread_create(NULL, detached, NULL, &o);
		if (err)
			FAIL("detached create: %d\n", err);
	}
	uint64_t end = noos_time_ns() + 5000 * MS;
	while (__atomic_load_n(&detached_done, __ATOMIC_ACQUIRE) < 16 && noos_time_ns() < end)
		noos_sleep_ns(MS);
	if (detached_done != 16)
		FAIL("only %d of 16 detached threads ran\n", detached_done);
}

int main(void)
{
	unsigned n = noos_cpu_count();
	printf("threads: %u cpus, main on cpu %u\n", n, noos_cpu_id());
	if (n == 0 || n > 64)
		FAIL("noos_cpu_count() = %u\n", n);
	check_handles();
	check_every_cpu(n);
	noos_thread_t *w = spawn(walker, (void *)(uintptr_t)n, "walker", 0);
	uintptr_t moves = (uintptr_t)join(w);
	if (moves != 3 * n)
		FAIL("the walker made %lu of %u moves\n", (unsigned long)moves, 3 * n);
	check_detached();
	return finish("threads", n);
}
