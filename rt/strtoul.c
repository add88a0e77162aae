/* Number parsing: strtoul/strtol/atoi with C's rules (base 0 detects 0x and 0 prefixes). */
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Parses the magnitude; *neg gets the sign, *overflow whether it exceeded ULONG_MAX. */
static unsigned long parse(const char *s, char **end, int base, bool *neg, bool *overflow)
{
	const char *p = s;
	while (is_space(*p))
		p++;
	*neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    digit_value(p[2]) < 16) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	*overflow = false;
	if (base < 2 || base > 36) {
		if (end)
			*end = (char *)s;
		return 0;
	}
	const char *digits = p;
	unsigned long v = 0;
	*overflow = false;
	for (int d; (d = digit_value(*p)) < base; p++) {
		if (v > (ULONG_MAX - (unsigned long)d) / (unsigned long)base)
			*overflow = true;
		v = v * (unsigned long)base + (unsigned long)d;
	}
	if (end)
		*end = (char *)(p == digits ? s : p);
	return *overflow ? ULONG_MAX : v;
}

unsigned long strtoul(const char *restrict s, char **restrict end, int base)
{
	bool neg, overflow;
	unsigned long v = parse(s, end, base, &neg, &overflow);
	return (neg && !overflow) ? -v : v; /* overflow stays ULONG_MAX, whatever the sign */
}

long strtol(const char *restrict s, char **restrict end, int base)
{
	bool neg, overflow;
	unsigned long v = parse(s, end, base, &neg, &overflow);
	if (!neg)
		return v > (unsigned long)LONG_MAX ? LONG_MAX : (long)v;
	return v > (unsigned long)LONG_MAX + 1 ? LONG_MIN : (long)(0ul - v);
}

int atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}
