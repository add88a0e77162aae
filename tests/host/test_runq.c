/*
 * rt/runq.c: priority order, FIFO within a priority, front insertion,
 * removal from anywhere, the filtered take that stealing uses, and a long
 * random run against a simple model; misuse panics.
 */
#include <stdlib.h>

#include "check.h"
#include "panic_catch.h"
#include "rt.h"

#define NODES 64

struct item {
	struct runq_node node; /* first: a node pointer is an item pointer */
	unsigned id;
	unsigned long seq; /* model: order of queueing (smaller runs first; front uses negative) */
	long key;
	bool in;
};

static struct item items[NODES];

static struct item *item_of(struct runq_node *n)
{
	return (struct item *)n;
}

/* A fresh queue and no item queued (each test starts from here). */
static void fresh(struct runq *q)
{
	for (unsigned i = 0; i < NODES; i++)
		items[i] = (struct item){.id = i};
	runq_init(q);
}

static void test_order(void)
{
	struct runq q;
	fresh(&q);
	CHECK(runq_top(&q) == -1 && runq_pop(&q) == NULL && runq_count(&q) == 0);
	runq_push(&q, &items[0].node, 5, false);
	runq_push(&q, &items[1].node, 20, false);
	runq_push(&q, &items[2].node, 5, false);
	runq_push(&q, &items[3].node, 20, false);
	runq_push(&q, &items[4].node, 5, true); /* front: before 0 and 2 */
	CHECK(runq_count(&q) == 5 && runq_top(&q) == 20);
	static const unsigned want[] = {1, 3, 4, 0, 2};
	for (unsigned i = 0; i < 5; i++) {
		struct runq_node *n = runq_pop(&q);
		CHECK_MSG(n && item_of(n)->id == want[i], "pop %u gave %u", i,
		          n ? item_of(n)->id : 99);
	}
	CHECK(runq_top(&q) == -1 && runq_count(&q) == 0 && q.bitmap == 0);
}

static void test_remove(void)
{
	struct runq q;
	fresh(&q);
	for (unsigned i = 0; i < 6; i++)
		runq_push(&q, &items[i].node, i % 2 ? 31 : 0, false);
	runq_remove(&q, &items[3].node); /* middle of priority 31 */
	runq_remove(&q, &items[0].node); /* head of priority 0 */
	CHECK(runq_count(&q) == 4 && !items[3].node.queued);
	runq_remove(&q, &items[1].node);
	runq_remove(&q, &items[5].node); /* priority 31 now empty */
	CHECK(runq_top(&q) == 0 && (q.bitmap & (1u << 31)) == 0);
	CHECK(item_of(runq_pop(&q))->id == 2 && item_of(runq_pop(&q))->id == 4);
	CHECK(runq_pop(&q) == NULL);
}

static bool odd_only(const struct runq_node *n, void *ctx)
{
	(void)ctx;
	return ((const struct item *)n)->id % 2 == 1;
}

static void test_take_if(void)
{
	struct runq q;
	fresh(&q);
	runq_push(&q, &items[0].node, 30, false);
	runq_push(&q, &items[2].node, 30, false);
	runq_push(&q, &items[5].node, 10, false);
	runq_push(&q, &items[7].node, 10, false);
	runq_push(&q, &items[9].node, 3, false);
	struct runq_node *n = runq_take_if(&q, odd_only, NULL);
	CHECK(n && item_of(n)->id == 5); /* best priority that passes, oldest first */
	n = runq_take_if(&q, odd_only, NULL);
	CHECK(n && item_of(n)->id == 7);
	n = runq_take_if(&q, odd_only, NULL);
	CHECK(n && item_of(n)->id == 9 && runq_top(&q) == 30 && runq_count(&q) == 2);
	CHECK(runq_take_if(&q, odd_only, NULL) == NULL && runq_count(&q) == 2);
}

static void test_misuse(void)
{
	struct runq q;
	fresh(&q);
	runq_push(&q, &items[0].node, 1, false);
	EXPECT_PANIC(runq_push(&q, &items[0].node, 1, false), "queued already");
	EXPECT_PANIC(runq_remove(&q, &items[1].node), "not queued");
	EXPECT_PANIC(runq_push(&q, &items[1].node, RUNQ_PRIOS, false), "out of range");
	runq_remove(&q, &items[0].node);
}

/* The model's choice: highest priority, then smallest key (queue order). */
static struct item *model_best(void)
{
	struct item *best = NULL;
	for (unsigned i = 0; i < NODES; i++) {
		struct item *it = &items[i];
		if (it->in && (!best || it->node.prio > best->node.prio ||
		               (it->node.prio == best->node.prio && it->key < best->key)))
			best = it;
	}
	return best;
}

static void test_random(void)
{
	struct runq q;
	fresh(&q);
	long back = 0, front = 0;
	unsigned in = 0;
	srand(12345);
	for (unsigned step = 0; step < 200000; step++) {
		struct item *it = &items[rand() % NODES];
		int op = rand() % 4;
		if (!it->in && op < 2) {
			bool at_front = op == 1;
			runq_push(&q, &it->node, (unsigned)(rand() % RUNQ_PRIOS), at_front);
			it->key = at_front ? --front : ++back;
			it->in = true;
			in++;
		} else if (it->in && op == 2) {
			runq_remove(&q, &it->node);
			it->in = false;
			in--;
		} else if (op == 3) {
			struct item *want = model_best();
			struct runq_node *n = runq_pop(&q);
			CHECK_MSG((n == NULL) == (want == NULL) && (!n || item_of(n) == want),
			          "step %u: pop disagrees with the model", step);
			if (n) {
				item_of(n)->in = false;
				in--;
			}
		}
		CHECK_MSG(runq_count(&q) == in, "step %u: count %u, model %u", step, runq_count(&q),
		          in);
		if (check_failures > 10)
			return;
	}
}

int main(void)
{
	test_order();
	test_remove();
	test_take_if();
	test_misuse();
	test_random();
	return check_report("runq");
}
