/*
 * rt/timerq.c, the pairing heap of deadlines: earliest first, removal of any
 * timer, pop_due against "now", the heap shape after every operation, and a
 * long random run against a simple model; misuse panics.
 */
#include <stdlib.h>

#include "check.h"
#include "panic_catch.h"
#include "rt.h"

#define TIMERS 200

static struct timer timers[TIMERS];

/* Heap order and links below t; returns the nodes counted. */
static unsigned check_subtree(const struct timer *t, const struct timer *parent)
{
	unsigned n = 0;
	const struct timer *prev = parent;
	for (const struct timer *c = t; c; prev = c, c = c->next) {
		CHECK(c->queued);
		CHECK(c->prev == prev);
		if (parent)
			CHECK_MSG(c->deadline >= parent->deadline, "child %lu above parent %lu",
			          (unsigned long)c->deadline, (unsigned long)parent->deadline);
		n += 1 + check_subtree(c->child, c);
		if (!parent) /* the root has no siblings */
			break;
	}
	return n;
}

static void check_heap(const struct timerq *q)
{
	if (q->root) {
		CHECK(q->root->prev == NULL && q->root->next == NULL);
		CHECK(check_subtree(q->root, NULL) == q->count);
	} else {
		CHECK(q->count == 0);
	}
}

static void test_basic(void)
{
	struct timerq q;
	timerq_init(&q);
	CHECK(timerq_first(&q) == NULL && timerq_next(&q) == UINT64_MAX);
	CHECK(timerq_pop_due(&q, UINT64_MAX) == NULL);
	static const uint64_t d[] = {50, 10, 30, 10, 70, 20};
	for (unsigned i = 0; i < 6; i++) {
		timers[i] = (struct timer){.deadline = d[i]};
		timerq_insert(&q, &timers[i]);
		check_heap(&q);
	}
	CHECK(timerq_next(&q) == 10 && q.count == 6);
	CHECK(timerq_pop_due(&q, 9) == NULL);
	timerq_remove(&q, &timers[2]); /* 30, somewhere inside */
	check_heap(&q);
	uint64_t last = 0;
	unsigned popped = 0;
	struct timer *t;
	while ((t = timerq_pop_due(&q, 60)) != NULL) {
		CHECK(t->deadline >= last && t->deadline <= 60 && !t->queued);
		last = t->deadline;
		popped++;
		check_heap(&q);
	}
	CHECK(popped == 4 && timerq_next(&q) == 70);
	CHECK(timerq_pop_due(&q, 70) == &timers[4] && q.count == 0 && q.root == NULL);
}

static void test_misuse(void)
{
	struct timerq q;
	timerq_init(&q);
	timers[0] = (struct timer){.deadline = 1};
	timerq_insert(&q, &timers[0]);
	EXPECT_PANIC(timerq_insert(&q, &timers[0]), "queued already");
	timers[1] = (struct timer){.deadline = 2};
	EXPECT_PANIC(timerq_remove(&q, &timers[1]), "not queued");
	timerq_remove(&q, &timers[0]);
}

/* The model: the earliest queued deadline. */
static uint64_t model_min(void)
{
	uint64_t m = UINT64_MAX;
	for (unsigned i = 0; i < TIMERS; i++)
		if (timers[i].queued && timers[i].deadline < m)
			m = timers[i].deadline;
	return m;
}

static void test_random(void)
{
	struct timerq q;
	timerq_init(&q);
	for (unsigned i = 0; i < TIMERS; i++)
		timers[i] = (struct timer){0};
	srand(777);
	uint64_t now = 0;
	unsigned in = 0;
	for (unsigned step = 0; step < 300000; step++) {
		struct timer *t = &timers[rand() % TIMERS];
		int op = rand() % 5;
		if (op <= 1 && !t->queued) {
			t->deadline = now + (uint64_t)(rand() % 1000); /* duplicates happen */
			timerq_insert(&q, t);
			in++;
		} else if (op == 2 && t->queued) {
			timerq_remove(&q, t);
			in--;
		} else if (op == 3) {
			now += (uint64_t)(rand() % 50);
			uint64_t want = model_min();
			struct timer *p = timerq_pop_due(&q, now);
			CHECK_MSG(want <= now ? p && p->deadline == want : p == NULL,
			          "step %u: pop_due(%lu) disagrees with the model", step,
			          (unsigned long)now);
			in -= p != NULL;
		} else {
			CHECK(timerq_next(&q) == model_min());
		}
		CHECK(q.count == in);
		if (step % 997 == 0)
			check_heap(&q);
		if (check_failures > 10)
			return;
	}
	check_heap(&q);
}

/* Many inserts, then pops: the sibling list is long (the merge must not recurse). */
static void test_long_list(void)
{
	enum { N = 100000 };
	struct timer *many = calloc(N, sizeof(*many));
	struct timerq q;
	timerq_init(&q);
	for (unsigned i = 0; i < N; i++) {
		many[i].deadline = (uint64_t)((i * 7919u) % N);
		timerq_insert(&q, &many[i]);
	}
	uint64_t last = 0;
	for (unsigned i = 0; i < N; i++) {
		struct timer *t = timerq_pop_due(&q, UINT64_MAX);
		CHECK(t && t->deadline >= last);
		last = t ? t->deadline : last;
	}
	CHECK(q.count == 0 && q.root == NULL);
	free(many);
}

int main(void)
{
	test_basic();
	test_misuse();
	test_random();
	test_long_list();
	return check_report("timerq");
}
