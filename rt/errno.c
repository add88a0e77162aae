/*
 * errno for the parts of noos that follow POSIX and set it (lwIP's socket
 * layer): one int per thread, in struct thread. Before the scheduler runs
 * there is one context, and a static int serves it.
 */
#include <errno.h>

#include "rt.h"

int *__errno_location(void)
{
	static int boot_errno;
	struct thread *t = sched_current();
	return t ? &t->errno_value : &boot_errno;
}
