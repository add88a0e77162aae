/* Formatted output (rt/printf.c). printf writes to the console. */
#ifndef NOOS_STDIO_H
#define NOOS_STDIO_H

#include <stdarg.h>
#include <stddef.h>

int printf(const char *restrict fmt, ...) __attribute__((format(__printf__, 1, 2)));
int vprintf(const char *restrict fmt, va_list ap);
int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
    __attribute__((format(__printf__, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap);
int puts(const char *s);
int putchar(int c);

#endif
