/*
 * noos.h — the one public header of the noos runtime.
 *
 * Error convention: every call returns 0 or a non-negative value on success,
 * or a negative error code whose numbers equal Linux errno values (-ENOMEM is
 * -12), so a Linux ABI layer passes them through unchanged.
 *
 * The application provides int main(int argc, char **argv). argv comes from
 * the boot command line (QEMU -append): words of the form key=value before a
 * lone "--" are the environment (noos_getenv), the other words and everything
 * after "--" are arguments. main's return value is the VM's exit status.
 */
#ifndef NOOS_H
#define NOOS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- lifecycle ---- */

/* Stop the VM with this exit status (0..127 survive every VMM noos supports). */
void noos_exit(int status) __attribute__((noreturn));
/* Power the VM off (exit status 0). */
void noos_poweroff(void) __attribute__((noreturn));
/* The value of key=value from the boot command line, or NULL. */
const char *noos_getenv(const char *key);

/* ---- console ---- */

/* Write len bytes to the serial console; returns len. */
long noos_console_write(const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
