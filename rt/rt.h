/*
 * rt/ internal header: the kernel core's functions, grouped by the file that
 * defines them. Applications use noos.h instead.
 */
#ifndef NOOS_RT_H
#define NOOS_RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arch.h"

#define NOOS_VERSION "0.1.0"

/* The exit status of a panicked guest (as Rust uses 101), seen by ./noos run. */
#define PANIC_EXIT_STATUS 101

/* console.c */
void console_write(const char *s, size_t len);

/* panic.c */
void panic(const char *fmt, ...) __attribute__((noreturn, format(__printf__, 1, 2)));
void panic_trap(const struct trap_frame *tf, const char *fmt, ...)
    __attribute__((noreturn, format(__printf__, 2, 3)));
void backtrace_print(uintptr_t first_pc, uintptr_t fp);

/* ssp.c */
void ssp_init(void);

/* cmdline.c: the boot command line split into argv and key=value environment. */
#define CMDLINE_MAX_BYTES 4096
#define CMDLINE_MAX_ARGS  64
#define CMDLINE_MAX_ENV   64
struct cmdline {
	char storage[CMDLINE_MAX_BYTES];
	int argc;
	char *argv[CMDLINE_MAX_ARGS + 1]; /* NULL-terminated; argv[0] is the program name */
	int envc;
	char *envp[CMDLINE_MAX_ENV + 1]; /* NULL-terminated "key=value" strings */
	bool truncated;                  /* something did not fit and was dropped */
};
void cmdline_parse(const char *src, const char *program, struct cmdline *out);
const char *cmdline_lookup(const struct cmdline *c, const char *key);

/* boot.c */
extern struct cmdline boot_cmdline;

#endif
