/* What rt/ sources expect from the kernel around them, for host tests: the console and panic. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void console_write(const char *s, size_t len);
void console_write(const char *s, size_t len)
{
	if (write(1, s, len) < 0)
		abort();
}

void panic(const char *fmt, ...);
void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "panic: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}
