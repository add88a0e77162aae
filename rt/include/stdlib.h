/* The freestanding stdlib subset noos provides. */
#ifndef NOOS_STDLIB_H
#define NOOS_STDLIB_H

#include <stddef.h>

unsigned long strtoul(const char *restrict s, char **restrict end, int base);
long strtol(const char *restrict s, char **restrict end, int base);
int atoi(const char *s);
void exit(int status) __attribute__((noreturn));
void abort(void) __attribute__((noreturn));

#endif
