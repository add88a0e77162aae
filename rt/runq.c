/*
 * Run queues: the threads ready to run on one CPU, by priority. Each of
 * RUNQ_PRIOS levels is a FIFO ring (round robin within a priority), and a
 * bitmap says which levels are non-empty, so the best ready thread is found
 * in O(1) and any node is removed in O(1).
 *
 * Pure data structure: no locking (the scheduler holds the CPU's run-queue
 * lock around every call) and nothing about threads, so the host unit
 * tests (tests/host/test_runq.c) drive it directly.
 */
#include "rt.h"

void runq_init(struct runq *q)
{
	for (unsigned i = 0; i < RUNQ_PRIOS; i++)
		q->head[i].next = q->head[i].prev = &q->head[i];
	q->bitmap = 0;
	q->count = 0;
}

static void link_between(struct runq_node *n, struct runq_node *prev, struct runq_node *next)
{
	n->prev = prev;
	n->next = next;
	prev->next = n;
	next->prev = n;
}

/* Queue n at priority prio: at the back (its turn comes last) or, with front, next to run. */
void runq_push(struct runq *q, struct runq_node *n, unsigned prio, bool front)
{
	if (prio >= RUNQ_PRIOS)
		panic("runq_push: priority %u out of range", prio);
	if (n->queued)
		panic("runq_push: node %p is queued already", (void *)n);
	struct runq_node *h = &q->head[prio];
	if (front)
		link_between(n, h, h->next);
	else
		link_between(n, h->prev, h);
	n->prio = (uint8_t)prio;
	n->queued = true;
	q->bitmap |= 1u << prio;
	q->count++;
}

void runq_remove(struct runq *q, struct runq_node *n)
{
	if (!n->queued)
		panic("runq_remove: node %p is not queued", (void *)n);
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = NULL;
	n->queued = false;
	struct runq_node *h = &q->head[n->prio];
	if (h->next == h)
		q->bitmap &= ~(1u << n->prio);
	q->count--;
}

/* The highest priority with a node queued, or -1 when the queue is empty. */
int runq_top(const struct runq *q)
{
	return q->bitmap ? 31 - __builtin_clz(q->bitmap) : -1;
}

/* Dequeue the first node of the highest priority, or NULL. */
struct runq_node *runq_pop(struct runq *q)
{
	int top = runq_top(q);
	if (top < 0)
		return NULL;
	struct runq_node *n = q->head[top].next;
	runq_remove(q, n);
	return n;
}

/*
 * Dequeue the first node, best priority first, for which ok(n, ctx) holds
 * (a thread another CPU is allowed to run), or NULL.
 */
struct runq_node *runq_take_if(struct runq *q, bool (*ok)(const struct runq_node *, void *),
                               void *ctx)
{
	for (uint32_t levels = q->bitmap; levels; levels &= ~(1u << (31 - __builtin_clz(levels)))) {
		struct runq_node *h = &q->head[31 - __builtin_clz(levels)];
		for (struct runq_node *n = h->next; n != h; n = n->next)
			if (ok(n, ctx)) {
				runq_remove(q, n);
				return n;
			}
	}
	return NULL;
}

unsigned runq_count(const struct runq *q)
{
	return __atomic_load_n(&q->count, __ATOMIC_RELAXED);
}
