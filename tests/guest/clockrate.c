/*
 * clockrate (x86_64): the monotonic clock runs at the right rate, checked
 * against a clock the TSC's calibration never reads: the CMOS RTC, whose
 * seconds register steps once a second (MC146818A; QEMU runs it on the
 * host's clock). Two steps one second apart, each timed between the read
 * before it and the read that sees it, must lie one second apart on
 * arch_time_ns, within TOLERANCE_PPM plus the steps' own uncertainty. On a
 * busy host the vCPU is often descheduled across a step (for the host's
 * 4 ms ticks), which widens it but does not bias it; a step wider than
 * MAX_WIDTH_NS is not used and the second is measured again. Nothing here
 * depends on how fast the emulator runs. Prints "clockrate: ok", or FAIL
 * lines.
 */
#include <stdio.h>

#include "arch.h"
#include "io.h"
#include "fail.h"

#define CMOS_INDEX  0x70
#define CMOS_DATA   0x71
#define RTC_SECONDS 0x00

#define NS_PER_SEC    1000000000ll
#define TOLERANCE_PPM 20000 /* 2%: calibration promises 0.04%; a missed wrap is off 2x or more */
#define MAX_WIDTH_NS  100000000ull  /* a step timed to within 100 ms, or not used */
#define STEP_WAIT_NS  3000000000ull /* the seconds register steps within 1 s */
#define TRIES         5

struct step {
	uint64_t mid, width;
};

static uint8_t rtc_seconds(void)
{
	port_write8(CMOS_INDEX, RTC_SECONDS);
	return port_read8(CMOS_DATA);
}

/* The next change of the seconds register, bracketed by the monotonic clock. */
static bool next_step(struct step *s)
{
	uint64_t before = arch_time_ns();
	uint8_t old = rtc_seconds();
	uint64_t end = before + STEP_WAIT_NS;
	for (;;) {
		uint64_t t0 = arch_time_ns();
		uint8_t now = rtc_seconds();
		uint64_t t1 = arch_time_ns();
		if (now != old) {
			*s = (struct step){before + (t1 - before) / 2, t1 - before};
			return true;
		}
		if (t1 > end)
			return false;
		before = t0;
	}
}

/* One RTC second on the monotonic clock, checked; false if a step was timed loosely. */
static bool one_second(void)
{
	struct step a, b;
	if (!next_step(&a) || !next_step(&b)) {
		FAIL("the RTC's seconds register did not step within 3 s\n");
		return true;
	}
	if (a.width > MAX_WIDTH_NS || b.width > MAX_WIDTH_NS) {
		printf("clockrate: a step timed to %lu us only; again\n",
		       (unsigned long)((a.width > b.width ? a.width : b.width) / 1000));
		return false;
	}
	int64_t ns = (int64_t)(b.mid - a.mid), off = ns - NS_PER_SEC;
	int64_t slack = (int64_t)(a.width + b.width) / 2;
	printf("clockrate: one RTC second is %ld ns on the monotonic clock (%ld ppm, +-%ld us)\n",
	       (long)ns, (long)(off / 1000), (long)(slack / 1000));
	if (off > TOLERANCE_PPM * 1000 + slack || off < -(TOLERANCE_PPM * 1000 + slack))
		FAIL("the monotonic clock is off by %ld ppm against the RTC\n", (long)(off / 1000));
	return true;
}

int main(void)
{
	printf("clockrate: %s\n", arch_time_describe());
	int i = 0;
	while (i < TRIES && !one_second())
		i++;
	if (i == TRIES)
		FAIL("no RTC step timed to within 100 ms in %d tries\n", TRIES);
	if (failures)
		return 1;
	printf("clockrate: ok\n");
	return 0;
}
