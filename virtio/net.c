/*
 * virtio-net (virtio 1.2 §5.1): one receive queue, one transmit queue and,
 * when offered, the control queue; MAC from the configuration space or a
 * random locally administered one; link status with configuration-change
 * interrupts; mergeable receive buffers when offered (and plain ones when
 * not: Firecracker offers none); checksum offload both ways; large TCP
 * segments both ways (HOST_TSO4/6 sent, GUEST_TSO4/6 received over
 * mergeable buffers, net_rx.c).
 *
 * Receiving is in net_rx.c, transmitting in net_tx.c; the state they
 * share is in net_dev.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noos.h"
#include "rt.h"
#include "net_reg.h"
#include "virtio.h"
#include "net_dev.h"

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
	vnet_reap_tx(n);
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
	n->live = false;
	vnet_rx_reclaim(n);
	vnet_tx_reclaim(n);
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

/*
 * §5.1.3.1: GUEST_TSO4/6 depend on GUEST_CSUM. noos also takes them only
 * with MRG_RXBUF: without it every receive buffer would have to hold a
 * whole 64 KiB segment (§5.1.6.3.1), where with it a segment spreads over
 * the ordinary 2 KiB buffers (net_rx.c).
 */
uint64_t virtio_net_features(uint64_t f)
{
	uint64_t need = F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_MRG_RXBUF);
	if ((f & need) != need)
		f &= ~(F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6));
	return f;
}

static void features_setup(struct vnet *n)
{
	struct virtio_device *dev = n->dev;
	bool mrg = virtio_has_feature(dev, VIRTIO_NET_F_MRG_RXBUF);
	n->hcfg = (struct vnet_hdr_cfg){
	    .hdr_len = dev->ops->modern || mrg ? VIRTIO_NET_HDR_LEN : VIRTIO_NET_HDR_LEN_LEGACY,
	    .mrg_rxbuf = mrg,
	    .guest_csum = virtio_has_feature(dev, VIRTIO_NET_F_GUEST_CSUM),
	    .guest_tso4 = virtio_has_feature(dev, VIRTIO_NET_F_GUEST_TSO4),
	    .guest_tso6 = virtio_has_feature(dev, VIRTIO_NET_F_GUEST_TSO6),
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
	printf("%s: virtio-net %02x:%02x:%02x:%02x:%02x:%02x, %u rx buffers, hdr "
	       "%u%s%s%s%s%s%s%s%s%s%s, "
	       "%s\n",
	       n->dev->name, m[0], m[1], m[2], m[3], m[4], m[5], n->rx_total,
	       (unsigned)n->hcfg.hdr_len, n->hcfg.mrg_rxbuf ? " mrg_rxbuf" : "",
	       n->csum ? " csum" : "", n->tso4 ? " tso4" : "", n->tso6 ? " tso6" : "",
	       n->hcfg.guest_csum ? " guest_csum" : "", n->hcfg.guest_tso4 ? " guest_tso4" : "",
	       n->hcfg.guest_tso6 ? " guest_tso6" : "", n->status ? " status" : "",
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
	int err = vnet_rx_alloc(n, vnet_rx_capacity(n));
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
		err = vnet_tx_alloc(n);
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
