/* The transmit backlog: a bounded FIFO of tokens (net/txq.h says why). */
#include "txq.h"

#include <errno.h>

bool net_txq_refuse(struct net_txq *q)
{
	if (!net_txq_full(q))
		return false;
	q->refused++;
	return true;
}

int net_txq_push(struct net_txq *q, void *token)
{
	if (q->count == NET_TXQ_SLOTS)
		return -ENOSPC;
	q->slot[(q->head + q->count) % NET_TXQ_SLOTS] = token;
	q->count++;
	q->waited++;
	if (q->count > q->high)
		q->high = q->count;
	return 0;
}

static void *pop(struct net_txq *q)
{
	void *t = q->slot[q->head];
	q->head = (q->head + 1) % NET_TXQ_SLOTS;
	q->count--;
	return t;
}

unsigned net_txq_drain(struct net_txq *q, net_txq_send_fn send, void *ctx)
{
	unsigned sent = 0;
	while (q->count && send(ctx, q->slot[q->head]) != -ENOSPC) {
		pop(q);
		sent++;
	}
	return sent;
}

unsigned net_txq_release(struct net_txq *q, net_txq_release_fn release, void *ctx)
{
	unsigned n = 0;
	for (; q->count; n++)
		release(ctx, pop(q));
	q->head = 0;
	return n;
}
