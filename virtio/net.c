/*
 * virtio-net (virtio 1.2 §5.1): one receive queue, one transmit queue and,
 * when offered, the control queue; MAC from the configuration space or a
 * random locally administered one; link status with configuration-change
 * interrupts; mergeable receive buffers when offered (and plain ones when
 * not: Firecracker offers none); checksum offload both ways.
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
 *
 * Transmit: each frame gets a context from a free list (the header the
 * device reads first, and the client's token); the frame's own pieces
 * follow it in the same chain or indirect table, so nothing is copied.
 * Completions are reaped by whoever calls vnet_transmit or vnet_reap_tx,
 * serialised by the caller: there is no transmit lock to queue on. A
 * used-buffer interrupt, delayed until most of what is outstanding has
 * gone (§2.7.10 with EVENT_IDX), makes sure frames still held (lwIP does
 * not retransmit a segment the driver still references) are given back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noos.h"
#include "rt.h"
#include "net_reg.h"
#include "virtio.h"

#define RX_QUEUE_WANT   256 /* descriptors asked for; QEMU offers 256 */
#define TX_QUEUE_WANT   256
#define CTL_QUEUE_WANT  8
#define RX_BUFS_MAX     256
#define RX_REFILL_BATCH 16 /* free buffers that make a refill worth a kick */
#define BUFS_PER_PAGE   (PAGE_SIZE / VNET_RX_BUF_BYTES)
#define TX_NONE         0xffff
#define CTL_TIMEOUT_NS  200000000ull /* a control command the device never answers */

#define F(bit) (1ull << (bit))

struct tx_ctx {
	struct virtio_net_hdr hdr; /* device-readable: the first piece of the frame */
	uint16_t next;             /* free list link */
	void *token;               /* the client's */
};

struct ctl_cmd {
	struct virtio_net_ctrl_hdr hdr; /* device-readable */
	uint8_t ack;                    /* device-writable */
};

struct vnet {
	struct virtio_device *dev;
	struct vnet_hdr_cfg hcfg;
	uint8_t mac[ETH_ADDR_LEN];
	bool csum, status, announce; /* CSUM, STATUS, GUEST_ANNOUNCE (with CTRL_VQ) negotiated */
	bool tso4, tso6;             /* HOST_TSO4, HOST_TSO6 (with CSUM) negotiated */
	bool split_hdr; /* legacy device: the header in a descriptor of its own (§2.7.4.1) */
	bool irq;       /* interrupts routed: the client is woken */
	bool live;      /* probe set the queues up; remove, or giving up, ends it */
	bool ctl_stuck; /* a control command was never answered: no more are sent */
	struct virtq *rxq, *txq, *ctlq;
	const struct vnet_client *client; /* set once by vnet_attach */
	void *ctx;
	/* Receive buffers. rx_posted: written by the service thread, read anywhere. */
	uint8_t **rx_pages;
	unsigned rx_npages, rx_total, rx_posted;
	void *rx_free;          /* lock-free stack, linked through each buffer's first word */
	unsigned rx_free_count; /* atomic; may lag the stack by the buffers in flight */
	uint16_t rx_skip;       /* buffers still to drop of a frame spread over several */
	/* Transmit contexts (caller-serialised, see virtio.h). */
	struct tx_ctx *tx;
	uint16_t tx_count, tx_free;
	struct ctl_cmd *ctl;
	bool config_event; /* atomic: set by the configuration interrupt */
	struct vnet_stats stats;
};

static struct vnet *vnets[VNET_MAX_DEVICES];
static unsigned vnet_total;

unsigned vnet_count(void)
{
	return vnet_total;
}

struct vnet *vnet_at(unsigned i)
{
	return i < vnet_total ? vnets[i] : NULL;
}

const char *vnet_name(const struct vnet *n)
{
	return n->dev->name;
}

void vnet_mac(const struct vnet *n, uint8_t mac[6])
{
	memcpy(mac, n->mac, ETH_ADDR_LEN);
}

bool vnet_tx_csum(const struct vnet *n)
{
	return n->csum;
}

void vnet_tx_tso(const struct vnet *n, bool *v4, bool *v6)
{
	*v4 = n->tso4;
	*v6 = n->tso6;
}

bool vnet_interrupts(const struct vnet *n)
{
	return n->irq;
}

const struct vnet_stats *vnet_stats(const struct vnet *n)
{
	return &n->stats;
}

unsigned vnet_rx_buffers(const struct vnet *n, unsigned *posted, unsigned *free_)
{
	*posted = __atomic_load_n(&n->rx_posted, __ATOMIC_RELAXED);
	*free_ = __atomic_load_n(&n->rx_free_count, __ATOMIC_RELAXED);
	return n->rx_total;
}

/* ---- the free stack of receive buffers ---- */

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

/* ---- receiving ---- */

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

/* A frame over several buffers (only with MRG_RXBUF): drop the rest of it as it comes. */
static void rx_drop_multi(struct vnet *n, const struct vnet_rx_info *info)
{
	unsigned rest = info->num_buffers - 1u;
	if (rest > n->rxq->outstanding) {
		n->stats.rx_bad_header++; /* more buffers than the device holds */
		return;
	}
	n->stats.rx_oversized++;
	n->rx_skip = (uint16_t)rest;
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
		rx_drop_multi(n, info);
		break;
	default:
		n->stats.rx_bad_header++;
		break;
	}
}

static void rx_buffer(struct vnet *n, uint8_t *buf, uint32_t used)
{
	if (n->rx_skip) {
		n->rx_skip--;
		free_push(n, buf);
		return;
	}
	struct vnet_rx_info info;
	enum vnet_rx_verdict v =
	    vnet_rx_check(&n->hcfg, buf + VNET_RX_FRAME_OFF - n->hcfg.hdr_len, used, &info);
	if (v != VNET_RX_OK) {
		rx_count_drop(n, v, &info);
		free_push(n, buf);
		return;
	}
	n->stats.rx_frames++;
	n->stats.rx_bytes += info.frame_len;
	n->stats.rx_csum_completed += info.csum_completed;
	n->stats.rx_csum_unasked += info.csum_unasked;
	n->stats.rx_csum_valid += info.data_valid;
	struct vnet_rx rx = {
	    .buf = buf,
	    .frame = buf + VNET_RX_FRAME_OFF,
	    .len = info.frame_len,
	    .csum_valid = info.csum_valid,
	};
	if (!n->client->receive(n->ctx, &rx))
		free_push(n, buf);
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

/* ---- transmitting ---- */

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

/* ---- configuration: link status and announcements (§5.1.4, §5.1.6.5.4) ---- */

static uint16_t config_status(struct vnet *n)
{
	uint16_t st = 0;
	if (virtio_config_read(n->dev, VIRTIO_NET_CFG_STATUS, &st, sizeof(st)) != 0)
		return VIRTIO_NET_S_LINK_UP; /* unreadable: keep what works rather than go down */
	return st;
}

bool vnet_link_up(struct vnet *n)
{
	if (!n->status)
		return true; /* §5.1.4.2: without VIRTIO_NET_F_STATUS the link is assumed up */
	return config_status(n) & VIRTIO_NET_S_LINK_UP;
}

bool vnet_config_event(struct vnet *n)
{
	return __atomic_exchange_n(&n->config_event, false, __ATOMIC_ACQ_REL);
}

bool vnet_announce_wanted(struct vnet *n)
{
	return n->announce && n->live && (config_status(n) & VIRTIO_NET_S_ANNOUNCE);
}

static int ctl_wait(struct vnet *n)
{
	uint64_t deadline = arch_time_ns() + CTL_TIMEOUT_NS;
	uint32_t len;
	while (!virtq_get(n->ctlq, &len)) {
		if (n->ctlq->broken)
			return -EIO;
		if (arch_time_ns() > deadline) {
			n->ctl_stuck = true; /* still outstanding: the command buffer stays its */
			printf("%s: control command not answered, control queue abandoned\n",
			       n->dev->name);
			return -ETIMEDOUT;
		}
	}
	return n->ctl->ack == VIRTIO_NET_OK ? 0 : -EIO;
}

/* §5.1.6.5: class and command out, the ack byte in; answered synchronously by QEMU. */
static int ctl_send(struct vnet *n, uint8_t class, uint8_t command)
{
	if (!n->ctlq || !n->live || n->ctl_stuck)
		return -ENOTSUP;
	n->ctl->hdr = (struct virtio_net_ctrl_hdr){class, command};
	n->ctl->ack = 0xff;
	struct virtq_sg sg[2] = {{&n->ctl->hdr, sizeof(n->ctl->hdr)}, {&n->ctl->ack, 1}};
	int err = virtq_add(n->ctlq, sg, 1, 1, n->ctl);
	if (err)
		return err;
	virtq_kick(n->ctlq);
	return ctl_wait(n);
}

int vnet_announce_done(struct vnet *n)
{
	n->stats.announces++;
	return ctl_send(n, VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK);
}

void virtio_net_config_changed(struct virtio_device *dev)
{
	struct vnet *n = dev->driver_data;
	if (!n)
		return;
	__atomic_store_n(&n->config_event, true, __ATOMIC_RELEASE);
	n->stats.link_changes++;
	if (n->client)
		n->client->wake(n->ctx);
}

/* ---- attaching, device life cycle ---- */

static void vq_wake(struct virtq *vq)
{
	struct vnet *n = vq->priv;
	if (n->client)
		n->client->wake(n->ctx);
}

/* Posting and arming, once both the client and the queues are there. */
static void start_io(struct vnet *n)
{
	vnet_refill(n);
	if (!virtq_enable_cb(n->rxq))
		n->client->wake(n->ctx);
	tx_arm(n);
}

int vnet_attach(struct vnet *n, const struct vnet_client *c, void *ctx)
{
	if (!c || !c->wake || !c->receive || !c->sent)
		return -EINVAL;
	if (n->client)
		return -EBUSY;
	n->ctx = ctx;
	__atomic_store_n(&n->client, c, __ATOMIC_RELEASE);
	if (!n->live)
		return -EIO;
	start_io(n);
	return 0;
}

/* The device was reset: everything it held comes back (buffers free, frames sent). */
static void reclaim(struct vnet *n)
{
	void *t;
	n->live = false;
	while ((t = virtq_detach(n->rxq)) != NULL)
		free_push(n, t);
	set_posted(n, 0);
	n->rx_skip = 0;
	struct tx_ctx *c;
	while ((c = virtq_detach(n->txq)) != NULL) {
		c->next = n->tx_free;
		n->tx_free = (uint16_t)(c - n->tx);
		if (n->client)
			n->client->sent(n->ctx, c->token);
	}
	if (n->ctlq && virtq_detach(n->ctlq))
		n->ctl_stuck = false; /* the device is reset: it no longer owes an answer */
}

void virtio_net_remove(struct virtio_device *dev)
{
	struct vnet *n = dev->driver_data;
	if (!n)
		return;
	reclaim(n);
	dev->driver_data = NULL;
}

int vnet_check(struct vnet *n)
{
	struct virtio_device *dev = n->dev;
	if (dev->broken && n->live) {
		/* Given up on (it misbehaved): stop it, so what it held can be given back. */
		if (dev->ops->reset(dev) < 0)
			dev->bad_responses++;
		reclaim(n);
	}
	if (dev->broken)
		return -EIO;
	int err = virtio_device_check(dev);
	if (dev->resets != n->stats.resets)
		n->stats.resets = dev->resets;
	return err;
}

/* Receive buffers: allocated at the first probe, kept for the device's lifetime. */
static int rx_alloc(struct vnet *n, unsigned want)
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

static int tx_alloc(struct vnet *n)
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

/* §5.1.2: receiveq1 (0), transmitq1 (1), controlq (2 without MQ). */
static int queues_setup(struct vnet *n)
{
	struct virtio_device *dev = n->dev;
	/* Transmit chains are header + pieces; receive chains on legacy devices two. */
	int err = virtio_queue_setup(dev, VIRTIO_NET_RXQ, RX_QUEUE_WANT, 2, &n->rxq);
	uint16_t tx_max = (n->tso4 || n->tso6 ? VNET_TSO_MAX_SG : VNET_TX_MAX_SG) + 1;
	if (!err)
		err = virtio_queue_setup(dev, VIRTIO_NET_TXQ, TX_QUEUE_WANT, tx_max, &n->txq);
	if (!err && virtio_has_feature(dev, VIRTIO_NET_F_CTRL_VQ))
		err = virtio_queue_setup(dev, VIRTIO_NET_CTLQ, CTL_QUEUE_WANT, 0, &n->ctlq);
	if (err)
		return err;
	n->rxq->priv = n->txq->priv = n;
	n->rxq->callback = n->txq->callback = vq_wake;
	virtq_disable_cb(n->rxq);
	virtq_disable_cb(n->txq);
	if (n->ctlq)
		virtq_disable_cb(n->ctlq); /* answers are polled for */
	return 0;
}

/* Buffers the receive ring can hold at once. */
static unsigned rx_capacity(const struct vnet *n)
{
	bool two = n->split_hdr && !n->rxq->indirect;
	unsigned cap = two ? n->rxq->size / 2u : n->rxq->size;
	return cap < RX_BUFS_MAX ? cap : RX_BUFS_MAX;
}

/* A station's own address: not a group (multicast) address, not all zeros (IEEE 802, 8.2). */
static bool mac_unicast(const uint8_t *m)
{
	return !(m[0] & 1) && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) != 0;
}

/*
 * §5.1.4.2: the MAC from the configuration, else a random locally
 * administered unicast one. A configured address that no station may use
 * (a device's mistake) is reported and replaced: sent as a source it would
 * be dropped by every peer, and frames for it would never be ours alone.
 */
static void mac_setup(struct vnet *n)
{
	if (virtio_has_feature(n->dev, VIRTIO_NET_F_MAC) &&
	    virtio_config_read(n->dev, VIRTIO_NET_CFG_MAC, n->mac, ETH_ADDR_LEN) == 0) {
		const uint8_t *m = n->mac;
		if (mac_unicast(m))
			return;
		printf("%s: the device's MAC %02x:%02x:%02x:%02x:%02x:%02x is not a unicast "
		       "address; using a random one\n",
		       n->dev->name, m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	if (noos_random(n->mac, ETH_ADDR_LEN) != ETH_ADDR_LEN) {
		uint64_t t = arch_time_ns() ^ (uintptr_t)n;
		memcpy(n->mac, &t, ETH_ADDR_LEN); /* no entropy at all: unique enough on one host */
	}
	n->mac[0] = (uint8_t)((n->mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}

static void features_setup(struct vnet *n)
{
	struct virtio_device *dev = n->dev;
	bool mrg = virtio_has_feature(dev, VIRTIO_NET_F_MRG_RXBUF);
	n->hcfg = (struct vnet_hdr_cfg){
	    .hdr_len = dev->ops->modern || mrg ? VIRTIO_NET_HDR_LEN : VIRTIO_NET_HDR_LEN_LEGACY,
	    .mrg_rxbuf = mrg,
	    .guest_csum = virtio_has_feature(dev, VIRTIO_NET_F_GUEST_CSUM),
	};
	n->csum = virtio_has_feature(dev, VIRTIO_NET_F_CSUM);
	/* §5.1.3.1: HOST_TSO4/6 depend on CSUM (a device offering them alone is not heeded). */
	n->tso4 = n->csum && virtio_has_feature(dev, VIRTIO_NET_F_HOST_TSO4);
	n->tso6 = n->csum && virtio_has_feature(dev, VIRTIO_NET_F_HOST_TSO6);
	n->status = virtio_has_feature(dev, VIRTIO_NET_F_STATUS);
	/* §5.1.3.1: GUEST_ANNOUNCE depends on CTRL_VQ; a device offering it alone is not heeded. */
	n->announce = virtio_has_feature(dev, VIRTIO_NET_F_GUEST_ANNOUNCE) &&
	              virtio_has_feature(dev, VIRTIO_NET_F_CTRL_VQ);
	n->split_hdr = !dev->ops->modern;
}

static void describe(const struct vnet *n)
{
	const uint8_t *m = n->mac;
	printf(
	    "%s: virtio-net %02x:%02x:%02x:%02x:%02x:%02x, %u rx buffers, hdr %u%s%s%s%s%s%s%s%s, "
	    "%s\n",
	    n->dev->name, m[0], m[1], m[2], m[3], m[4], m[5], n->rx_total,
	    (unsigned)n->hcfg.hdr_len, n->hcfg.mrg_rxbuf ? " mrg_rxbuf" : "",
	    n->csum ? " csum" : "", n->tso4 ? " tso4" : "", n->tso6 ? " tso6" : "",
	    n->hcfg.guest_csum ? " guest_csum" : "", n->status ? " status" : "",
	    n->ctlq ? " ctrl_vq" : "", n->announce ? " announce" : "",
	    n->irq ? "interrupts" : "polled");
}

static struct vnet *vnet_for(struct virtio_device *dev, bool *fresh)
{
	for (unsigned i = 0; i < vnet_total; i++)
		if (vnets[i]->dev == dev) {
			*fresh = false;
			return vnets[i];
		}
	*fresh = true;
	if (vnet_total >= VNET_MAX_DEVICES)
		return NULL;
	struct vnet *n = calloc(1, sizeof(*n));
	if (n)
		n->dev = dev;
	return n;
}

/* First probe: the buffers, the control command, and a place in the device list. */
static int first_probe(struct vnet *n)
{
	int err = rx_alloc(n, rx_capacity(n));
	if (!err && n->ctlq && !(n->ctl = calloc(1, sizeof(*n->ctl))))
		err = -ENOMEM;
	if (err)
		return err;
	vnets[vnet_total++] = n;
	describe(n);
	return 0;
}

static void forget(struct vnet *n)
{
	for (unsigned i = 0; i < n->rx_npages; i++)
		page_free(n->rx_pages[i]);
	free(n->rx_pages);
	free(n->tx);
	free(n->ctl);
	free(n);
}

int virtio_net_probe(struct virtio_device *dev)
{
	bool fresh;
	struct vnet *n = vnet_for(dev, &fresh);
	if (!n)
		return fresh ? -ENOSPC : -ENOMEM;
	features_setup(n);
	n->irq = virtio_interrupts(dev) > 0;
	n->rxq = n->txq = n->ctlq = NULL;
	int err = queues_setup(n);
	if (!err)
		err = tx_alloc(n);
	if (!err && fresh) {
		mac_setup(n);
		err = first_probe(n);
	}
	if (err) {
		if (fresh)
			forget(n);
		return err;
	}
	dev->driver_data = n;
	n->live = true;
	virtio_device_ready(dev); /* DRIVER_OK before the first notification (§3.1.1) */
	if (n->client)
		start_io(n); /* a recovery: the client is still attached */
	return 0;
}
