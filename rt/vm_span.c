/*
 * The bookkeeping of the virtual memory window (vm.c): a sorted array of
 * spans, each a run of pages in one state (reserved, committed with a
 * protection, stack, guard). Bookkeeping is by ranges, never by page, so a
 * runtime that reserves and commits hundreds of MiB costs one or two spans.
 * Adjacent spans in the same state merge. No locking: the caller's (vm.lock).
 */
#include <stdlib.h>
#include <string.h>

#include "rt.h"

/* Index of the first span that ends above a (== set->n when none does). */
size_t vm_spans_find(const struct vm_spans *set, uintptr_t a)
{
	size_t lo = 0, hi = set->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (set->v[mid].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct vm_span *vm_spans_at(const struct vm_spans *set, uintptr_t a)
{
	size_t i = vm_spans_find(set, a);
	return i < set->n && set->v[i].base <= a ? &set->v[i] : NULL;
}

/* Room for `extra` more spans; false when the heap has none. */
bool vm_spans_room(struct vm_spans *set, size_t extra)
{
	if (set->n + extra <= set->cap)
		return true;
	size_t cap = set->cap ? set->cap * 2 : 32;
	while (cap < set->n + extra)
		cap *= 2;
	struct vm_span *v = malloc(cap * sizeof(*v));
	if (!v)
		return false;
	if (set->n)
		memcpy(v, set->v, set->n * sizeof(*v));
	free(set->v);
	set->v = v;
	set->cap = cap;
	return true;
}

void vm_span_name(char *dst, const char *src)
{
	size_t i = 0;
	for (; src && src[i] && i + 1 < VM_NAME_MAX; i++)
		dst[i] = src[i];
	dst[i] = '\0';
}

void vm_spans_insert(struct vm_spans *set, size_t i, const struct vm_span *s)
{
	memmove(&set->v[i + 1], &set->v[i], (set->n - i) * sizeof(*s));
	set->v[i] = *s;
	set->n++;
}

void vm_spans_remove(struct vm_spans *set, size_t i, size_t count)
{
	memmove(&set->v[i], &set->v[i + count], (set->n - i - count) * sizeof(set->v[0]));
	set->n -= count;
}

/* Make a a span boundary (needs room for one more span). */
void vm_spans_split(struct vm_spans *set, uintptr_t a)
{
	size_t i = vm_spans_find(set, a);
	if (i == set->n || set->v[i].base >= a)
		return;
	struct vm_span upper = set->v[i];
	upper.base = a;
	set->v[i].end = a;
	vm_spans_insert(set, i + 1, &upper);
}

static bool same_state(const struct vm_span *a, const struct vm_span *b)
{
	return a->end == b->base && a->kind == b->kind && a->prot == b->prot &&
	       strcmp(a->name, b->name) == 0;
}

/* Merge equal neighbours among spans [lo - 1, hi]. */
void vm_spans_merge(struct vm_spans *set, size_t lo, size_t hi)
{
	size_t i = lo > 0 ? lo - 1 : 0;
	while (i + 1 < set->n && i <= hi) {
		if (same_state(&set->v[i], &set->v[i + 1])) {
			set->v[i].end = set->v[i + 1].end;
			vm_spans_remove(set, i + 1, 1);
			if (hi > 0)
				hi--;
		} else {
			i++;
		}
	}
}

/*
 * Whether spans cover [a, e) without a gap, with kinds allowed by `kinds`
 * (a bit mask of 1 << enum vm_span_kind).
 */
bool vm_spans_cover(const struct vm_spans *set, uintptr_t a, uintptr_t e, unsigned kinds)
{
	for (size_t i = vm_spans_find(set, a); a < e; i++) {
		if (i == set->n || set->v[i].base > a || !(kinds & (1u << set->v[i].kind)))
			return false;
		a = set->v[i].end;
	}
	return true;
}

/* Give [a, e) (covered by spans) one state: split at both ends, set, merge. */
void vm_spans_set_state(struct vm_spans *set, uintptr_t a, uintptr_t e, enum vm_span_kind kind,
                        unsigned prot, const char *name)
{
	vm_spans_split(set, a);
	vm_spans_split(set, e);
	size_t first = vm_spans_find(set, a), i = first;
	for (; i < set->n && set->v[i].base < e; i++) {
		set->v[i].kind = (uint8_t)kind;
		set->v[i].prot = (uint8_t)prot;
		vm_span_name(set->v[i].name, name);
	}
	vm_spans_merge(set, first, i);
}
