/*
 * net/txq.c: the transmit backlog against a fake ring that takes `room`
 * frames and then says -ENOSPC, the way vnet_transmit does when every
 * descriptor is the device's. Full ring, partial drains, order, the bound
 * and its slack, failed sends, and release on reset.
 */
#include <errno.h>
#include <stdint.h>

#include "check.h"
#include "txq.h"

/* The fake ring: how many more frames fit, what went in order, what failed. */
struct ring {
	unsigned room;
	uintptr_t sent[256];
	unsigned nsent;
	uintptr_t fail; /* this token's send fails with -EIO (consumed) */
	uintptr_t released[256];
	unsigned nreleased;
};

static int ring_send(void *ctx, void *token)
{
	struct ring *r = ctx;
	if ((uintptr_t)token == r->fail)
		return -EIO;
	if (r->room == 0)
		return -ENOSPC;
	r->room--;
	r->sent[r->nsent++] = (uintptr_t)token;
	return 0;
}

static void ring_release(void *ctx, void *token)
{
	struct ring *r = ctx;
	r->released[r->nreleased++] = (uintptr_t)token;
}

static void *tok(unsigned i)
{
	return (void *)(uintptr_t)(i * 2 + 2); /* even, never NULL: like a pbuf */
}

/* Frames wait while the ring is full and go, in order, as room comes back bit by bit. */
static void test_order(void)
{
	struct net_txq q = {0};
	struct ring r = {0};
	CHECK(net_txq_empty(&q));
	CHECK(net_txq_drain(&q, ring_send, &r) == 0);
	for (unsigned i = 0; i < 10; i++)
		CHECK(net_txq_push(&q, tok(i)) == 0);
	CHECK(net_txq_drain(&q, ring_send, &r) == 0); /* ring full: nothing goes, nothing lost */
	CHECK(q.count == 10);
	r.room = 3;
	CHECK(net_txq_drain(&q, ring_send, &r) == 3);
	CHECK(q.count == 7);
	CHECK(net_txq_push(&q, tok(10)) == 0); /* a later frame queues behind */
	r.room = 100;
	CHECK(net_txq_drain(&q, ring_send, &r) == 8);
	CHECK(net_txq_empty(&q));
	CHECK(r.nsent == 11);
	for (unsigned i = 0; i < r.nsent; i++)
		CHECK_MSG(r.sent[i] == (uintptr_t)tok(i), "frame %u out of order", i);
	CHECK(q.waited == 11 && q.high == 10 && q.refused == 0);
}

/* Past the limit new frames are refused and counted; accepted ones still fit the slack. */
static void test_bound(void)
{
	struct net_txq q = {0};
	struct ring r = {0};
	unsigned i = 0;
	for (; !net_txq_refuse(&q); i++)
		CHECK(net_txq_push(&q, tok(i)) == 0);
	CHECK(i == NET_TXQ_LIMIT && net_txq_full(&q));
	CHECK(q.refused == 1);
	CHECK(net_txq_refuse(&q) && q.refused == 2);
	for (; i < NET_TXQ_SLOTS; i++)
		CHECK(net_txq_push(&q, tok(i)) == 0); /* runs lwIP already had ERR_OK for */
	CHECK(net_txq_push(&q, tok(i)) == -ENOSPC);
	CHECK(q.count == NET_TXQ_SLOTS && q.high == NET_TXQ_SLOTS);
	/* Drained below the limit across the ring array's end: order holds. */
	r.room = NET_TXQ_SLACK + 1;
	net_txq_drain(&q, ring_send, &r);
	CHECK(!net_txq_full(&q) && !net_txq_refuse(&q));
	for (unsigned k = 0; k < NET_TXQ_SLACK + 1; k++)
		CHECK(net_txq_push(&q, tok(i + k)) == 0);
	r.room = 1000;
	net_txq_drain(&q, ring_send, &r);
	CHECK(net_txq_empty(&q) && r.nsent == NET_TXQ_SLOTS + NET_TXQ_SLACK + 1);
	for (unsigned k = 0; k < r.nsent; k++)
		CHECK_MSG(r.sent[k] == (uintptr_t)tok(k), "frame %u out of order", k);
}

/* A send that fails otherwise (device failed) consumes the frame: the next goes on. */
static void test_failed_send(void)
{
	struct net_txq q = {0};
	struct ring r = {.room = 10, .fail = (uintptr_t)tok(1)};
	for (unsigned i = 0; i < 3; i++)
		net_txq_push(&q, tok(i));
	CHECK(net_txq_drain(&q, ring_send, &r) == 3);
	CHECK(net_txq_empty(&q) && r.nsent == 2 && r.sent[1] == (uintptr_t)tok(2));
}

/* A reset releases every waiting frame once, oldest first, and the backlog starts over. */
static void test_release(void)
{
	struct net_txq q = {0};
	struct ring r = {0};
	for (unsigned i = 0; i < 30; i++)
		net_txq_push(&q, tok(i));
	r.room = 25;
	net_txq_drain(&q, ring_send, &r); /* the head moved: release wraps from there */
	for (unsigned i = 30; i < 60; i++)
		net_txq_push(&q, tok(i));
	CHECK(net_txq_release(&q, ring_release, &r) == 35);
	CHECK(net_txq_empty(&q) && r.nreleased == 35);
	for (unsigned i = 0; i < r.nreleased; i++)
		CHECK(r.released[i] == (uintptr_t)tok(25 + i));
	CHECK(net_txq_release(&q, ring_release, &r) == 0);
	CHECK(net_txq_push(&q, tok(99)) == 0);
	r.room = 1;
	CHECK(net_txq_drain(&q, ring_send, &r) == 1 && r.sent[25] == (uintptr_t)tok(99));
}

int main(void)
{
	test_order();
	test_bound();
	test_failed_send();
	test_release();
	return check_report("txq");
}
