/*
 * rt/strtoul.c and rt/string.c against the host libc as an oracle, on edge
 * cases and random inputs: bases, prefixes, signs, overflow, end pointers;
 * overlapping moves, comparisons' signs, searches.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

unsigned long rt_strtoul(const char *s, char **end, int base);
long rt_strtol(const char *s, char **end, int base);
void *rt_memmove(void *dst, const void *src, size_t n);
void *rt_memcpy(void *dst, const void *src, size_t n);
void *rt_memset(void *dst, int c, size_t n);
int rt_memcmp(const void *a, const void *b, size_t n);
int rt_strcmp(const char *a, const char *b);
int rt_strncmp(const char *a, const char *b, size_t n);
char *rt_strchr(const char *s, int c);
char *rt_strrchr(const char *s, int c);
char *rt_strstr(const char *h, const char *n);
size_t rt_strlcpy(char *dst, const char *src, size_t size);

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void strto_case(const char *s, int base)
{
	char *e1, *e2;
	unsigned long u1 = rt_strtoul(s, &e1, base), u2 = strtoul(s, &e2, base);
	CHECK_MSG(u1 == u2 && e1 == e2, "strtoul(\"%s\", %d): %lu/+%td vs %lu/+%td", s, base, u1,
	          e1 - s, u2, e2 - s);
	long l1 = rt_strtol(s, &e1, base), l2 = strtol(s, &e2, base);
	CHECK_MSG(l1 == l2 && e1 == e2, "strtol(\"%s\", %d): %ld vs %ld", s, base, l1, l2);
}

static void test_strto(void)
{
	static const char *const cases[] = {"0",
	                                    "12",
	                                    "-12",
	                                    "+7",
	                                    "  \t42z",
	                                    "0x1F",
	                                    "0X1f",
	                                    "0x",
	                                    "0xg",
	                                    "017",
	                                    "08",
	                                    "-0",
	                                    "zz",
	                                    "",
	                                    "-",
	                                    "+",
	                                    "  ",
	                                    "18446744073709551615",
	                                    "18446744073709551616",
	                                    "99999999999999999999999",
	                                    "9223372036854775807",
	                                    "9223372036854775808",
	                                    "-9223372036854775808",
	                                    "-9223372036854775809",
	                                    "-18446744073709551615",
	                                    "0b101",
	                                    "ZZZZZZZZZZZZZZ",
	                                    "123abc"};
	static const int bases[] = {0, 2, 8, 10, 16, 36};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
			strto_case(cases[i], bases[b]);
	char *e;
	CHECK(rt_strtoul("12", &e, 1) == 0 && *e == '1');
	CHECK(rt_strtoul("12", &e, 37) == 0 && *e == '1');
}

static void test_memmove(void)
{
	unsigned char a[64], b[64];
	for (int off = -8; off <= 8; off++)
		for (int n = 0; n < 40; n++) {
			for (int i = 0; i < 64; i++)
				a[i] = b[i] = (unsigned char)(i * 7 + 3);
			rt_memmove(a + 16 + off, a + 16, (size_t)n);
			memmove(b + 16 + off, b + 16, (size_t)n);
			CHECK_MSG(memcmp(a, b, 64) == 0, "memmove off %d n %d", off, n);
		}
}

/* Every alignment of source and destination and every length around word sizes. */
static void test_memcpy_memset(void)
{
	unsigned char src[96], a[96], b[96];
	for (int i = 0; i < 96; i++)
		src[i] = (unsigned char)(i * 13 + 1);
	for (int so = 0; so < 8; so++)
		for (int doff = 0; doff < 8; doff++)
			for (int n = 0; n < 70; n++) {
				memset(a, 0xee, sizeof(a));
				memset(b, 0xee, sizeof(b));
				CHECK(rt_memcpy(a + doff, src + so, (size_t)n) == a + doff);
				memcpy(b + doff, src + so, (size_t)n);
				CHECK_MSG(memcmp(a, b, sizeof(a)) == 0, "memcpy so %d do %d n %d",
				          so, doff, n);
			}
	for (int off = 0; off < 8; off++)
		for (int n = 0; n < 70; n++) {
			memset(a, 0x11, sizeof(a));
			memset(b, 0x11, sizeof(b));
			CHECK(rt_memset(a + off, 0x1a5, (size_t)n) ==
			      a + off); /* only the low byte counts */
			memset(b + off, 0xa5, (size_t)n);
			CHECK_MSG(memcmp(a, b, sizeof(a)) == 0, "memset off %d n %d", off, n);
		}
}

static void test_compare_and_search(void)
{
	static const char *const s[] = {"", "a", "ab", "abc", "abd", "b", "\xff", "a\xff"};
	for (size_t i = 0; i < 8; i++)
		for (size_t j = 0; j < 8; j++) {
			CHECK(sign(rt_strcmp(s[i], s[j])) == sign(strcmp(s[i], s[j])));
			for (size_t n = 0; n < 4; n++)
				CHECK(sign(rt_strncmp(s[i], s[j], n)) ==
				      sign(strncmp(s[i], s[j], n)));
			size_t n = strlen(s[i]) < strlen(s[j]) ? strlen(s[i]) : strlen(s[j]);
			CHECK(sign(rt_memcmp(s[i], s[j], n)) == sign(memcmp(s[i], s[j], n)));
			CHECK(rt_strstr(s[i], s[j]) == strstr(s[i], s[j]));
		}
	const char *h = "hello, world";
	CHECK(rt_strchr(h, 'o') == strchr(h, 'o'));
	CHECK(rt_strrchr(h, 'o') == strrchr(h, 'o'));
	CHECK(rt_strchr(h, '\0') == h + strlen(h));
	CHECK(rt_strchr(h, 'z') == NULL);
	char buf[6];
	CHECK(rt_strlcpy(buf, "abcdefgh", sizeof(buf)) == 8 && strcmp(buf, "abcde") == 0);
}

int main(void)
{
	test_strto();
	test_memmove();
	test_memcpy_memset();
	test_compare_and_search();
	return check_report("test_libc");
}
