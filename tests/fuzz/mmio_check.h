/*
 * What every scan into a struct mmio_list must leave, whatever its input:
 * at most MMIO_MAX_WINDOWS windows, each non-empty and not wrapping, none
 * overlapping another. Shared by the mmio fuzzers; each adds the checks
 * of its own source.
 */
#ifndef TESTS_FUZZ_MMIO_CHECK_H
#define TESTS_FUZZ_MMIO_CHECK_H

#include <stdlib.h>

#include "mmio.h"

static void check_windows(const struct mmio_list *l)
{
	if (l->count > MMIO_MAX_WINDOWS)
		abort();
	for (unsigned i = 0; i < l->count; i++) {
		const struct mmio_desc *a = &l->dev[i];
		if (a->size == 0 || a->base + a->size < a->base)
			abort();
		for (unsigned j = 0; j < i; j++) {
			const struct mmio_desc *b = &l->dev[j];
			if (a->base < b->base + b->size && b->base < a->base + a->size)
				abort();
		}
	}
}

#endif
