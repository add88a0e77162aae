/*
 * arch/x86_64/rtc.c's rtc_decode: the CMOS clock's registers in each of its
 * formats, and values no clock shows (non-BCD digits, an hour 13 on a
 * 12-hour clock, 30 February) rejected rather than turned into a time.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "x86.h"

#define BCD_12H 0x00
#define BCD_24H 0x02
#define BIN_24H 0x06

static int64_t decode(struct rtc_time t, uint8_t reg_b, bool century)
{
	int64_t s = -1;
	return rtc_decode(t, reg_b, century, &s) == 0 ? s : -EIO;
}

int main(void)
{
	/* 2026-11-23 19:52:07 UTC = 1795463527. */
	CHECK(decode((struct rtc_time){0x07, 0x52, 0x19, 0x23, 0x11, 0x26, 0x20}, BCD_24H, true) ==
	      1795463527);
	CHECK(decode((struct rtc_time){7, 52, 19, 23, 11, 26, 0}, BIN_24H, false) == 1795463527);
	CHECK(decode((struct rtc_time){0x07, 0x52, 0x87, 0x23, 0x11, 0x26, 0}, BCD_12H, false) ==
	      1795463527);
	/* 12 AM is midnight, 12 PM noon. */
	CHECK(decode((struct rtc_time){0, 0, 0x12, 1, 1, 0x70, 0x19}, BCD_12H, true) == 0);
	CHECK(decode((struct rtc_time){0, 0, 0x92, 1, 1, 0x70, 0x19}, BCD_12H, true) == 43200);
	/* Not times: a non-BCD digit, hours 0 and 13 on a 12-hour clock, 30 February, 29 February
	 * 2100. */
	CHECK(decode((struct rtc_time){0x1a, 0, 0, 1, 1, 0x26, 0x20}, BCD_24H, true) == -EIO);
	CHECK(decode((struct rtc_time){0, 0, 0x00, 1, 1, 0x26, 0x20}, BCD_12H, true) == -EIO);
	CHECK(decode((struct rtc_time){0, 0, 0x13, 1, 1, 0x26, 0x20}, BCD_12H, true) == -EIO);
	CHECK(decode((struct rtc_time){0, 0, 0, 0x30, 0x02, 0x26, 0x20}, BCD_24H, true) == -EIO);
	CHECK(decode((struct rtc_time){0, 0, 0, 0x29, 0x02, 0x00, 0x21}, BCD_24H, true) == -EIO);
	CHECK(decode((struct rtc_time){0, 0, 0, 0x29, 0x02, 0x00, 0x20}, BCD_24H, true) ==
	      951782400);
	return check_report("rtc");
}
