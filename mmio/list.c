/*
 * The list of virtio-mmio windows the boot sources declared. Declarations
 * are untrusted (a typo on the command line, a malformed DTB): a window that
 * is empty, wraps around the address space or overlaps one already listed
 * is refused here, before anything probes it, so two drivers never share
 * registers.
 */
#include <errno.h>
#include <stdio.h>

#include "mmio.h"

static bool overlaps(const struct mmio_desc *a, const struct mmio_desc *b)
{
	/* Both are non-empty and do not wrap (checked on the way in). */
	return a->base < b->base + b->size && b->base < a->base + a->size;
}

int mmio_list_add(struct mmio_list *l, const struct mmio_desc *d, const char **why)
{
	if (d->size == 0) {
		*why = "empty window";
		return -EINVAL;
	}
	if (d->base + d->size < d->base) {
		*why = "window wraps around the address space";
		return -EINVAL;
	}
	for (unsigned i = 0; i < l->count; i++) {
		if (overlaps(&l->dev[i], d)) {
			*why = "overlaps a window declared before";
			return -EEXIST;
		}
	}
	if (l->count >= MMIO_MAX_WINDOWS) {
		*why = "too many virtio-mmio windows";
		return -ENOSPC;
	}
	l->dev[l->count++] = *d;
	return 0;
}

void mmio_list_reject(struct mmio_list *l, const char *source, const char *what, const char *why)
{
	l->rejected++;
	printf("virtio-mmio: %s: %s rejected: %s\n", source, what, why);
}
