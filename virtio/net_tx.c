/*
 * virtio-net transmitting (virtio 1.2 §5.1.6.2): each frame gets a context
 * from a free list (the header the device reads first, and the client's
 * token); the frame's own pieces follow it in the same chain or indirect
 * table, so nothing is copied. Completions are reaped by whoever calls
 * vnet_transmit or vnet_reap_tx, serialised by the caller: there is no
 * transmit lock to queue on. A used-buffer interrupt, delayed until most of
 * what is outstanding has gone (§2.7.10 with EVENT_IDX), makes sure frames
 * still held (lwIP does not retransmit a segment the driver still
 * references) are given back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "noos.h"
#include "rt.h"
#include "net_reg.h"
#include "virtio.h"
#include "net_dev.h"

static void tx_reap_all(struct vnet *n)
{
	uint32_t len;
	struct tx_ctx *c;
	while ((c = virtq_get(n->txq, &len)) != NULL) {
		void *token = c->token;
		c->next = n->tx_free;
		n->tx_free = (uint16_t)(c - n->tx);
		n->client->sent(n->ctx, token);
	}
}

/* Interrupt once most outstanding frames are done, so none stays referenced for long. */
static void tx_arm(struct vnet *n)
{
	while (n->txq->outstanding) {
		if (virtq_enable_cb_delayed(n->txq))
			return;
		tx_reap_all(n);
	}
	virtq_disable_cb(n->txq);
}

void vnet_reap_tx(struct vnet *n)
{
	if (!n->live || !n->client)
		return;
	tx_reap_all(n);
	tx_arm(n);
}

/*
 * §5.1.6.2.1: a frame for the device to segment has a type it negotiated,
 * a partial checksum inside the headers it repeats, and a gso_size.
 */
static bool gso_ok(const struct vnet *n, const struct vnet_tx *tx)
{
	bool type = (tx->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && n->tso4) ||
	            (tx->gso_type == VIRTIO_NET_HDR_GSO_TCPV6 && n->tso6);
	return type && tx->csum_start != VNET_NO_CSUM && tx->gso_size &&
	       tx->hdr_len > tx->csum_start;
}

/* The frame's size and checksum request make sense; its byte count in *total. */
static int tx_check(const struct vnet *n, const struct vnet_tx *tx, uint32_t *total)
{
	if (!tx || !tx->sg || tx->nsg == 0 || !tx->token)
		return -EINVAL;
	bool gso = tx->gso_type != VIRTIO_NET_HDR_GSO_NONE;
	if ((gso && !gso_ok(n, tx)) || tx->nsg > (gso ? VNET_TSO_MAX_SG : VNET_TX_MAX_SG))
		return -EINVAL;
	uint64_t sum = 0;
	for (unsigned i = 0; i < tx->nsg; i++)
		sum += tx->sg[i].len;
	if (sum < ETH_HDR_LEN || sum > (gso ? ETH_HDR_LEN + 65535u : ETH_FRAME_MAX))
		return -EMSGSIZE;
	if (tx->csum_start != VNET_NO_CSUM &&
	    (!n->csum || tx->csum_start < ETH_HDR_LEN ||
	     (uint32_t)tx->csum_start + tx->csum_offset + 2 > sum))
		return -EINVAL;
	*total = (uint32_t)sum;
	return 0;
}

static int tx_add(struct vnet *n, struct tx_ctx *c, const struct vnet_tx *tx)
{
	struct virtq_sg sg[VNET_TSO_MAX_SG + 1];
	sg[0] = (struct virtq_sg){&c->hdr, n->hcfg.hdr_len};
	memcpy(&sg[1], tx->sg, tx->nsg * sizeof(sg[0]));
	int err = virtq_add(n->txq, sg, tx->nsg + 1, 0, c);
	if (err == -ENOSPC) {
		tx_reap_all(n);
		err = virtq_add(n->txq, sg, tx->nsg + 1, 0, c);
	}
	return err;
}

int vnet_transmit(struct vnet *n, const struct vnet_tx *tx)
{
	uint32_t total;
	int err = tx_check(n, tx, &total);
	if (err) {
		n->stats.tx_bad++;
		return err;
	}
	if (!n->live || !n->client)
		return -EIO;
	if (n->tx_free == TX_NONE)
		tx_reap_all(n);
	if (n->tx_free == TX_NONE) {
		n->stats.tx_ring_full++;
		return -ENOSPC;
	}
	struct tx_ctx *c = &n->tx[n->tx_free];
	n->tx_free = c->next;
	vnet_tx_hdr(&c->hdr, tx->csum_start, tx->csum_offset);
	if (tx->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		c->hdr.gso_type = tx->gso_type;
		c->hdr.gso_size = tx->gso_size;
		c->hdr.hdr_len = tx->hdr_len;
		n->stats.tx_gso++;
	}
	c->token = tx->token;
	err = tx_add(n, c, tx);
	if (err) {
		c->next = n->tx_free;
		n->tx_free = (uint16_t)(c - n->tx);
		n->stats.tx_ring_full += err == -ENOSPC;
		return err == -ENOSPC ? err : -EIO;
	}
	n->stats.tx_frames++;
	n->stats.tx_bytes += total;
	n->stats.tx_csum_offloaded += tx->csum_start != VNET_NO_CSUM;
	virtq_kick(n->txq);
	tx_arm(n);
	return 0;
}

int vnet_tx_alloc(struct vnet *n)
{
	uint16_t count = n->txq->size;
	if (n->tx) {
		if (n->tx_count == count)
			return 0; /* a reset: reclaim put every context back */
		free(n->tx);
	}
	n->tx = calloc(count, sizeof(*n->tx));
	if (!n->tx)
		return -ENOMEM;
	n->tx_count = count;
	for (uint16_t i = 0; i < count; i++)
		n->tx[i].next = (uint16_t)(i + 1 < count ? i + 1 : TX_NONE);
	n->tx_free = 0;
	return 0;
}

/* The device was reset: the frames it held count as sent. */
void vnet_tx_reclaim(struct vnet *n)
{
	struct tx_ctx *c;
	while ((c = virtq_detach(n->txq)) != NULL) {
		c->next = n->tx_free;
		n->tx_free = (uint16_t)(c - n->tx);
		if (n->client)
			n->client->sent(n->ctx, c->token);
	}
}
