/*
 * preempt: a thread that never blocks or yields cannot starve others.
 *
 *  - On every CPU, two spinners of the same priority pinned there, which
 *    never yield, both make progress over a window of time: the time slice
 *    shares the CPU.
 *  - main, pinned to CPU 0 beside them, sleeps and gets the CPU back:
 *    without preemption it would never run again (and the harness's timeout
 *    would fail the test).
 *  - A higher-priority thread on a CPU where a spinner runs wakes from its
 *    sleeps promptly: it preempts at once, not at the end of a slice.
 *
 * Prints "preempt: ok N" (N CPUs) and returns 0, or FAIL lines and 1.
 * Latencies are printed; only progress is checked (TCG timing varies).
 */
#include "threads.h"

static volatile int stop;
static uint64_t progress[64][2];

static void *spinner(void *arg)
{
	uintptr_t slot = (uintptr_t)arg;
	uint64_t *count = &progress[slot / 2][slot % 2];
	while (!stop)
		__atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
	return NULL;
}

static uint64_t snapshot(unsigned cpu, int which)
{
	return __atomic_load_n(&progress[cpu][which], __ATOMIC_RELAXED);
}

/*
 * In each of a few windows, every spinner advances while main sleeps in
 * short naps. A window lasts until they all did, or WINDOW_NS: under TCG a
 * busy host may stop a vCPU for a while, so only "never" is a failure.
 */
#define WINDOW_NS (5000 * MS)

static bool all_moved(unsigned n, uint64_t before[][2])
{
	for (unsigned c = 0; c < n; c++)
		for (int w = 0; w < 2; w++)
			if (snapshot(c, w) == before[c][w])
				return false;
	return true;
}

static void check_sharing(unsigned n)
{
	for (int window = 0; window < 3; window++) {
		uint64_t before[64][2];
		for (unsigned c = 0; c < n; c++)
			for (int w = 0; w < 2; w++)
				before[c][w] = snapshot(c, w);
		uint64_t start = noos_time_ns(), worst = 0;
		do {
			uint64_t t = noos_time_ns();
			noos_sleep_ns(20 * MS);
			uint64_t late = noos_time_ns() - t - 20 * MS;
			worst = late > worst ? late : worst;
		} while (!all_moved(n, before) && noos_time_ns() - start < WINDOW_NS);
		printf("window %d: main napped beside two spinners per cpu, woke at worst %lu us "
		       "late\n",
		       window, (unsigned long)(worst / 1000));
		for (unsigned c = 0; c < n; c++)
			for (int w = 0; w < 2; w++)
				if (snapshot(c, w) == before[c][w])
					FAIL("window %d: spinner %d on cpu %u made no progress in "
					     "%lu "
					     "ms\n",
					     window, w, c, (unsigned long)(WINDOW_NS / MS));
	}
}

#define WAKES 21
static uint64_t wake_late[WAKES];

/* High priority: sleep 2 ms at a time and note how late each wakeup is. */
static void *urgent(void *arg)
{
	(void)arg;
	for (int i = 0; i < WAKES; i++) {
		uint64_t start = noos_time_ns();
		noos_sleep_ns(2 * MS);
		wake_late[i] = noos_time_ns() - start - 2 * MS;
	}
	return NULL;
}

static void check_priority(void)
{
	struct noos_thread_opts o = {
	    .name = "urgent", .priority = NOOS_PRIO_MAX, .affinity = cpu_bit(0)};
	noos_thread_t *t;
	int err = noos_thread_create(&t, urgent, NULL, &o);
	if (err) {
		FAIL("urgent thread: %d\n", err);
		return;
	}
	join(t);
	sort_u64(wake_late, WAKES);
	printf("a priority %d thread beside spinners woke late by median %lu us, at worst %lu us\n",
	       NOOS_PRIO_MAX, (unsigned long)(wake_late[WAKES / 2] / 1000),
	       (unsigned long)(wake_late[WAKES - 1] / 1000));
}

int main(void)
{
	unsigned n = noos_cpu_count();
	noos_thread_set_affinity(NULL, cpu_bit(0));
	noos_thread_t *t[128];
	for (unsigned c = 0; c < n; c++)
		for (int w = 0; w < 2; w++)
			t[2 * c + w] =
			    spawn(spinner, (void *)(uintptr_t)(2 * c + w), "spinner", cpu_bit(c));
	check_sharing(n);
	check_priority();
	stop = 1;
	for (unsigned i = 0; i < 2 * n; i++)
		join(t[i]);
	struct noos_sched_stats st;
	noos_sched_stats(0, &st);
	printf("cpu 0: %lu switches, %lu preemptions\n", (unsigned long)st.switches,
	       (unsigned long)st.preemptions);
	if (st.preemptions == 0)
		FAIL("cpu 0 never preempted a thread\n");
	return finish("preempt", n);
}
