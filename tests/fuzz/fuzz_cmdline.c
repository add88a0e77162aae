/*
 * libFuzzer target for rt/cmdline.c: arbitrary bytes as a boot command line.
 * Checks that every argv/env pointer lies inside the parser's own storage,
 * strings are terminated, counts stay within bounds and lookups are safe.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

static struct cmdline parsed;

static void check_inside(const char *p)
{
	const char *lo = parsed.storage, *hi = parsed.storage + sizeof(parsed.storage);
	if (p < lo || p >= hi || !memchr(p, '\0', (size_t)(hi - p)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = malloc(size + 1);
	memcpy(src, data, size);
	src[size] = '\0';
	cmdline_parse(src, "fuzz", &parsed);
	if (parsed.argc < 1 || parsed.argc > CMDLINE_MAX_ARGS || parsed.argv[parsed.argc] ||
	    parsed.envc < 0 || parsed.envc > CMDLINE_MAX_ENV || parsed.envp[parsed.envc])
		abort();
	for (int i = 1; i < parsed.argc; i++)
		check_inside(parsed.argv[i]);
	for (int i = 0; i < parsed.envc; i++) {
		check_inside(parsed.envp[i]);
		if (!strchr(parsed.envp[i], '='))
			abort();
	}
	(void)cmdline_lookup(&parsed, "ip");
	(void)cmdline_lookup(&parsed, "");
	free(src);
	return 0;
}
