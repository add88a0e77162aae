/* The clocks and sleeping of noos.h: arch/'s monotonic and wall clocks, sched.c's timers. */
#include <errno.h>

#include "noos.h"
#include "rt.h"

uint64_t noos_time_ns(void)
{
	return arch_time_ns();
}

int64_t noos_wallclock_ns(void)
{
	return arch_wallclock_ns();
}

int noos_sleep_ns(uint64_t ns)
{
	uint64_t now = arch_time_ns();
	return sched_sleep_until(ns > UINT64_MAX - now ? UINT64_MAX : now + ns);
}
