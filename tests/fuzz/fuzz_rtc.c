/*
 * libFuzzer target for the x86_64 CMOS RTC's register decoding
 * (arch/x86_64/rtc.c, rtc_decode), against the host's gmtime_r both ways:
 *  - the registers as the fuzzer sets them (bytes 0-6: seconds, minutes,
 *    hours, day, month, year, century; byte 7: status register B; byte 8
 *    bit 0: a century register exists): when rtc_decode accepts them, the
 *    time it returns, encoded back in the same format, gives the same bytes;
 *  - bytes 9-16 as a time between 1900 and 2099 (without a century
 *    register, 2000-2099), encoded in that format: rtc_decode must accept it
 *    and return that time.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "x86.h"

#define REG_B_24H 0x02
#define REG_B_BIN 0x04
#define HOUR_PM   0x80

static unsigned fmt(unsigned v, uint8_t reg_b)
{
	return (reg_b & REG_B_BIN) ? v : (v / 10) << 4 | v % 10;
}

/* A broken-down UTC time as the clock shows it in reg_b's format. */
static struct rtc_time encode(const struct tm *tm, uint8_t reg_b)
{
	unsigned year = (unsigned)tm->tm_year + 1900, hour = (unsigned)tm->tm_hour;
	unsigned pm = 0;
	if (!(reg_b & REG_B_24H)) {
		pm = hour >= 12 ? HOUR_PM : 0;
		hour = hour % 12 ? hour % 12 : 12;
	}
	return (struct rtc_time){fmt((unsigned)tm->tm_sec, reg_b),
	                         fmt((unsigned)tm->tm_min, reg_b),
	                         fmt(hour, reg_b) | pm,
	                         fmt((unsigned)tm->tm_mday, reg_b),
	                         fmt((unsigned)tm->tm_mon + 1, reg_b),
	                         fmt(year % 100, reg_b),
	                         fmt(year / 100, reg_b)};
}

static void registers_round_trip(const uint8_t *d, uint8_t reg_b, bool century)
{
	struct rtc_time t = {d[0], d[1], d[2], d[3], d[4], d[5], d[6]};
	int64_t s;
	if (rtc_decode(t, reg_b, century, &s) != 0)
		return;
	time_t tt = (time_t)s;
	struct tm tm;
	if (!gmtime_r(&tt, &tm))
		abort();
	struct rtc_time back = encode(&tm, reg_b);
	if (reg_b & REG_B_24H)
		t.hour &= ~HOUR_PM; /* a stray bit 7 in 24-hour mode is ignored */
	if (!century)
		back.century = t.century;
	if (memcmp(&t, &back, sizeof(t)) != 0)
		abort();
}

static void time_round_trip(const uint8_t *d, uint8_t reg_b, bool century)
{
	uint64_t v;
	memcpy(&v, d, 8);
	/* 1900-01-01 .. 2099-12-31 (2000-01-01 .. without a century register), in seconds. */
	int64_t lo = century ? -2208988800 : 946684800, hi = 4102444799;
	int64_t want = lo + (int64_t)(v % (uint64_t)(hi - lo + 1)), got;
	time_t tt = (time_t)want;
	struct tm tm;
	if (!gmtime_r(&tt, &tm))
		abort();
	if (rtc_decode(encode(&tm, reg_b), reg_b, century, &got) != 0 || got != want)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 17)
		return 0;
	uint8_t reg_b = data[7];
	bool century = data[8] & 1;
	registers_round_trip(data, reg_b, century);
	time_round_trip(data + 9, reg_b, century);
	return 0;
}
