/*
 * The kernel console: every byte of output goes through here to the arch's
 * UART. One write at a time (console_lock), so lines from several CPUs do not
 * interleave mid-line: printf hands over up to 128 bytes per write. A panic
 * stops taking the lock, since the CPU that holds it may be the one that
 * broke.
 */
#include "noos.h"
#include "rt.h"

static struct spinlock console_lock;
static volatile bool console_unlocked; /* set once by a panic */

void console_write(const char *s, size_t len)
{
	if (!len)
		return;
	if (console_unlocked) {
		arch_console_write(s, len);
		return;
	}
	spin_lock(&console_lock);
	arch_console_write(s, len);
	spin_unlock(&console_lock);
}

void console_panic_mode(void)
{
	console_unlocked = true;
}

static noos_mutex_t console_read_lock = NOOS_MUTEX_INIT;

/* No UART receive interrupts yet: poll, sleeping a millisecond between empty looks. */
long noos_console_read(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t n = 0;
	if (len == 0)
		return 0;
	noos_mutex_lock(&console_read_lock);
	int c;
	while ((c = arch_console_getc()) < 0)
		noos_sleep_ns(1000000);
	p[n++] = (unsigned char)c;
	while (n < len && (c = arch_console_getc()) >= 0)
		p[n++] = (unsigned char)c;
	noos_mutex_unlock(&console_read_lock);
	return (long)n;
}

long noos_console_write(const void *buf, size_t len)
{
	console_write(buf, len);
	return (long)len;
}
