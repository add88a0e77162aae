/*
 * The virtio-net netif: one lwIP netif per virtio-net device, each with a
 * service thread that the device's interrupts wake (virtio/net.c's client).
 *
 * Receive: the service thread takes lwIP's core lock and hands a batch of
 * frames (RX_BUDGET) to ethernet_input, then re-arms the interrupt, NAPI
 * style: while frames keep coming the device does not interrupt, and
 * between batches the lock is let go so socket calls get in. A frame stays
 * in the driver's buffer as a custom pbuf (frame.c); frames of COPYBREAK
 * bytes or less are copied (acknowledgements and ARP would otherwise hold
 * 2 KiB each), and so is everything while fewer than a quarter of the
 * driver's buffers are posted, so the device never waits on a slow reader.
 * With GUEST_TSO4/6 the device hands up large TCP segments (up to 64 KiB,
 * over as many buffers): lwIP takes each as one segment, a chain of the
 * buffers (frame.c), so a bulk receiver pays per-frame costs once per
 * 64 KiB rather than once per 1460 bytes.
 *
 * Transmit is netif_tx.c's.
 *
 * Link: the driver's configuration interrupt wakes the thread, which reads
 * the link status. While the carrier is down, lwIP keeps routing through
 * the interface, as Linux does, and the frames are dropped here: lwIP
 * would otherwise fail sends on a link-down interface (EHOSTUNREACH, with
 * the data already queued) and connections would not outlive a flap. When
 * the carrier comes back, lwIP hears down and up at once: DHCP renews
 * (INIT-REBOOT, RFC 2131 §3.2), IPv6 solicits routers again, gratuitous ARP
 * and MLD reports go out. The thread also answers the device's
 * announcement requests with gratuitous ARP and MLD reports, and lets the
 * core recover a device that needs a reset.
 * Without interrupts the thread polls (POLL_NS).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/mld6.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/snmp.h"
#include "lwip/stats.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include "noos.h"
#include "net.h"
#include "netif_priv.h"
#include "../virtio/net_reg.h"
#include "../virtio/virtio.h"

#define RX_BUDGET     64            /* frames per batch under the core lock */
#define COPYBREAK     128           /* bytes: smaller frames are copied */
#define POLL_NS       1000000ull    /* no interrupts: look every millisecond */
#define HOUSEKEEP_NS  1000000000ull /* with interrupts: status and reset checks each second */
#define SERVICE_STACK 32768
#define SERVICE_PRIO  20 /* as tcpip_thread: above NOOS_PRIO_DEFAULT */

static struct nif *nifs[NET_MAX_NETIFS];
static unsigned nif_count;

unsigned net_netif_count(void)
{
	return nif_count;
}

struct netif *net_netif_at(unsigned i)
{
	return i < nif_count ? &nifs[i]->netif : NULL;
}

/* ---- the driver's client ---- */

static void nif_wake(void *ctx)
{
	struct nif *nf = ctx;
	noos_sem_post(&nf->wake);
}

static void rx_release(void *owner, void *buf)
{
	vnet_rx_release(owner, buf);
}

/* Copy rather than keep the buffers: the frame is small, or the ring is running dry. */
static bool rx_copy_wanted(struct nif *nf, const struct vnet_rx *rx)
{
	unsigned posted, free_;
	unsigned total = vnet_rx_buffers(nf->vn, &posted, &free_);
	return (!rx->gso && rx->len <= COPYBREAK) || posted < total / 4;
}

/* A large TCP segment (GUEST_TSO4/6): one IP datagram over the pieces' buffers. */
static struct pbuf *rx_segment(struct nif *nf, const struct vnet_rx *rx, bool copy)
{
	if (copy)
		return net_rx_copy_segment(rx->piece, rx->npieces, rx->len);
	return net_rx_wrap_segment(rx->piece, rx->npieces, rx_release, nf->vn);
}

static struct pbuf *rx_frame(struct nif *nf, const struct vnet_rx *rx, bool copy)
{
	if (copy)
		return net_rx_copy(rx->frame, (uint16_t)rx->len);
	return net_rx_wrap(rx->buf, rx->frame, (uint16_t)rx->len, rx_release, nf->vn);
}

/* Core lock held (the service thread's batch). */
static bool nif_receive(void *ctx, const struct vnet_rx *rx)
{
	struct nif *nf = ctx;
	bool copy = rx_copy_wanted(nf, rx);
	struct pbuf *p = rx->gso ? rx_segment(nf, rx, copy) : rx_frame(nf, rx, copy);
	if (!p) {
		nf->rx_nomem++;
		LINK_STATS_INC(link.memerr);
		LINK_STATS_INC(link.drop);
		return false;
	}
	LINK_STATS_INC(link.recv);
	MIB2_STATS_NETIF_ADD(&nf->netif, ifinoctets, rx->len);
	if (copy)
		nf->rx_copied++;
	else
		nf->rx_zero_copy++;
	if (rx->gso)
		net_rx_input_segment(&nf->netif, p, rx->frame, rx->piece[0].len, rx->csum_valid);
	else
		net_rx_input(&nf->netif, p, rx->csum_valid);
	return !copy;
}

static const struct vnet_client client = {nif_wake, nif_receive, nif_sent};

void net_netif_flush(void)
{
	for (unsigned i = 0; i < nif_count; i++)
		nif_tx_flush(nifs[i]);
}

/* ---- the service thread ---- */

/* Frames in, completions reaped, until the device has nothing more and is re-armed. */
static void drain(struct nif *nf)
{
	for (;;) {
		LOCK_TCPIP_CORE();
		int got = vnet_poll_rx(nf->vn, RX_BUDGET);
		vnet_reap_tx(nf->vn);
		nif_tx_pump(nf);
		nif_tx_resume(nf);
		UNLOCK_TCPIP_CORE();
		if (got == RX_BUDGET)
			noos_thread_yield(); /* more waiting: let others have the lock first */
		else if (vnet_rx_arm(nf->vn))
			return;
	}
}

/* Core lock held. See the top of the file for why lwIP hears of a loss only at its end. */
static void link_update(struct nif *nf)
{
	bool up = vnet_link_up(nf->vn);
	if (up == nf->carrier)
		return;
	printf("net: %c%c%u link %s\n", nf->netif.name[0], nf->netif.name[1], nf->netif.num,
	       up ? "up" : "down");
	nf->carrier = up;
	if (!up) {
		nif_tx_release(nf); /* nothing goes out without a carrier */
		return;
	}
	if (netif_is_link_up(&nf->netif))
		netif_set_link_down(&nf->netif);
	netif_set_link_up(&nf->netif);
	nf->renewing = netif_dhcp_data(&nf->netif) != NULL;
}

/* The lease came back after a flap (DHCP is bound again): say so. */
static void renewal_check(struct nif *nf)
{
	if (!nf->renewing || !dhcp_supplied_address(&nf->netif))
		return;
	nf->renewing = false;
	net_config_print_v4(&nf->netif, "dhcp, renewed");
}

/* §5.1.6.5.4: after a migration the device asks us to tell the network where we are. */
static void announce(struct nif *nf)
{
	if (!vnet_announce_wanted(nf->vn))
		return;
	if (netif_is_up(&nf->netif) && netif_is_link_up(&nf->netif)) {
		etharp_gratuitous(&nf->netif);
		mld6_report_groups(&nf->netif); /* switches learn where our IPv6 groups are */
		nd6_restart_netif(&nf->netif);  /* and routers hear from us again */
	}
	vnet_announce_done(nf->vn);
}

static void housekeep(struct nif *nf, bool event)
{
	uint64_t now = noos_time_ns();
	if (!event && !nf->renewing && now - nf->last_housekeep < HOUSEKEEP_NS)
		return;
	nf->last_housekeep = now;
	LOCK_TCPIP_CORE();
	if (vnet_check(nf->vn) == 0) {
		nif_tx_reset_check(nf);
		link_update(nf);
		renewal_check(nf);
		announce(nf);
	} else if (netif_is_link_up(&nf->netif)) {
		printf("net: %c%c%u device failed, link down\n", nf->netif.name[0],
		       nf->netif.name[1], nf->netif.num);
		nf->carrier = false;
		nif_tx_release(nf);
		netif_set_link_down(&nf->netif); /* for good: lwIP routes elsewhere */
	}
	UNLOCK_TCPIP_CORE();
}

static void *service(void *arg)
{
	struct nif *nf = arg;
	uint64_t wait = vnet_interrupts(nf->vn) ? HOUSEKEEP_NS : POLL_NS;
	for (;;) {
		noos_sem_timedwait(&nf->wake, wait);
		while (noos_sem_trywait(&nf->wake) == 0)
			; /* one pass serves every wake-up so far */
		drain(nf);
		housekeep(nf, vnet_config_event(nf->vn));
	}
	return NULL;
}

/* ---- setting up ---- */

static err_t nif_init(struct netif *netif)
{
	struct nif *nf = (struct nif *)netif;
	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->output = etharp_output;
	netif->output_ip6 = ethip6_output;
	netif->linkoutput = nif_output;
	netif->mtu = ETH_DATA_MAX;
	netif->hwaddr_len = ETH_ADDR_LEN;
	vnet_mac(nf->vn, netif->hwaddr);
	/* The device receives every multicast (QEMU's default receive mode): nothing to filter. */
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
	               NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
	NETIF_SET_CHECKSUM_CTRL(netif, net_csum_flags(nf->offload));
	netif_set_hostname(netif, "noos");
	MIB2_INIT_NETIF(netif, snmp_ifType_ethernet_csmacd, 0);
	return ERR_OK;
}

static int start_thread(struct nif *nf)
{
	char name[16];
	snprintf(name, sizeof(name), "net-en%u", nf->netif.num);
	struct noos_thread_opts o = {
	    .name = name,
	    .stack_size = SERVICE_STACK,
	    .priority = SERVICE_PRIO,
	    .flags = NOOS_THREAD_DETACHED,
	};
	return noos_thread_create(NULL, service, nf, &o);
}

int net_netif_add(struct vnet *vn, unsigned index, struct netif **out)
{
	if (nif_count >= NET_MAX_NETIFS)
		return -ENOSPC;
	struct nif *nf = calloc(1, sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	nf->vn = vn;
	nf->offload = vnet_tx_csum(vn);
	vnet_tx_tso(vn, &nf->tso4, &nf->tso6);
	noos_sem_init(&nf->wake, 0);
	/* The driver first: lwIP sends as soon as the netif is up (MLD, DAD, DHCP). */
	int err = vnet_attach(vn, &client, nf);
	if (err) {
		free(nf);
		return err;
	}
	LOCK_TCPIP_CORE();
	struct netif *ok = netif_add_noaddr(&nf->netif, nf, nif_init, ethernet_input);
	if (ok) {
		net_config_netif(&nf->netif, index);
		nf->carrier = vnet_link_up(vn);
		if (nf->carrier)
			netif_set_link_up(&nf->netif);
	}
	UNLOCK_TCPIP_CORE();
	if (!ok)
		return -ENOMEM; /* nf stays: the driver holds it as its client */
	nifs[nif_count++] = nf;
	*out = &nf->netif;
	return start_thread(nf);
}

typedef unsigned long long ull;

static void report_one(const struct nif *nf)
{
	const struct vnet_stats *s = vnet_stats(nf->vn);
	unsigned posted, free_;
	unsigned total = vnet_rx_buffers(nf->vn, &posted, &free_);
	unsigned n = nf->netif.num;
	printf("net: en%u rx %llu frames (%llu zero-copy, %llu copied, %llu no memory; %llu large "
	       "segments; checksum valid %llu, completed %llu, unasked %llu)\n",
	       n, (ull)s->rx_frames, (ull)nf->rx_zero_copy, (ull)nf->rx_copied, (ull)nf->rx_nomem,
	       (ull)s->rx_gso, (ull)s->rx_csum_valid, (ull)s->rx_csum_completed,
	       (ull)s->rx_csum_unasked);
	printf("net: en%u rx dropped %llu truncated %llu oversized %llu bad header; buffers %u "
	       "posted %u free of %u\n",
	       n, (ull)s->rx_truncated, (ull)s->rx_oversized, (ull)s->rx_bad_header, posted, free_,
	       total);
	printf("net: en%u tx %llu frames (%llu zero-copy, %llu copied, %llu csum offloaded), "
	       "dropped %llu (ring full %llu, bad %llu, no carrier %llu); link changes %llu, "
	       "resets %llu\n",
	       n, (ull)s->tx_frames, (ull)nf->tx_zero_copy, (ull)nf->tx_copied,
	       (ull)s->tx_csum_offloaded, (ull)nf->tx_dropped, (ull)s->tx_ring_full, (ull)s->tx_bad,
	       (ull)nf->tx_no_carrier, (ull)s->link_changes, (ull)s->resets);
	printf("net: en%u tx backlog: %llu frames waited, at most %u at once, %llu refused "
	       "(full)\n",
	       n, (ull)nf->txq.waited, nf->txq.high, (ull)nf->txq.refused);
	if (nf->tso4 || nf->tso6)
		printf("net: en%u tso %llu frames of %llu segments, %llu runs sent unmerged\n", n,
		       (ull)nf->tso_frames, (ull)nf->tso_segments, (ull)nf->tso_unmerged);
}

void net_netif_report(void)
{
	for (unsigned i = 0; i < nif_count; i++)
		report_one(nifs[i]);
}
