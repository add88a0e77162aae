/* The kernel console: every byte of output goes through here to the arch's UART. */
#include "noos.h"
#include "rt.h"

void console_write(const char *s, size_t len)
{
	if (len)
		arch_console_write(s, len);
}

long noos_console_write(const void *buf, size_t len)
{
	console_write(buf, len);
	return (long)len;
}
