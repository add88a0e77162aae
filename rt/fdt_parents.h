/*
 * Node -> parent offsets of a flattened device tree, recorded by a walk
 * that is made anyway. libfdt's fdt_parent_offset walks the blob from the
 * root twice on every call (~0.2 ms under TCG on QEMU virt's tree), and
 * boot's readers ask for parents many times (reg cells, ranges,
 * interrupt-parent). A walk visits nodes in increasing offset order, so a
 * lookup is a binary search. Header-only: mmio/dtb.c and
 * arch/aarch64/dtb.c keep one table each, and the host fuzzers link either
 * file alone.
 */
#ifndef NOOS_FDT_PARENTS_H
#define NOOS_FDT_PARENTS_H

#include <stdbool.h>

#define FDT_PARENTS_MAX 1024

struct fdt_parents {
	const void *fdt; /* the blob recorded, NULL for none */
	unsigned count;
	int node[FDT_PARENTS_MAX], parent[FDT_PARENTS_MAX];
};

/* Record node's parent; a walk starts at the root (offset 0), which starts a new table. */
static inline void fdt_parents_add(struct fdt_parents *t, const void *fdt, int node, int parent)
{
	if (t->fdt != fdt || node == 0) {
		t->fdt = fdt;
		t->count = 0;
	}
	if (t->count < FDT_PARENTS_MAX && (t->count == 0 || node > t->node[t->count - 1])) {
		t->node[t->count] = node;
		t->parent[t->count++] = parent;
	}
}

/* The recorded parent of node in fdt; false when not recorded (ask libfdt). */
static inline bool fdt_parents_find(const struct fdt_parents *t, const void *fdt, int node,
                                    int *parent)
{
	unsigned lo = 0, hi = t->fdt == fdt ? t->count : 0;
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		if (t->node[mid] == node) {
			*parent = t->parent[mid];
			return true;
		}
		if (t->node[mid] < node)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

#endif
