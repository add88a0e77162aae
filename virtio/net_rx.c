/*
 * virtio-net receiving (virtio 1.2 §5.1.6.3, §5.1.6.4): posting buffers,
 * taking used ones, checking each frame's header and handing the frame to
 * the client.
 *
 * Receive buffers (VNET_RX_BUF_BYTES each, two per page, allocated once per
 * device and kept across device resets) are always in one of three places:
 * posted in the ring, on the lock-free free stack, or held by the client
 * (the lwIP netif keeps them as custom pbufs instead of copying). Used
 * buffers go back on the free stack, and vnet_refill posts the stack in
 * batches with one notification. A client that holds every buffer starves
 * the ring: the device drops frames, and the first buffers given back wake
 * the client's thread to refill, so a starved device recovers by itself.
 *
 * Layout of a receive buffer (bytes):
 *   [0, 64)                     the client's (and the free stack's link while free)
 *   [78 - hdr_len, 78)          struct virtio_net_hdr, 12 or 10 bytes
 *   [78, 2048)                  the Ethernet frame; its IP header starts 4-byte aligned
 * The later buffers of a frame over several (a large TCP segment, with
 * GUEST_TSO4/6 and MRG_RXBUF, §5.1.6.4) hold no header: the frame
 * continues from 78 - hdr_len. Such a frame is gathered in the device's
 * state (its buffers may come over several polls) and handed up whole; a
 * bad buffer of it drops the whole frame, the rest skipped as it comes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "noos.h"
#include "rt.h"
#include "net_reg.h"
#include "virtio.h"
#include "net_dev.h"

/* A large segment's buffers: the first holds the header and less of the frame. */
_Static_assert(1 + (VNET_RX_GSO_MAX - (VNET_RX_BUF_BYTES - VNET_RX_FRAME_OFF) +
                    (VNET_RX_BUF_BYTES - VNET_RX_FRAME_OFF + VIRTIO_NET_HDR_LEN) - 1) /
                           (VNET_RX_BUF_BYTES - VNET_RX_FRAME_OFF + VIRTIO_NET_HDR_LEN) <=
                   VNET_RX_MAX_PIECES,
               "VNET_RX_MAX_PIECES holds the longest large segment");

unsigned vnet_rx_buffers(const struct vnet *n, unsigned *posted, unsigned *free_)
{
	*posted = __atomic_load_n(&n->rx_posted, __ATOMIC_RELAXED);
	*free_ = __atomic_load_n(&n->rx_free_count, __ATOMIC_RELAXED);
	return n->rx_total;
}

static void stack_push(struct vnet *n, void *buf)
{
	void *old = __atomic_load_n(&n->rx_free, __ATOMIC_RELAXED);
	do
		*(void **)buf = old;
	while (!__atomic_compare_exchange_n(&n->rx_free, &old, buf, true, __ATOMIC_RELEASE,
	                                    __ATOMIC_RELAXED));
}

static void free_push(struct vnet *n, void *buf)
{
	stack_push(n, buf);
	__atomic_fetch_add(&n->rx_free_count, 1, __ATOMIC_RELAXED);
}

static void set_posted(struct vnet *n, unsigned v)
{
	__atomic_store_n(&n->rx_posted, v, __ATOMIC_RELAXED);
}

void vnet_rx_release(struct vnet *n, void *buf)
{
	free_push(n, buf);
	/* The ring is running dry and the service thread may be asleep: have it refill. */
	if (__atomic_load_n(&n->rx_posted, __ATOMIC_RELAXED) < n->rx_total / 4 && n->client)
		n->client->wake(n->ctx);
}

static int rx_post(struct vnet *n, uint8_t *buf)
{
	uint32_t hlen = n->hcfg.hdr_len;
	uint8_t *hdr = buf + VNET_RX_FRAME_OFF - hlen;
	uint32_t room = (uint32_t)(buf + VNET_RX_BUF_BYTES - hdr);
	struct virtq_sg sg[2] = {{hdr, hlen}, {hdr + hlen, room - hlen}};
	if (n->split_hdr)
		return virtq_add(n->rxq, sg, 0, 2, buf);
	sg[0].len = room;
	return virtq_add(n->rxq, sg, 0, 1, buf);
}

void vnet_refill(struct vnet *n)
{
	unsigned avail = __atomic_load_n(&n->rx_free_count, __ATOMIC_RELAXED);
	if (!n->live || !n->client || avail == 0)
		return;
	if (avail < RX_REFILL_BATCH && n->rx_posted >= n->rx_total / 2)
		return; /* wait for a batch while the ring has plenty */
	uint8_t *list = __atomic_exchange_n((uint8_t **)&n->rx_free, NULL, __ATOMIC_ACQUIRE);
	unsigned posted = 0;
	while (list) {
		uint8_t *buf = list;
		list = *(uint8_t **)buf;
		if (rx_post(n, buf) == 0)
			posted++;
		else
			stack_push(n, buf); /* ring full (or broken): stays free, still counted */
	}
	__atomic_fetch_sub(&n->rx_free_count, posted, __ATOMIC_RELAXED);
	set_posted(n, n->rx_posted + posted);
	if (posted) {
		n->stats.rx_refills++;
		virtq_kick(n->rxq);
	}
}

/*
 * The buffers still to come of a frame over several (MRG_RXBUF): the
 * device holds at least that many (it cannot have used buffers it was
 * never given), else num_buffers is a lie and nothing is skipped.
 */
static bool rest_held(struct vnet *n, const struct vnet_rx_info *info)
{
	if (info->num_buffers - 1u <= n->rxq->outstanding)
		return true;
	n->stats.rx_bad_header++;
	return false;
}

/* A frame over several buffers that we cannot take: drop the rest of it as it comes. */
static void rx_drop_rest(struct vnet *n, const struct vnet_rx_info *info, unsigned taken)
{
	n->stats.rx_oversized++;
	if (rest_held(n, info))
		n->rx_skip = (uint16_t)(info->num_buffers - taken);
}

static void rx_count_drop(struct vnet *n, enum vnet_rx_verdict v, const struct vnet_rx_info *info)
{
	switch (v) {
	case VNET_RX_TRUNCATED:
		n->stats.rx_truncated++;
		break;
	case VNET_RX_OVERSIZED:
		n->stats.rx_oversized++;
		break;
	case VNET_RX_MULTI:
		rx_drop_rest(n, info, 1);
		break;
	default:
		n->stats.rx_bad_header++;
		break;
	}
}

/* The frame being gathered goes back whole (a bad buffer of it, or a device reset). */
static void rx_open_drop(struct vnet *n)
{
	for (unsigned i = 0; i < n->rx_have; i++)
		free_push(n, n->rx_piece[i].buf);
	n->rx_have = 0;
}

/* Every buffer of a good frame is in: count it and hand it up. */
static void rx_deliver(struct vnet *n)
{
	const struct vnet_rx_info *info = &n->rx_info;
	n->stats.rx_frames++;
	n->stats.rx_bytes += info->frame_len;
	n->stats.rx_csum_completed += info->csum_completed;
	n->stats.rx_csum_unasked += info->csum_unasked;
	n->stats.rx_csum_valid += info->data_valid;
	n->stats.rx_gso += info->gso_type != VIRTIO_NET_HDR_GSO_NONE;
	struct vnet_rx rx = {
	    .buf = n->rx_piece[0].buf,
	    .frame = n->rx_piece[0].data,
	    .len = info->frame_len,
	    .csum_valid = info->csum_valid,
	    .gso = info->gso_type != VIRTIO_NET_HDR_GSO_NONE,
	    .npieces = n->rx_have,
	    .piece = n->rx_piece,
	};
	unsigned count = n->rx_have;
	n->rx_have = 0;
	if (!n->client->receive(n->ctx, &rx))
		for (unsigned i = 0; i < count; i++)
			free_push(n, n->rx_piece[i].buf);
}

/* A later buffer of a large segment: the device wrote it from where a header would go. */
static void rx_continue(struct vnet *n, uint8_t *buf, uint32_t used)
{
	enum vnet_rx_verdict v = vnet_rx_continue(&n->rx_info, used);
	n->rx_piece[n->rx_have++] =
	    (struct vnet_rx_piece){buf, buf + VNET_RX_FRAME_OFF - n->hcfg.hdr_len, used};
	if (v != VNET_RX_OK) {
		unsigned taken = n->rx_have;
		rx_open_drop(n);
		rx_count_drop(n, v, &n->rx_info); /* TRUNCATED or OVERSIZED: counted */
		n->rx_skip = (uint16_t)(n->rx_info.num_buffers - taken); /* held: rx_first saw */
		return;
	}
	if (n->rx_have == n->rx_info.num_buffers)
		rx_deliver(n);
}

/* The first buffer of a frame: checked, then handed up or, for a large segment, kept open. */
static void rx_first(struct vnet *n, uint8_t *buf, uint32_t used)
{
	struct vnet_rx_info *info = &n->rx_info;
	enum vnet_rx_verdict v =
	    vnet_rx_check(&n->hcfg, buf + VNET_RX_FRAME_OFF - n->hcfg.hdr_len, used, info);
	if (v == VNET_RX_OK && info->num_buffers > VNET_RX_MAX_PIECES)
		v = VNET_RX_MULTI; /* more than the longest segment takes: dropped whole */
	if (v == VNET_RX_OK && !rest_held(n, info))
		v = VNET_RX_BAD_HEADER; /* counted */
	else if (v != VNET_RX_OK)
		rx_count_drop(n, v, info);
	if (v != VNET_RX_OK) {
		free_push(n, buf);
		return;
	}
	n->rx_piece[0] = (struct vnet_rx_piece){buf, buf + VNET_RX_FRAME_OFF, info->frame_len};
	n->rx_have = 1;
	if (info->num_buffers == 1)
		rx_deliver(n);
}

/* One used buffer: dropped as the rest of a bad frame, continuing a frame, or a new one. */
static void rx_buffer(struct vnet *n, uint8_t *buf, uint32_t used)
{
	if (n->rx_skip) {
		n->rx_skip--;
		free_push(n, buf);
	} else if (n->rx_have) {
		rx_continue(n, buf, used);
	} else {
		rx_first(n, buf, used);
	}
}

int vnet_poll_rx(struct vnet *n, int budget)
{
	if (!n->live || !n->client)
		return 0;
	virtq_disable_cb(n->rxq); /* polling now: no interrupts until vnet_rx_arm */
	if (n->rx_posted == 0)
		n->stats.rx_starved++;
	int done = 0;
	uint32_t len;
	uint8_t *buf;
	while (done < budget && (buf = virtq_get(n->rxq, &len)) != NULL) {
		set_posted(n, n->rx_posted - 1);
		done++;
		rx_buffer(n, buf, len);
	}
	vnet_refill(n);
	return done;
}

bool vnet_rx_arm(struct vnet *n)
{
	if (!n->live)
		return true; /* nothing will arrive: nothing to poll */
	return virtq_enable_cb(n->rxq);
}

/* Receive buffers: allocated at the first probe, kept for the device's lifetime. */
int vnet_rx_alloc(struct vnet *n, unsigned want)
{
	unsigned pages = (want + BUFS_PER_PAGE - 1) / BUFS_PER_PAGE;
	n->rx_pages = calloc(pages, sizeof(*n->rx_pages));
	if (!n->rx_pages)
		return -ENOMEM;
	for (unsigned i = 0; i < pages; i++) {
		uint8_t *page = page_alloc(0);
		if (!page)
			break;
		n->rx_pages[n->rx_npages++] = page;
		for (unsigned b = 0; b < BUFS_PER_PAGE; b++)
			free_push(n, page + b * VNET_RX_BUF_BYTES);
	}
	n->rx_total = n->rx_npages * BUFS_PER_PAGE;
	return n->rx_total ? 0 : -ENOMEM;
}

/* Buffers the receive ring can hold at once. */
unsigned vnet_rx_capacity(const struct vnet *n)
{
	bool two = n->split_hdr && !n->rxq->indirect;
	unsigned cap = two ? n->rxq->size / 2u : n->rxq->size;
	return cap < RX_BUFS_MAX ? cap : RX_BUFS_MAX;
}

/* The device was reset: the buffers it held are free again. */
void vnet_rx_reclaim(struct vnet *n)
{
	void *t;
	while ((t = virtq_detach(n->rxq)) != NULL)
		free_push(n, t);
	set_posted(n, 0);
	rx_open_drop(n); /* its other buffers will never come */
	n->rx_skip = 0;
}
