/*
 * The transmit backlog (net/txq.c): frames lwIP handed to linkoutput wait
 * here, in order and already referenced, while the device's ring is full,
 * and go first once completions free room. Pure bookkeeping over opaque
 * tokens, so host tests reach every case (tests/host/test_txq.c); netif.c
 * owns what a token means and how it is sent or released.
 */
#ifndef NOOS_NET_TXQ_H
#define NOOS_NET_TXQ_H

#include <stdbool.h>
#include <stdint.h>

/*
 * New frames are refused (ERR_MEM to lwIP) once NET_TXQ_LIMIT wait. The
 * bound is in frames: a frame is one lwIP pbuf chain or one merged TCP run
 * (at most 64 KiB), so at most ~4 MiB of lwIP's memory is pinned by a
 * stuck device, and 64 waiting frames already cover a full TCP window of
 * single segments while a slow device catches up. Frames lwIP was already
 * told ERR_OK for (a held TCP run flushed late) are never refused: a frame
 * accepted below the limit can flush the held run before it, in the worst
 * case segment by segment (at most 44, TSO_SEGS in netif_priv.h), and start a
 * new run of one that net_netif_flush adds later; NET_TXQ_SLACK slots
 * above the limit take them (pointers only: the bound on memory stays the
 * limit's, give or take one run).
 */
#define NET_TXQ_LIMIT 64
#define NET_TXQ_SLACK 48
#define NET_TXQ_SLOTS (NET_TXQ_LIMIT + NET_TXQ_SLACK)

struct net_txq {
	void *slot[NET_TXQ_SLOTS];
	unsigned head, count;
	uint64_t waited;  /* frames that went through the backlog */
	uint64_t refused; /* frames refused because it was full */
	unsigned high;    /* the most that ever waited at once */
};

/* Sends token to the device: 0 sent (or consumed), -ENOSPC no room (kept). */
typedef int (*net_txq_send_fn)(void *ctx, void *token);
typedef void (*net_txq_release_fn)(void *ctx, void *token);

static inline bool net_txq_empty(const struct net_txq *q)
{
	return q->count == 0;
}

/* Whether the backlog is at its limit. */
static inline bool net_txq_full(const struct net_txq *q)
{
	return q->count >= NET_TXQ_LIMIT;
}

/* Whether a new frame must be refused (counted). */
bool net_txq_refuse(struct net_txq *q);

/* token waits behind the others: 0, or -ENOSPC when even the slack is used up. */
int net_txq_push(struct net_txq *q, void *token);

/*
 * The waiting frames to send, oldest first, until send says -ENOSPC (that
 * one stays first). Returns how many went.
 */
unsigned net_txq_drain(struct net_txq *q, net_txq_send_fn send, void *ctx);

/* Every waiting frame to release (device reset, carrier loss). Returns how many. */
unsigned net_txq_release(struct net_txq *q, net_txq_release_fn release, void *ctx);

#endif
