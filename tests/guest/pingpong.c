/*
 * pingpong: wakeups between threads on different CPUs are never lost, and
 * what they cost.
 *
 * Two threads pinned to CPUs 0 and 1 (both to CPU 0 with one CPU) pass a
 * turn back and forth through one futex word, each sleeping in
 * noos_futex_wait until it is its turn: `rounds` round trips must all
 * complete (default 20000, a few seconds under TCG, more on a busy host;
 * rounds=1000000 for the full million), and a sleeper that waits 10 s
 * without its wakeup reports a lost one. The same pass on one CPU measures
 * a context switch through a futex wakeup, and two threads calling
 * noos_thread_yield on one CPU the bare switch.
 *
 * Prints "pingpong: ok N" (N round trips) and the costs:
 *   cross-cpu round trip: R ns (wakeup latency R/2 ns)
 *   same-cpu futex switch: S ns, yield switch: Y ns
 */
#include "threads.h"

#include <errno.h>

#define LOST_NS (10000 * MS)

static uint32_t turn; /* 0: ping's turn, 1: pong's */
static unsigned long rounds;
static int lost;

/* Wait until turn == mine, sleeping in the futex. */
static void await(uint32_t mine)
{
	uint32_t v;
	while ((v = __atomic_load_n(&turn, __ATOMIC_ACQUIRE)) != mine) {
		int err = noos_futex_wait(&turn, v, LOST_NS);
		if (err == -ETIMEDOUT && __atomic_load_n(&turn, __ATOMIC_ACQUIRE) != mine) {
			FAIL("a wakeup was lost: waited 10 s for turn %u\n", mine);
			__atomic_store_n(&lost, 1, __ATOMIC_RELAXED);
			return;
		}
	}
}

static void pass(uint32_t to)
{
	__atomic_store_n(&turn, to, __ATOMIC_RELEASE);
	noos_futex_wake(&turn, 1);
}

static void *player(void *arg)
{
	uint32_t me = (uint32_t)(uintptr_t)arg;
	unsigned long done = 0;
	for (; done < rounds && !__atomic_load_n(&lost, __ATOMIC_RELAXED); done++) {
		await(me);
		pass(!me);
	}
	return (void *)(uintptr_t)done;
}

/* ns per round trip between a thread on cpu a and one on cpu b. */
static uint64_t play(unsigned a, unsigned b, unsigned long n)
{
	rounds = n;
	turn = 0;
	uint64_t start = noos_time_ns();
	noos_thread_t *ping = spawn(player, (void *)0, "ping", cpu_bit(a));
	noos_thread_t *pong = spawn(player, (void *)1, "pong", cpu_bit(b));
	uintptr_t d1 = (uintptr_t)join(ping), d2 = (uintptr_t)join(pong);
	uint64_t ns = noos_time_ns() - start;
	if (d1 != n || d2 != n)
		FAIL("cpus %u/%u: %lu and %lu of %lu round trips\n", a, b, (unsigned long)d1,
		     (unsigned long)d2, n);
	return ns / n;
}

static volatile int yielders_go;

static void *yielder(void *arg)
{
	unsigned long n = (uintptr_t)arg;
	while (!yielders_go)
		noos_thread_yield();
	for (unsigned long i = 0; i < n; i++)
		noos_thread_yield();
	return NULL;
}

/* ns per switch between two threads on cpu 0 that only yield. */
static uint64_t yield_cost(unsigned long n)
{
	struct noos_sched_stats before, after;
	noos_thread_t *a = spawn(yielder, (void *)(uintptr_t)n, "yield-a", cpu_bit(0));
	noos_thread_t *b = spawn(yielder, (void *)(uintptr_t)n, "yield-b", cpu_bit(0));
	noos_sleep_ns(5 * MS); /* both are running their wait loop now */
	noos_sched_stats(0, &before);
	uint64_t start = noos_time_ns();
	yielders_go = 1;
	join(a);
	join(b);
	uint64_t ns = noos_time_ns() - start;
	noos_sched_stats(0, &after);
	uint64_t switches = after.switches - before.switches;
	if (switches < n)
		FAIL("%lu yields each made only %lu switches\n", n, (unsigned long)switches);
	return switches ? ns / switches : 0;
}

int main(void)
{
	unsigned n = noos_cpu_count();
	unsigned long want = arg_ul("rounds", 20000);
	unsigned other = n > 1 ? 1 : 0;
	printf("pingpong: %u cpus, %lu round trips between cpu 0 and cpu %u\n", n, want, other);
	uint64_t start = noos_time_ns();
	uint64_t rt = play(0, other, want);
	printf("pingpong: %lu round trips in %lu ms\n", want,
	       (unsigned long)((noos_time_ns() - start) / MS));
	if (n > 1)
		printf("cross-cpu round trip: %lu ns (wakeup latency %lu ns)\n", (unsigned long)rt,
		       (unsigned long)(rt / 2));
	unsigned long small = want < 20000 ? want : 20000;
	uint64_t same = play(0, 0, small);
	uint64_t yield = yield_cost(small);
	printf("same-cpu futex switch: %lu ns, yield switch: %lu ns\n", (unsigned long)(same / 2),
	       (unsigned long)yield);
	return finish("pingpong", (unsigned)want);
}
