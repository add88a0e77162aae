/* rt/cmdline.c: splitting, quoting, "--", the environment, and input that does not fit. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rt.h"

static struct cmdline c;

static void test_basic(void)
{
	cmdline_parse("  one\ttwo=2  \"three four\" x=\"quoted value\" -- five=5 --  ", "prog", &c);
	CHECK(c.argc == 5);
	CHECK(strcmp(c.argv[0], "prog") == 0);
	CHECK(strcmp(c.argv[1], "one") == 0);
	CHECK(strcmp(c.argv[2], "three four") == 0);
	CHECK(strcmp(c.argv[3], "five=5") == 0);
	CHECK(strcmp(c.argv[4], "--") == 0);
	CHECK(c.argv[5] == NULL);
	CHECK(c.envc == 2);
	CHECK(strcmp(cmdline_lookup(&c, "two"), "2") == 0);
	CHECK(strcmp(cmdline_lookup(&c, "x"), "quoted value") == 0);
	CHECK(cmdline_lookup(&c, "five") == NULL);
	CHECK(cmdline_lookup(&c, "tw") == NULL);
	CHECK(!c.truncated);
}

static void test_empty_and_odd(void)
{
	cmdline_parse(NULL, "p", &c);
	CHECK(c.argc == 1 && c.envc == 0 && c.argv[1] == NULL);
	cmdline_parse("", "p", &c);
	CHECK(c.argc == 1);
	cmdline_parse("=novalue a= \"unterminated", "p", &c);
	CHECK(c.argc == 3); /* "=novalue" has no key: an argument */
	CHECK(strcmp(c.argv[1], "=novalue") == 0);
	CHECK(strcmp(c.argv[2], "unterminated") == 0);
	CHECK(strcmp(cmdline_lookup(&c, "a"), "") == 0);
	cmdline_parse("k=1 k=2 k=3", "p", &c);
	CHECK(strcmp(cmdline_lookup(&c, "k"), "3") == 0);
}

static void test_limits(void)
{
	char *big = malloc(3 * CMDLINE_MAX_BYTES);
	memset(big, 'a', 3 * CMDLINE_MAX_BYTES - 1);
	big[3 * CMDLINE_MAX_BYTES - 1] = '\0';
	cmdline_parse(big, "p", &c);
	CHECK(c.truncated);
	CHECK(c.argc == 1);

	char *many = big;
	size_t off = 0;
	for (int i = 0; i < CMDLINE_MAX_ARGS + 10; i++)
		off += (size_t)sprintf(many + off, "w%d e%d=v ", i, i);
	cmdline_parse(many, "p", &c);
	CHECK(c.truncated);
	CHECK(c.argc == CMDLINE_MAX_ARGS && c.argv[CMDLINE_MAX_ARGS] == NULL);
	CHECK(c.envc == CMDLINE_MAX_ENV && c.envp[CMDLINE_MAX_ENV] == NULL);
	free(big);
}

int main(void)
{
	test_basic();
	test_empty_and_odd();
	test_limits();
	return check_report("test_cmdline");
}
