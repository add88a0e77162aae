/*
 * panic() for host tests that check a detection fires: EXPECT_PANIC runs a
 * statement that must panic; panic_catch.c turns that panic into a longjmp
 * back here, and the message is checked for a substring. A panic nobody
 * expects prints its message and aborts the test.
 */
#ifndef NOOS_TEST_PANIC_CATCH_H
#define NOOS_TEST_PANIC_CATCH_H

#include <setjmp.h>
#include <stdbool.h>
#include <string.h>

#include "check.h"

extern jmp_buf panic_env;
extern volatile bool panic_armed;
extern char panic_message[512];

#define EXPECT_PANIC(stmt, substr)                                                                 \
	do {                                                                                       \
		panic_armed = true;                                                                \
		if (setjmp(panic_env) == 0) {                                                      \
			stmt;                                                                      \
			panic_armed = false;                                                       \
			CHECK_MSG(false, "no panic from %s", #stmt);                               \
		} else {                                                                           \
			CHECK_MSG(strstr(panic_message, substr) != NULL,                           \
			          "panic message \"%s\" lacks \"%s\"", panic_message, substr);     \
		}                                                                                  \
	} while (0)

#endif
