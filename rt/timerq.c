/*
 * Timer queues: the deadlines one CPU waits for (sleeps, timeouts), as a
 * pairing heap (Fredman, Sedgewick, Sleator and Tarjan, "The pairing heap:
 * a new form of self-adjusting heap", 1986). Intrusive, so queueing never
 * allocates (it happens with interrupts off): insert O(1), earliest O(1),
 * pop and remove O(log n) amortised.
 *
 * Each node links to its first child (child), its right sibling (next) and
 * back (prev: the left sibling, or the parent for a first child). Roots
 * have neither next nor prev.
 *
 * Pure data structure: no locking (the scheduler holds the queue's lock),
 * host unit tests in tests/host/test_timerq.c.
 */
#include "rt.h"

void timerq_init(struct timerq *q)
{
	q->root = NULL;
	q->count = 0;
}

/* Two detached heaps into one: the later root becomes the earlier one's first child. */
static struct timer *meld(struct timer *a, struct timer *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (b->deadline < a->deadline) {
		struct timer *t = a;
		a = b;
		b = t;
	}
	b->prev = a;
	b->next = a->child;
	if (a->child)
		a->child->prev = b;
	a->child = b;
	return a;
}

/*
 * A list of siblings into one heap, in the classic two passes: meld pairs
 * left to right, then fold the results right to left. Iterative, so a long
 * sibling list (many inserts, then a pop) cannot overflow the stack.
 */
static struct timer *merge_pairs(struct timer *first)
{
	struct timer *pairs = NULL; /* melded pairs, last one first, linked through next */
	while (first) {
		struct timer *a = first, *b = first->next;
		first = b ? b->next : NULL;
		a->next = a->prev = NULL;
		if (b)
			b->next = b->prev = NULL;
		struct timer *m = meld(a, b);
		m->next = pairs;
		pairs = m;
	}
	struct timer *heap = NULL;
	while (pairs) {
		struct timer *next = pairs->next;
		pairs->next = NULL;
		heap = meld(pairs, heap);
		pairs = next;
	}
	return heap;
}

void timerq_insert(struct timerq *q, struct timer *t)
{
	if (t->queued)
		panic("timerq_insert: timer %p is queued already", (void *)t);
	t->child = t->next = t->prev = NULL;
	t->queued = true;
	q->root = meld(q->root, t);
	q->count++;
}

static void unlink_from_siblings(struct timer *t)
{
	if (t->prev->child == t)
		t->prev->child = t->next; /* t was its parent's first child */
	else
		t->prev->next = t->next;
	if (t->next)
		t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

void timerq_remove(struct timerq *q, struct timer *t)
{
	if (!t->queued)
		panic("timerq_remove: timer %p is not queued", (void *)t);
	struct timer *children = t->child;
	t->child = NULL;
	if (t == q->root) {
		q->root = merge_pairs(children);
	} else {
		unlink_from_siblings(t);
		q->root = meld(q->root, merge_pairs(children));
	}
	t->queued = false;
	q->count--;
}

/* The earliest timer (not dequeued), or NULL. */
struct timer *timerq_first(const struct timerq *q)
{
	return q->root;
}

/* The earliest deadline, or UINT64_MAX when the queue is empty. */
uint64_t timerq_next(const struct timerq *q)
{
	return q->root ? q->root->deadline : UINT64_MAX;
}

/* Dequeue and return the earliest timer if its deadline is at or before now. */
struct timer *timerq_pop_due(struct timerq *q, uint64_t now)
{
	struct timer *t = q->root;
	if (!t || t->deadline > now)
		return NULL;
	timerq_remove(q, t);
	return t;
}
