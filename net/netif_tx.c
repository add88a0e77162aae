/*
 * The virtio-net netif's transmit half (net/netif.c has the rest).
 *
 * Transmit: lwIP calls linkoutput with its core lock held, which serialises
 * the transmit ring; the pbuf chain goes to the device as it is (a
 * reference is held until the device is done: lwIP does not retransmit a
 * segment the driver still references), unless it has too many pieces or
 * memory the device cannot reach in one piece, when it is copied first.
 * With VIRTIO_NET_F_CSUM the device completes TCP checksums. With
 * HOST_TSO4/6 as well, consecutive segments of one TCP stream are held
 * while the core lock is (net/tso.c decides which) and go out as one frame
 * the device segments, when the lock is let go (net_netif_flush, from
 * sys_arch.c) or a frame that does not continue the run comes: the device
 * then pays its per-frame costs once per run rather than once per segment.
 *
 * Backlog: when the ring has no room even after reaping (vnet_transmit
 * says -ENOSPC), a frame lwIP handed over is not lost: it waits,
 * referenced, in the netif's backlog (net/txq.c), a merged run as one
 * frame (one whose data may change once linkoutput returns, a PBUF_REF,
 * waits as a copy), and every later frame queues behind it so no flow is
 * reordered.
 * The backlog goes first at the start of every transmit and whenever the
 * service thread reaps completions. Past its bound new frames are refused
 * with ERR_MEM (TCP keeps the segment unsent and nif_tx_resume has it sent
 * again); a run lwIP already had ERR_OK for always gets in. A device reset,
 * failure or carrier loss frees everything waiting.
 */
#include <errno.h>
#include <stdlib.h>

#include "lwip/priv/tcp_priv.h" /* tcp_txnow */
#include "lwip/snmp.h"
#include "lwip/stats.h"

#include "net.h"
#include "netif_priv.h"
#include "../virtio/net_reg.h"
#include "../virtio/virtio.h"

/* A bundle as a token: its address with the low bit set (a pbuf's is even). */
static struct tso_bundle *token_bundle(void *token)
{
	uintptr_t t = (uintptr_t)token;
	return t & 1 ? (struct tso_bundle *)(t - 1) : NULL;
}

static void bundle_put(struct nif *nf, struct tso_bundle *b)
{
	for (unsigned i = 0; i < b->run.count; i++)
		pbuf_free(b->p[i]);
	b->next = nf->spare;
	nf->spare = b;
}

/* Core lock held (linkoutput, or the service thread's reaping). */
void nif_sent(void *ctx, void *token)
{
	struct tso_bundle *b = token_bundle(token);
	if (b)
		bundle_put(ctx, b);
	else
		pbuf_free(token);
}

/* ---- transmit ---- */

static struct pbuf *tx_copy(struct pbuf *p)
{
	return pbuf_clone(PBUF_RAW, PBUF_RAM, p);
}

static void tx_drop(struct nif *nf, unsigned frames)
{
	nf->tx_dropped += frames;
	while (frames--)
		LINK_STATS_INC(link.drop);
}

/*
 * q (p, or a copy of it) to the device. 0: sent, p's reference is the
 * device's (or released, when the copy went); -ENOSPC: no room, p kept
 * with its reference to try again; else p released.
 */
static int tx_send(struct nif *nf, struct pbuf *p, struct pbuf *q, uint16_t start, uint16_t off)
{
	struct virtq_sg sg[VNET_TX_MAX_SG];
	int n = net_tx_pieces(q, sg, VNET_TX_MAX_SG);
	if (n < 0 && q == p && (q = tx_copy(p)) != NULL)
		n = net_tx_pieces(q, sg, VNET_TX_MAX_SG);
	uint16_t len = p->tot_len;
	struct vnet_tx tx = {
	    .sg = sg, .nsg = (unsigned)n, .csum_start = start, .csum_offset = off, .token = q};
	int err = !q ? -ENOMEM : n > 0 ? vnet_transmit(nf->vn, &tx) : -EINVAL;
	bool copied = q && q != p;
	if (copied)
		pbuf_free(err ? q : p); /* on failure the copy goes, on success p's reference */
	if (err == -ENOSPC)
		return err;
	if (err) {
		pbuf_free(p);
		return err;
	}
	copied ? nf->tx_copied++ : nf->tx_zero_copy++;
	LINK_STATS_INC(link.xmit);
	MIB2_STATS_NETIF_ADD(&nf->netif, ifoutoctets, len);
	(void)len; /* without MIB2 statistics */
	return 0;
}

/* One frame as lwIP made it, p referenced for the device: as tx_send. */
static int frame_send(struct nif *nf, struct pbuf *p)
{
	uint16_t start = VNET_NO_CSUM, off = 0;
	struct pbuf *q = p;
	/* The device completes TCP checksums: it must be told where, in the first piece. */
	if (nf->offload && !net_tx_csum_partial(p, &start, &off) && p->next) {
		q = tx_copy(p);
		if (!q) {
			pbuf_free(p);
			return -ENOMEM;
		}
		if (!net_tx_csum_partial(q, &start, &off))
			start = VNET_NO_CSUM; /* not TCP: its checksums are lwIP's */
	}
	return tx_send(nf, p, q, start, off);
}

static int run_transmit(struct nif *nf, struct tso_bundle *b);

/* The backlog's sender: a frame or a merged run (a token), in the order they came. */
static int token_send(void *ctx, void *token)
{
	struct nif *nf = ctx;
	struct tso_bundle *b = token_bundle(token);
	int err = b ? run_transmit(nf, b) : frame_send(nf, token);
	if (!err || err == -ENOSPC)
		return err;
	tx_drop(nf, b ? b->run.count : 1); /* the device failed */
	if (b)
		bundle_put(nf, b);
	return err;
}

/* token (referenced) waits for room behind what waits already; else it is released. */
static int tx_wait(struct nif *nf, void *token)
{
	if (net_txq_push(&nf->txq, token) == 0)
		return 0;
	nif_sent(nf, token);
	return -ENOSPC;
}

/* Core lock held: what waits goes while the ring has room. */
void nif_tx_pump(struct nif *nf)
{
	if (!net_txq_empty(&nf->txq))
		net_txq_drain(&nf->txq, token_send, nf);
}

/*
 * Service thread, core lock held: TCP segments refused while the backlog
 * was full go again once it has room. lwIP 2.1.3 leaves such a segment on
 * pcb->unsent with TF_NAGLEMEMERR (tcp_out.c tcp_output) but nothing of
 * its own calls tcp_txnow, so without this it waits for an ACK, a write or
 * the RTO. Not from linkoutput: that would re-enter tcp_output.
 */
void nif_tx_resume(struct nif *nf)
{
	if (!nf->refused || net_txq_full(&nf->txq))
		return;
	nf->refused = false;
	tcp_txnow();
}

/* Core lock held: every waiting frame released (device reset or failed, carrier lost). */
void nif_tx_release(struct nif *nf)
{
	net_txq_release(&nf->txq, nif_sent, nf);
	nf->refused = false;
}

/* Core lock held: a device reset forgets what waited, as it forgot the frames in the ring. */
void nif_tx_reset_check(struct nif *nf)
{
	uint64_t resets = vnet_stats(nf->vn)->resets;
	if (resets != nf->resets)
		nif_tx_release(nf);
	nf->resets = resets;
}

/* p, or a copy when its data may change once linkoutput returns (it is to wait). */
static struct pbuf *tx_stable(struct pbuf *p)
{
	if (!net_tx_volatile(p))
		return p;
	struct pbuf *c = tx_copy(p);
	pbuf_free(p);
	return c;
}

/* A frame lwIP handed over, p referenced: now, or after those already waiting. */
static err_t frame_out(struct nif *nf, struct pbuf *p)
{
	int err = net_txq_empty(&nf->txq) ? frame_send(nf, p) : -ENOSPC;
	if (err == -ENOSPC)
		err = (p = tx_stable(p)) != NULL ? tx_wait(nf, p) : -ENOMEM;
	if (err == 0)
		return ERR_OK;
	tx_drop(nf, 1);
	return err == -ENOMEM || err == -ENOSPC ? ERR_MEM : ERR_IF;
}

/* ---- transmit: runs of TCP segments for the device to cut (net/tso.c) ---- */

/* The run's frame: its merged header, then every segment's payload, in place. */
static int run_pieces(struct tso_bundle *b, struct virtq_sg *sg)
{
	unsigned n = 1, hdr = b->run.first.hdr_len;
	sg[0] = (struct virtq_sg){b->run.hdr, hdr};
	for (unsigned i = 0; i < b->run.count; i++) {
		struct virtq_sg seg[VNET_TX_MAX_SG];
		int got = net_tx_pieces(b->p[i], seg, VNET_TX_MAX_SG);
		if (got < 0)
			return -1;
		uint32_t skip = hdr;
		for (int k = 0; k < got; k++) {
			if (seg[k].len <= skip) {
				skip -= seg[k].len;
				continue;
			}
			if (n == VNET_TSO_MAX_SG)
				return -1;
			sg[n++] =
			    (struct virtq_sg){(uint8_t *)seg[k].addr + skip, seg[k].len - skip};
			skip = 0;
		}
	}
	return (int)n;
}

/* Whether the device could take the run whole (it waits merged, then). */
static bool run_fits(struct tso_bundle *b)
{
	struct virtq_sg sg[VNET_TSO_MAX_SG];
	return run_pieces(b, sg) > 0;
}

static int run_send(struct nif *nf, struct tso_bundle *b)
{
	struct virtq_sg sg[VNET_TSO_MAX_SG];
	int n = run_pieces(b, sg);
	if (n < 0)
		return -EINVAL;
	net_tso_finish(&b->run);
	const struct net_tso_seg *f = &b->run.first;
	struct vnet_tx tx = {
	    .sg = sg,
	    .nsg = (unsigned)n,
	    .csum_start = f->l4_off,
	    .csum_offset = 16, /* TCP's checksum field */
	    .token = (void *)((uintptr_t)b + 1),
	    .gso_type = f->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
	    .gso_size = (uint16_t)f->payload,
	    .hdr_len = f->hdr_len,
	};
	return vnet_transmit(nf->vn, &tx);
}

/* The merged run to the device (its pieces known to fit): 0, -ENOSPC (kept), else an error. */
static int run_transmit(struct nif *nf, struct tso_bundle *b)
{
	unsigned count = b->run.count;
	uint32_t bytes = b->run.bytes + (uint32_t)b->run.first.hdr_len * count;
	int err = run_send(nf, b);
	if (err)
		return err;
	nf->tso_frames++;
	nf->tso_segments += count;
	LINK_STATS_INC(link.xmit);
	MIB2_STATS_NETIF_ADD(&nf->netif, ifoutoctets, bytes);
	(void)bytes; /* without MIB2 statistics */
	return 0;
}

/* Each segment on its own (a run of one, or one the device would not take whole). */
static void run_unmerged(struct nif *nf, struct tso_bundle *b)
{
	for (unsigned i = 0; i < b->run.count; i++) {
		pbuf_ref(b->p[i]); /* the segment's own, as linkoutput's */
		frame_out(nf, b->p[i]);
	}
	nf->tso_unmerged += b->run.count > 1;
	bundle_put(nf, b);
}

/*
 * Core lock held: the run held so far goes to the device, or waits merged
 * behind the backlog. lwIP was told ERR_OK for its segments: only a
 * failed device loses them.
 */
void nif_tx_flush(struct nif *nf)
{
	struct tso_bundle *b = nf->run;
	if (!b)
		return;
	nf->run = NULL;
	unsigned count = b->run.count;
	if (count > 1) {
		int err = net_txq_empty(&nf->txq) ? run_transmit(nf, b)
		          : run_fits(b)           ? -ENOSPC
		                                  : -EINVAL;
		if (err == -ENOSPC && tx_wait(nf, (void *)((uintptr_t)b + 1)) != 0)
			tx_drop(nf, count); /* past even the slack: cannot happen (net/txq.h) */
		if (err == 0 || err == -ENOSPC)
			return;
	}
	run_unmerged(nf, b);
}

static struct tso_bundle *bundle_get(struct nif *nf)
{
	struct tso_bundle *b = nf->spare;
	if (b)
		nf->spare = b->next;
	else
		b = malloc(sizeof(*b));
	return b;
}

/* Core lock held. Whether p joined the run (held, referenced), or must go now. */
static bool run_offer(struct nif *nf, struct pbuf *p)
{
	struct net_tso_seg s;
	bool fits =
	    net_tso_parse(p->payload, p->len, p->tot_len, &s) == 0 && (s.v6 ? nf->tso6 : nf->tso4);
	struct tso_bundle *b = nf->run;
	if (fits && b && net_tso_append(&b->run, p->payload, &s, TSO_SEGS)) {
		pbuf_ref(p);
		b->p[b->run.count - 1] = p;
		return true;
	}
	nif_tx_flush(nf); /* in order: what was held goes first */
	if (!fits || !(b = bundle_get(nf)))
		return false;
	net_tso_start(&b->run, p->payload, &s);
	pbuf_ref(p);
	b->p[0] = p;
	nf->run = b;
	return true;
}

err_t nif_output(struct netif *netif, struct pbuf *p)
{
	struct nif *nf = (struct nif *)netif;
	if (!nf->carrier) {
		nf->tx_no_carrier++; /* lost on the wire, as far as lwIP can tell: TCP resends */
		LINK_STATS_INC(link.drop);
		return ERR_OK;
	}
	nif_tx_pump(nf);
	if (net_txq_refuse(&nf->txq)) {
		nf->refused = true; /* TCP keeps the segment unsent: nif_tx_pump has it resent */
		LINK_STATS_INC(link.memerr);
		return ERR_MEM;
	}
	if ((nf->tso4 || nf->tso6) && run_offer(nf, p))
		return ERR_OK;
	pbuf_ref(p); /* the device's, until it is done with the frame */
	return frame_out(nf, p);
}
