/*
 * Helpers shared by the thread and scheduler guest tests (tests/guest/
 * threads.c, sync.c, pingpong.c, preempt.c, sleep.c, futex.c, tls.c, fpu.c,
 * stress.c): failure counting that any thread may do, key=value arguments
 * from the command line, and starting threads with a name and an affinity.
 * Only noos.h and the C subset noos provides.
 */
#ifndef NOOS_TEST_THREADS_H
#define NOOS_TEST_THREADS_H

#include <errno.h>
#include <noos.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"

#define MS 1000000ull

/* key=value from the command line as a number, or dflt. */
static inline unsigned long arg_ul(const char *key, unsigned long dflt)
{
	const char *v = noos_getenv(key);
	return v ? strtoul(v, NULL, 0) : dflt;
}

/* A joinable thread on the CPUs of mask (0: any); a failure to start fails the test and exits. */
static inline noos_thread_t *spawn(void *(*fn)(void *), void *arg, const char *name, uint64_t mask)
{
	struct noos_thread_opts o = {.name = name, .affinity = mask};
	noos_thread_t *t;
	int err = noos_thread_create(&t, fn, arg, &o);
	if (err) {
		printf("FAIL noos_thread_create(%s): %d\n", name, err);
		exit(1);
	}
	return t;
}

static inline void *join(noos_thread_t *t)
{
	void *ret = NULL;
	int err = noos_thread_join(t, &ret);
	if (err)
		FAIL("noos_thread_join: %d\n", err);
	return ret;
}

static inline uint64_t cpu_bit(unsigned cpu)
{
	return 1ull << cpu;
}

/* Busy for ns of the monotonic clock (never yields: preemption must share the CPU). */
static inline void spin_for(uint64_t ns)
{
	uint64_t end = noos_time_ns() + ns;
	while (noos_time_ns() < end)
		;
}

/* Sort v ascending (insertion sort: the tests sort a few hundred latencies). */
static inline void sort_u64(uint64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* "ok" and 0, or the failure count and 1: what main returns. */
static inline int finish(const char *name, unsigned n)
{
	int f = __atomic_load_n(&failures, __ATOMIC_RELAXED);
	if (f) {
		printf("%s: %d failures\n", name, f);
		return 1;
	}
	printf("%s: ok %u\n", name, n);
	return 0;
}

#endif
