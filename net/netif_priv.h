/*
 * What the virtio-net netif (net/netif.c) and its transmit half
 * (net/netif_tx.c) share: one device's netif state, and the calls
 * between them. Private to those two files.
 */
#ifndef NOOS_NET_NETIF_PRIV_H
#define NOOS_NET_NETIF_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"

#include "noos.h"
#include "tso.h"
#include "txq.h"

#define TSO_SEGS 44 /* segments per run: 64 KiB of 1460-byte ones */

/* A run of segments held for one frame, then the device's until it is done (a token). */
struct tso_bundle {
	struct net_tso_run run;
	struct pbuf *p[TSO_SEGS];
	struct tso_bundle *next; /* the free list */
};

struct nif {
	struct netif netif; /* first: lwIP hands it back as the netif */
	struct vnet *vn;
	noos_sem_t wake;                /* posted by interrupts, buffer returns and link changes */
	bool offload;                   /* the device completes TCP checksums */
	bool tso4, tso6;                /* and segments TCP over IPv4, IPv6 */
	struct tso_bundle *run, *spare; /* the run being held (core lock); free bundles */
	struct net_txq txq;             /* frames waiting for room in the ring (core lock) */
	bool refused;    /* lwIP heard ERR_MEM: have TCP try again once there is room */
	uint64_t resets; /* the device's resets when the backlog was last released */
	bool carrier;    /* the device's link status (core lock); lwIP's follows it at link up */
	bool renewing;   /* DHCP asked for the lease again after a flap, not answered yet */
	uint64_t last_housekeep;
	/* counters, written under the core lock */
	uint64_t rx_zero_copy, rx_copied, rx_nomem;
	uint64_t tx_zero_copy, tx_copied, tx_dropped, tx_no_carrier;
	uint64_t tso_frames, tso_segments, tso_unmerged;
};

/* net/netif_tx.c, all with lwIP's core lock held. */
void nif_sent(void *ctx, void *token);                 /* the driver is done with a frame */
err_t nif_output(struct netif *netif, struct pbuf *p); /* linkoutput */
void nif_tx_flush(struct nif *nf);                     /* the held TCP run goes (or waits merged) */
void nif_tx_pump(struct nif *nf);        /* waiting frames go while the ring has room */
void nif_tx_resume(struct nif *nf);      /* service thread: refused TCP segments go again */
void nif_tx_release(struct nif *nf);     /* carrier lost, device failed: waiting frames freed */
void nif_tx_reset_check(struct nif *nf); /* and after a device reset */

#endif
