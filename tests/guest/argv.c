/*
 * argv: the command line reaches main() as argv and the key=value
 * environment, split the way noos.h documents (quotes group, "--" ends the
 * environment).
 */
#include <stdio.h>
#include <string.h>

#include "noos.h"

static int failures;

static void expect_str(const char *what, const char *got, const char *want)
{
	if (!got || strcmp(got, want) != 0) {
		printf("FAIL %s: got '%s', want '%s'\n", what, got ? got : "(null)", want);
		failures++;
	}
}

int main(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=<%s>\n", i, argv[i]);
	if (argc != 4) {
		printf("FAIL argc: got %d, want 4\n", argc);
		return 1;
	}
	expect_str("argv[0]", argv[0], "noos");
	expect_str("argv[1]", argv[1], "first");
	expect_str("argv[2]", argv[2], "two words");
	expect_str("argv[3]", argv[3], "after=dashes");
	if (argv[argc] != NULL) {
		printf("FAIL argv[argc] is not NULL\n");
		failures++;
	}
	expect_str("env mode", noos_getenv("mode"), "fast");
	expect_str("env later wins", noos_getenv("dup"), "2");
	if (noos_getenv("after") != NULL) {
		printf("FAIL after=dashes leaked into the environment\n");
		failures++;
	}
	if (noos_getenv("missing") != NULL) {
		printf("FAIL missing key found\n");
		failures++;
	}
	printf(failures ? "argv: %d failures\n" : "argv: ok\n", failures);
	return failures ? 1 : 0;
}
