/*
 * rt/printf.c against the host libc as an oracle: random combinations of
 * flags, width, precision, length modifier and conversion, formatted by both,
 * must produce the same text and the same return value; truncation and the
 * terminating NUL follow C's snprintf rules.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int rt_snprintf(char *buf, size_t size, const char *fmt, ...);

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t interesting_value(void)
{
	static const uint64_t edges[] = {0,
	                                 1,
	                                 7,
	                                 8,
	                                 9,
	                                 10,
	                                 15,
	                                 16,
	                                 127,
	                                 128,
	                                 255,
	                                 256,
	                                 32767,
	                                 32768,
	                                 65535,
	                                 65536,
	                                 0x7fffffff,
	                                 0x80000000,
	                                 0xffffffff,
	                                 0x100000000ull,
	                                 0x7fffffffffffffffull,
	                                 0x8000000000000000ull,
	                                 0xffffffffffffffffull};
	uint64_t r = next();
	if (r % 3 == 0)
		return edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))];
	return next() >> (next() % 64);
}

static void build_format(char *fmt, size_t size, char conv, const char *len)
{
	static const char flag_chars[] = "-0+ #";
	char flags[8] = "", width[8] = "", prec[8] = "";
	int nf = 0;
	for (int i = 0; i < 5; i++)
		if (next() % 4 == 0 && !(conv == 'p' && flag_chars[i] != '-'))
			flags[nf++] = flag_chars[i];
	if (next() % 2)
		snprintf(width, sizeof(width), "%d", (int)(next() % 25));
	if (next() % 3 == 0 && conv != 'c' && conv != 'p')
		snprintf(prec, sizeof(prec), ".%d", (int)(next() % 14));
	snprintf(fmt, size, "[%%%s%s%s%s%c]", flags, width, prec, len, conv);
}

static void compare(const char *fmt, int got_n, const char *got, int want_n, const char *want)
{
	CHECK_MSG(got_n == want_n && strcmp(got, want) == 0,
	          "format \"%s\": got %d \"%s\", want %d \"%s\"", fmt, got_n, got, want_n, want);
}

#define BOTH(fmt, arg)                                                                             \
	do {                                                                                       \
		char a[256], b[256];                                                               \
		__typeof__(arg) value = (arg); /* evaluated once: it may consume randomness */     \
		int na = rt_snprintf(a, sizeof(a), fmt, value);                                    \
		int nb = snprintf(b, sizeof(b), fmt, value);                                       \
		compare(fmt, na, a, nb, b);                                                        \
	} while (0)

static void random_integer_case(void)
{
	static const char convs[] = "diuxXo";
	static const char *const lens[] = {"", "hh", "h", "l", "ll", "z"};
	char conv = convs[next() % 6];
	const char *len = lens[next() % 6];
	char fmt[64];
	build_format(fmt, sizeof(fmt), conv, len);
	uint64_t v = interesting_value();
	if (!strcmp(len, "l") || !strcmp(len, "ll") || !strcmp(len, "z"))
		BOTH(fmt, (long)v);
	else
		BOTH(fmt, (int)v);
}

static void random_other_case(void)
{
	static const char *const strings[] = {"", "a", "hello", "a longer string of text"};
	char fmt[64];
	switch (next() % 3) {
	case 0:
		build_format(fmt, sizeof(fmt), 's', "");
		BOTH(fmt, strings[next() % 4]);
		break;
	case 1:
		build_format(fmt, sizeof(fmt), 'c', "");
		BOTH(fmt, (int)(' ' + next() % 90));
		break;
	default:
		build_format(fmt, sizeof(fmt), 'p', "");
		BOTH(fmt, (void *)(uintptr_t)(interesting_value() | 1));
	}
}

static void star_width_and_precision(void)
{
	char a[64], b[64];
	for (int w = -12; w <= 12; w += 3)
		for (int p = -1; p <= 6; p++) {
			int na = rt_snprintf(a, sizeof(a), "[%*.*d|%-*s]", w, p, -42, w, "xy");
			int nb = snprintf(b, sizeof(b), "[%*.*d|%-*s]", w, p, -42, w, "xy");
			compare("[%*.*d|%-*s]", na, a, nb, b);
		}
}

static void truncation(void)
{
	char buf[8];
	memset(buf, 'X', sizeof(buf));
	int n = rt_snprintf(buf, 5, "%s-%d", "abcdef", 12);
	CHECK(n == 9);
	CHECK(strcmp(buf, "abcd") == 0);
	CHECK(buf[5] == 'X'); /* nothing written past size */
	CHECK(rt_snprintf(NULL, 0, "%d", 12345) == 5);
	CHECK(rt_snprintf(buf, 1, "abc") == 3 && buf[0] == '\0');
	CHECK(rt_snprintf(buf, sizeof(buf), "%%") == 1 && strcmp(buf, "%") == 0);
	CHECK(rt_snprintf(buf, sizeof(buf), "%s", (char *)NULL) == 6);
}

int main(void)
{
	for (int i = 0; i < 200000; i++)
		random_integer_case();
	for (int i = 0; i < 50000; i++)
		random_other_case();
	star_width_and_precision();
	truncation();
	return check_report("test_printf");
}
