/*
 * sleep: noos_sleep_ns never returns early, and is rarely late by more than
 * a few milliseconds.
 *
 * One thread per CPU (pinned), plus main, each sleeps a series of lengths
 * from 0 to 20 ms, with other sleepers' deadlines interleaved in the same
 * CPU timer queues. Every sleep is checked against the monotonic clock:
 * early is a failure; late by more than late_ms (default 5) may happen to at
 * most late_pct percent (default 10) of them, since under TCG a vCPU may be
 * descheduled by the host at any time. Prints the lateness distribution and
 * "sleep: ok N".
 */
#include "threads.h"

#define LENGTHS 7
#define REPEATS 6
static const uint64_t lengths[LENGTHS] = {0, 1000, 100000, 1 * MS, 3 * MS, 7 * MS, 20 * MS};

#define MAX_SAMPLES (65 * LENGTHS * REPEATS)
static uint64_t late_ns[MAX_SAMPLES];
static unsigned samples;

static void record(uint64_t asked, uint64_t start, uint64_t end)
{
	if (end - start < asked) {
		FAIL("a %lu ns sleep returned after %lu ns\n", (unsigned long)asked,
		     (unsigned long)(end - start));
		return;
	}
	unsigned i = __atomic_fetch_add(&samples, 1, __ATOMIC_RELAXED);
	if (i < MAX_SAMPLES)
		late_ns[i] = end - start - asked;
}

static void *sleeper(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	for (unsigned r = 0; r < REPEATS; r++)
		for (unsigned k = 0; k < LENGTHS; k++) {
			uint64_t asked = lengths[(k + seed + r) % LENGTHS];
			uint64_t start = noos_time_ns();
			if (noos_sleep_ns(asked) != 0)
				FAIL("noos_sleep_ns(%lu) failed\n", (unsigned long)asked);
			record(asked, start, noos_time_ns());
		}
	return NULL;
}

int main(void)
{
	unsigned n = noos_cpu_count();
	unsigned long late_ms = arg_ul("late_ms", 5);
	noos_thread_t *t[64];
	for (unsigned c = 0; c < n; c++)
		t[c] = spawn(sleeper, (void *)(uintptr_t)c, "sleeper", cpu_bit(c));
	sleeper((void *)(uintptr_t)n);
	for (unsigned c = 0; c < n; c++)
		join(t[c]);
	unsigned m = samples < MAX_SAMPLES ? samples : MAX_SAMPLES, over = 0;
	sort_u64(late_ns, m);
	for (unsigned i = 0; i < m; i++)
		over += late_ns[i] > late_ms * MS;
	if (m)
		printf(
		    "sleep: %u sleeps late by median %lu us, 90%% %lu us, max %lu us; %u over %lu "
		    "ms\n",
		    m, (unsigned long)(late_ns[m / 2] / 1000),
		    (unsigned long)(late_ns[m * 9 / 10] / 1000),
		    (unsigned long)(late_ns[m - 1] / 1000), over, late_ms);
	if (m != (n + 1) * LENGTHS * REPEATS)
		FAIL("%u of %u sleeps recorded\n", m, (n + 1) * LENGTHS * REPEATS);
	if (m && late_ns[m / 2] > late_ms * MS)
		FAIL("the median sleep was %lu us late, more than %lu ms\n",
		     (unsigned long)(late_ns[m / 2] / 1000), late_ms);
	return finish("sleep", n);
}
