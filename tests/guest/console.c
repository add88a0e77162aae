/*
 * console: one thread per CPU, each printing whole lines at once; the
 * console lock must keep every line intact (the runner rejects any line that
 * starts with "console:" but is not exactly one well-formed record).
 */
#include <stdio.h>

#include "noos.h"

#define LINES 150

static void *printer(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	for (int i = 0; i < LINES; i++)
		printf("console: t%u line %d abcdefghijklmnopqrstuvwxyzabcdefghijklmn\n", t, i);
	return NULL;
}

int main(void)
{
	unsigned n = (unsigned)noos_cpu_count();
	noos_thread_t *threads[64];
	if (n > 64)
		n = 64;
	for (unsigned t = 0; t < n; t++) {
		struct noos_thread_opts o = {.name = "printer", .affinity = 1ull << t};
		if (noos_thread_create(&threads[t], printer, (void *)(uintptr_t)t, &o) < 0) {
			printf("FAIL: thread create\n");
			return 1;
		}
	}
	for (unsigned t = 0; t < n; t++)
		noos_thread_join(threads[t], NULL);
	printf("console-done: %u threads\n", n);
	return 0;
}
