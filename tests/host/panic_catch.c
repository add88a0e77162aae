/* panic() for host tests: a longjmp when EXPECT_PANIC armed it, else report and abort. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "panic_catch.h"

jmp_buf panic_env;
volatile bool panic_armed;
char panic_message[512];

void panic(const char *fmt, ...);
void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(panic_message, sizeof(panic_message), fmt, ap);
	va_end(ap);
	if (panic_armed) {
		panic_armed = false;
		longjmp(panic_env, 1);
	}
	fprintf(stderr, "unexpected panic: %s\n", panic_message);
	abort();
}
