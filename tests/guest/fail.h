/*
 * The guest tests' failure count: FAIL prints a line starting "FAIL " (the
 * caller ends it with "\n") and counts it. Safe from any thread and from
 * interrupt handlers (lines from several CPUs may interleave). A test ends
 * with a non-zero status when failures is non-zero.
 */
#ifndef TESTS_GUEST_FAIL_H
#define TESTS_GUEST_FAIL_H

#include <stdio.h>

static int failures;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		printf("FAIL " __VA_ARGS__);                                                       \
		__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);                                \
	} while (0)

#endif
