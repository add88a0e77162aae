/*
 * libFuzzer target for mmio/cmdline.c and mmio/list.c: arbitrary bytes as
 * (a) one virtio_mmio.device value and (b) a whole boot command line split
 * by rt/cmdline.c and scanned the way mmio/bus.c does it.
 *
 * Checks: an accepted entry is a non-empty, non-wrapping window with a
 * non-zero irq and parses back identically from its canonical spelling;
 * a scanned list stays in bounds, holds no overlapping windows, and
 * accounts for every virtio_mmio.device word (added or rejected).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmio.h"
#include "mmio_check.h"
#include "rt.h"

static struct cmdline parsed;
static struct mmio_list list;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Rejections are logged to stdout; libFuzzer reports on stderr. */
	int null = open("/dev/null", O_WRONLY);
	if (null >= 0)
		dup2(null, 1);
	return 0;
}

static void check_entry(const char *value)
{
	struct mmio_desc d, again;
	const char *why = NULL;
	if (mmio_cmdline_entry(value, &d, &why) != 0) {
		if (!why || !*why)
			abort();
		return;
	}
	if (d.size == 0 || d.base + d.size < d.base || d.irq == 0)
		abort();
	char canon[96];
	snprintf(canon, sizeof(canon), "%#llx@%#llx:%u:%d", (unsigned long long)d.size,
	         (unsigned long long)d.base, (unsigned)d.irq, (int)d.id);
	if (mmio_cmdline_entry(canon, &again, &why) != 0 || again.base != d.base ||
	    again.size != d.size || again.irq != d.irq || again.id != d.id)
		abort();
}

static unsigned count_keys(char *const *words, int n)
{
	unsigned keys = 0;
	for (int i = 0; i < n; i++)
		keys += mmio_cmdline_value(words[i]) != NULL;
	return keys;
}

static void check_list(unsigned keys)
{
	check_windows(&list);
	if (list.count + list.rejected != keys)
		abort();
	for (unsigned i = 0; i < list.count; i++)
		if (list.dev[i].irq == 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = malloc(size + 1);
	memcpy(src, data, size);
	src[size] = '\0';
	check_entry(src);

	cmdline_parse(src, "fuzz", &parsed);
	memset(&list, 0, sizeof(list));
	mmio_cmdline_scan(parsed.envp, parsed.envc, &list);
	mmio_cmdline_scan(parsed.argv + 1, parsed.argc - 1, &list);
	check_list(count_keys(parsed.envp, parsed.envc) +
	           count_keys(parsed.argv + 1, parsed.argc - 1));
	free(src);
	return 0;
}
