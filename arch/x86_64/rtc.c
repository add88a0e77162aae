/*
 * Wall-clock time from the CMOS RTC (Motorola MC146818A datasheet; the PC
 * register map is the same on QEMU's pc, q35 and microvm). It is read once,
 * on first use, to the second; after that the monotonic clock carries it.
 */
#include <errno.h>
#include <string.h>

#include "acpi.h"
#include "rt.h"
#include "x86.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71

#define RTC_SEC   0x00
#define RTC_MIN   0x02
#define RTC_HOUR  0x04
#define RTC_DAY   0x07
#define RTC_MONTH 0x08
#define RTC_YEAR  0x09
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define REG_A_UIP 0x80 /* an update is in progress: the time registers are changing */
#define REG_B_24H 0x02
#define REG_B_BIN 0x04 /* binary, not BCD */
#define HOUR_PM   0x80 /* 12-hour mode */

#define UIP_WAIT_NS 3000000 /* an update takes 1984 us at most (datasheet, UIP) */

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg); /* bit 7 clear: NMIs stay enabled */
	return inb(CMOS_DATA);
}

static int wait_no_update(void)
{
	uint64_t end = arch_time_ns() + UIP_WAIT_NS;
	while (cmos_read(RTC_REG_A) & REG_A_UIP)
		if (arch_time_ns() > end)
			return -EIO;
	return 0;
}

static void read_raw(struct rtc_time *t, uint8_t century_reg)
{
	t->sec = cmos_read(RTC_SEC);
	t->min = cmos_read(RTC_MIN);
	t->hour = cmos_read(RTC_HOUR);
	t->day = cmos_read(RTC_DAY);
	t->month = cmos_read(RTC_MONTH);
	t->year = cmos_read(RTC_YEAR);
	t->century = century_reg ? cmos_read(century_reg) : 0;
}

/* Two BCD digits into *v; a nibble above 9 is not BCD (false). */
static bool from_bcd(unsigned *v)
{
	if ((*v & 0xf) > 9 || (*v >> 4) > 9)
		return false;
	*v = (*v >> 4) * 10 + (*v & 0xf);
	return true;
}

/* The registers as binary values and a 24-hour clock; false if a register holds no number. */
static bool to_binary(struct rtc_time *t, uint8_t reg_b)
{
	bool pm = !(reg_b & REG_B_24H) && (t->hour & HOUR_PM);
	t->hour &= ~HOUR_PM;
	if (!(reg_b & REG_B_BIN) &&
	    !(from_bcd(&t->sec) && from_bcd(&t->min) && from_bcd(&t->hour) && from_bcd(&t->day) &&
	      from_bcd(&t->month) && from_bcd(&t->year) && from_bcd(&t->century)))
		return false;
	if (reg_b & REG_B_24H)
		return true;
	if (t->hour < 1 || t->hour > 12)
		return false;                   /* a 12-hour clock shows 1..12 */
	t->hour = t->hour % 12 + (pm ? 12 : 0); /* 12 AM is 0, 12 PM is 12 */
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (March-based years). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static unsigned days_in_month(unsigned year, unsigned month)
{
	static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
	return days[month - 1] + (month == 2 && leap);
}

static bool time_valid(const struct rtc_time *t)
{
	return t->sec < 60 && t->min < 60 && t->hour < 24 && t->month >= 1 && t->month <= 12 &&
	       t->year < 100 && t->century < 100 && t->day >= 1 &&
	       t->day <= days_in_month(t->century * 100 + t->year, t->month);
}

/*
 * The registers as read (reg_b says BCD or binary, 12- or 24-hour) into Unix
 * seconds; -EIO for a value no clock shows. Without a century register the
 * two year digits are this century's.
 */
int rtc_decode(struct rtc_time t, uint8_t reg_b, bool have_century, int64_t *unix_sec)
{
	if (!have_century)
		t.century = 0;
	if (!to_binary(&t, reg_b))
		return -EIO;
	if (!have_century)
		t.century = 20;
	if (!time_valid(&t))
		return -EIO;
	int64_t days = days_from_civil(t.century * 100 + t.year, t.month, t.day);
	*unix_sec = days * 86400 + t.hour * 3600 + t.min * 60 + t.sec;
	return 0;
}

/* Two identical reads with no update in progress before either (the datasheet's method). */
int arch_rtc_read(int64_t *unix_sec)
{
	const struct acpi_info *a = platform();
	if (a->no_cmos_rtc || cmos_read(RTC_REG_A) == 0xff)
		return -ENODEV;
	struct rtc_time t, again;
	int tries = 0;
	do {
		if (wait_no_update() != 0 || ++tries > 5)
			return -EIO;
		read_raw(&t, a->rtc_century);
		if (wait_no_update() != 0)
			return -EIO;
		read_raw(&again, a->rtc_century);
	} while (memcmp(&t, &again, sizeof(t)) != 0);
	return rtc_decode(t, cmos_read(RTC_REG_B), a->rtc_century != 0, unix_sec);
}
