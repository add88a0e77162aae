/* The clocks and sleeping of noos.h: arch/'s monotonic and wall clocks, sched.c's timers. */
#include <errno.h>

#include "noos.h"
#include "rt.h"

uint64_t noos_time_ns(void)
{
	return arch_time_ns();
}

/*
 * The wall clock: the RTC is read once, to the second, on first use (by
 * whichever CPU gets there first; the others wait), then carried forward
 * with the monotonic clock, so it never jumps and costs nothing after.
 */
enum { RTC_UNREAD, RTC_READING, RTC_DONE };
static int rtc_state;
static int rtc_err;
static int64_t wall_minus_mono_ns;

int64_t noos_wallclock_ns(void)
{
	int expect = RTC_UNREAD;
	if (__atomic_compare_exchange_n(&rtc_state, &expect, RTC_READING, false, __ATOMIC_ACQUIRE,
	                                __ATOMIC_ACQUIRE)) {
		int64_t sec = 0;
		rtc_err = arch_rtc_read(&sec);
		wall_minus_mono_ns = sec * 1000000000 - (int64_t)arch_time_ns();
		__atomic_store_n(&rtc_state, RTC_DONE, __ATOMIC_RELEASE);
	}
	while (__atomic_load_n(&rtc_state, __ATOMIC_ACQUIRE) != RTC_DONE)
		arch_cpu_relax();
	return rtc_err ? rtc_err : wall_minus_mono_ns + (int64_t)arch_time_ns();
}

int noos_sleep_ns(uint64_t ns)
{
	uint64_t now = arch_time_ns();
	return sched_sleep_until(ns > UINT64_MAX - now ? UINT64_MAX : now + ns);
}
