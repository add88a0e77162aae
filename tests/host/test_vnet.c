/*
 * virtio/net.c and net_hdr.c against the fake transport: feature
 * negotiation and header sizes (modern, mergeable, legacy), the receive
 * header checks (truncated, oversized, multi-buffer, bad GSO and checksum
 * offsets, num_buffers 0), completing partial checksums (also when GUEST_CSUM
 * was not negotiated), buffers kept by the client and refilled in batches,
 * a starved ring recovering, transmit headers and completions, a full
 * transmit ring, link status, the control queue, DEVICE_NEEDS_RESET with
 * buffers held across it, and a device that misbehaves.
 */
#include <stdio.h>

#include "net_reg.h"
#include "virtio_fake.h"
#include "vnet_gso.h"

#define F(bit) (1ull << (bit))

/* What net.c expects from the rest of noos. */
static uint64_t fake_ns;
uint64_t arch_time_ns(void)
{
	return fake_ns += 1000000; /* every look at the clock: 1 ms later */
}

static int random_result = 6;
long noos_random(void *buf, size_t len)
{
	memset(buf, 0xab, len);
	return random_result;
}

/* A fresh device for every setup: the driver keeps its state per device (resets included). */
static struct fake fakes[32];
static unsigned nfakes;
#define f (fakes[nfakes - 1])
static struct virtio_transport_ops ops; /* fake ops with a control-queue answering notify */
static struct vnet *n;

/* ---- device side ---- */

/* The writable (or readable) pieces of the next available buffer of queue q. */
struct piece {
	uint8_t *p;
	uint32_t len;
	bool write;
};
static unsigned take(struct sim *s, uint16_t *head_out, struct piece *pc, unsigned max)
{
	if (s->last_avail == s->avail->idx)
		return 0;
	uint16_t head = s->avail->ring[s->last_avail++ & (s->size - 1)];
	struct virtq_desc *table = s->desc, *d = &s->desc[head];
	unsigned limit = s->size, i = head, k = 0;
	if (d->flags & VIRTQ_DESC_F_INDIRECT) {
		table = phys_to_virt(d->addr);
		limit = d->len / 16;
		i = 0;
	}
	for (;;) {
		d = &table[i];
		if (k < max)
			pc[k++] = (struct piece){phys_to_virt(d->addr), d->len,
			                         (d->flags & VIRTQ_DESC_F_WRITE) != 0};
		if (!(d->flags & VIRTQ_DESC_F_NEXT) || k >= limit)
			break;
		i = d->next;
	}
	*head_out = head;
	return k;
}

static struct sim rx, tx, ctl;
static unsigned rx_pieces_seen, rx_first_piece_len;

/* Write hdr + frame into the next receive buffer; used = bytes written unless used_len >= 0. */
static bool dev_rx(const struct virtio_net_hdr *h, uint32_t hlen, const uint8_t *frame,
                   uint32_t flen, long used_len, bool publish)
{
	struct piece pc[4];
	uint16_t head;
	unsigned np = take(&rx, &head, pc, 4);
	if (!np)
		return false;
	rx_pieces_seen = np;
	rx_first_piece_len = pc[0].len;
	uint8_t bytes[4096];
	memcpy(bytes, h, hlen);
	memcpy(bytes + hlen, frame, flen);
	uint32_t total = hlen + flen, off = 0;
	for (unsigned i = 0; i < np && off < total; i++) {
		CHECK(pc[i].write);
		uint32_t c = total - off < pc[i].len ? total - off : pc[i].len;
		memcpy(pc[i].p, bytes + off, c);
		off += c;
	}
	sim_put_used(&rx, head, used_len >= 0 ? (uint32_t)used_len : off);
	if (publish)
		sim_publish(&rx);
	return true;
}

/* Take one transmitted frame: its header and bytes. */
static uint32_t dev_tx(struct virtio_net_hdr *h, uint32_t hlen, uint8_t *out, bool complete)
{
	struct piece pc[VNET_TX_MAX_SG + 2];
	uint16_t head;
	unsigned np = take(&tx, &head, pc, VNET_TX_MAX_SG + 2);
	if (!np)
		return 0;
	uint8_t bytes[4096];
	uint32_t off = 0;
	for (unsigned i = 0; i < np; i++) {
		CHECK(!pc[i].write);
		memcpy(bytes + off, pc[i].p, pc[i].len);
		off += pc[i].len;
	}
	CHECK(pc[0].len == hlen); /* the header is a piece of its own */
	memcpy(h, bytes, hlen);
	memcpy(out, bytes + hlen, off - hlen);
	if (complete) {
		sim_put_used(&tx, head, 0);
		sim_publish(&tx);
	}
	return off - hlen;
}

/* QEMU answers control commands during the notification itself. */
static unsigned ctl_cmds, ctl_last_class;
static bool ctl_silent;
static void notify(struct virtio_device *dev, uint16_t index)
{
	fake_queue_notify(dev, index);
	if (index != VIRTIO_NET_CTLQ || ctl_silent)
		return;
	struct piece pc[4];
	uint16_t head;
	unsigned np = take(&ctl, &head, pc, 4);
	if (np != 2 || pc[0].write || !pc[1].write || pc[0].len != 2 || pc[1].len != 1)
		return;
	ctl_cmds++;
	ctl_last_class = pc[0].p[0];
	pc[1].p[0] = VIRTIO_NET_OK;
	sim_put_used(&ctl, head, 1);
	sim_publish(&ctl);
}

/* ---- the client ---- */

#define MAX_HELD 512
static unsigned wakes, received, sent_count;
static void *held[MAX_HELD];
static unsigned nheld;
static bool keep_buffers;
static uint8_t last_frame[2048];
static uint32_t last_len;
static bool last_csum_valid;
static void *sent_tokens[1024];

static void c_wake(void *ctx)
{
	(void)ctx;
	wakes++;
}

static bool c_receive(void *ctx, const struct vnet_rx *r)
{
	CHECK(ctx == &f);
	received++;
	memcpy(last_frame, r->frame, r->len);
	last_len = r->len;
	last_csum_valid = r->csum_valid;
	CHECK(r->frame == (uint8_t *)r->buf + VNET_RX_FRAME_OFF);
	CHECK(((uintptr_t)r->frame + ETH_HDR_LEN) % 4 == 0);
	if (!keep_buffers || nheld >= MAX_HELD)
		return false;
	memset(r->buf, 0x5a, VNET_RX_CLIENT); /* the client area is ours */
	held[nheld++] = r->buf;
	return true;
}

static void c_sent(void *ctx, void *token)
{
	(void)ctx;
	sent_tokens[sent_count++ % 1024] = token;
}

static const struct vnet_client client = {c_wake, c_receive, c_sent};

static void release_all(void)
{
	while (nheld)
		vnet_rx_release(n, held[--nheld]);
}

/* ---- setup ---- */

static void setup(bool modern, uint64_t offered)
{
	if (nfakes == sizeof(fakes) / sizeof(fakes[0]))
		abort();
	nfakes++;
	fake_init(&f, modern);
	ops = *f.dev.ops;
	ops.queue_notify = notify;
	f.dev.ops = &ops;
	f.dev.device_id = VIRTIO_ID_NET;
	f.offered |= offered;
	f.irq_vectors = 1;
	memcpy(f.config, "\x52\x54\x00\x12\x34\x56\x01\x00", 8); /* MAC, status LINK_UP */
	static const struct virtio_driver *drv;
	static struct virtio_driver d;
	d = (struct virtio_driver){
	    VIRTIO_ID_NET,
	    "virtio-net",
	    F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_MAC) |
	        F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_CTRL_VQ) |
	        F(VIRTIO_NET_F_GUEST_ANNOUNCE) | F(VIRTIO_NET_F_HOST_TSO4) |
	        F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6),
	    virtio_net_probe,
	    virtio_net_remove,
	    virtio_net_config_changed,
	    virtio_net_features};
	drv = &d;
	CHECK(virtio_device_start(&f.dev, drv) == 0);
	n = vnet_at(vnet_count() - 1);
	CHECK(n != NULL && f.dev.driver_data == n);
	wakes = received = sent_count = nheld = 0;
	keep_buffers = false;
	ctl_silent = false;
	sim_attach(&rx, &f, VIRTIO_NET_RXQ);
	sim_attach(&tx, &f, VIRTIO_NET_TXQ);
	if (f.enabled[VIRTIO_NET_CTLQ])
		sim_attach(&ctl, &f, VIRTIO_NET_CTLQ);
}

static const uint64_t all_offers = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) |
                                   F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MRG_RXBUF) |
                                   F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_CTRL_VQ) |
                                   F(VIRTIO_NET_F_GUEST_ANNOUNCE) | F(VIRTIO_NET_F_GUEST_TSO4);

static void frame_fill(uint8_t *fr, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		fr[i] = (uint8_t)(seed + i * 7);
}

static struct virtio_net_hdr plain_hdr(void)
{
	return (struct virtio_net_hdr){.num_buffers = 1};
}

/* ---- tests ---- */

static void test_negotiation(void)
{
	setup(true, all_offers);
	/* asked and offered; GUEST_TSO6 asked for but not offered */
	CHECK(f.accepted & F(VIRTIO_NET_F_MRG_RXBUF));
	CHECK(f.accepted & F(VIRTIO_NET_F_GUEST_TSO4));
	CHECK(!(f.accepted & F(VIRTIO_NET_F_GUEST_TSO6)));
	uint8_t mac[6];
	vnet_mac(n, mac);
	CHECK(memcmp(mac, "\x52\x54\x00\x12\x34\x56", 6) == 0);
	CHECK(vnet_tx_csum(n) && vnet_interrupts(n) && vnet_link_up(n));
	CHECK(f.enabled[0] && f.enabled[1] && f.enabled[2]);
	unsigned posted, free_;
	CHECK(vnet_rx_buffers(n, &posted, &free_) == 256 && posted == 0 && free_ == 256);
	CHECK(vnet_attach(n, &client, &f) == 0);
	CHECK(vnet_attach(n, &client, &f) == -EBUSY);
	vnet_rx_buffers(n, &posted, &free_);
	CHECK(posted == 256 && free_ == 0);
	CHECK(rx.avail->idx == 256 && f.notifies[0] == 1);

	/* no MAC offered: random, unicast and locally administered */
	setup(true, F(VIRTIO_NET_F_STATUS));
	vnet_mac(n, mac);
	CHECK(mac[0] == 0xaa && mac[1] == 0xab && !vnet_tx_csum(n));
	random_result = -ENODEV; /* no entropy: still a locally administered unicast address */
	setup(true, 0);
	vnet_mac(n, mac);
	CHECK((mac[0] & 3) == 2 && vnet_link_up(n)); /* no STATUS: the link is up */
	random_result = 6;
}

static void test_receive(void)
{
	setup(true, all_offers);
	CHECK(vnet_attach(n, &client, &f) == 0);
	uint8_t fr[1600];
	struct virtio_net_hdr h = plain_hdr();
	frame_fill(fr, 60, 1);
	CHECK(dev_rx(&h, 12, fr, 60, -1, true));
	CHECK(rx_pieces_seen == 1); /* modern: header and frame in one descriptor */
	CHECK(vnet_poll_rx(n, 64) == 1 && received == 1);
	CHECK(last_len == 60 && memcmp(last_frame, fr, 60) == 0 && !last_csum_valid);
	/* the longest frame: 1518 bytes with a VLAN tag */
	frame_fill(fr, ETH_FRAME_MAX, 2);
	CHECK(dev_rx(&h, 12, fr, ETH_FRAME_MAX, -1, true));
	CHECK(vnet_poll_rx(n, 64) == 1 && received == 2 && last_len == ETH_FRAME_MAX);
	CHECK(memcmp(last_frame, fr, ETH_FRAME_MAX) == 0);
	const struct vnet_stats *st = vnet_stats(n);
	CHECK(st->rx_frames == 2 && st->rx_bytes == 60 + ETH_FRAME_MAX);
	/* a budget: the rest waits for the next poll */
	for (int i = 0; i < 5; i++)
		CHECK(dev_rx(&h, 12, fr, 100, -1, true));
	CHECK(vnet_poll_rx(n, 3) == 3 && vnet_poll_rx(n, 3) == 2 && received == 7);
	CHECK(!vnet_rx_arm(n) == false); /* nothing waiting: armed */
}

/* §5.1.3.1: GUEST_TSO4/6 only with GUEST_CSUM, and (noos's choice) MRG_RXBUF. */
static void test_negotiation_gso(void)
{
	uint64_t tso = F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6);
	setup(true, all_offers | tso);
	CHECK((f.accepted & tso) == tso);
	setup(true, (all_offers | tso) & ~F(VIRTIO_NET_F_MRG_RXBUF));
	CHECK((f.accepted & tso) == 0 && !(f.accepted & F(VIRTIO_NET_F_MRG_RXBUF)));
	setup(true, (all_offers | tso) & ~F(VIRTIO_NET_F_GUEST_CSUM));
	CHECK((f.accepted & tso) == 0 && (f.accepted & F(VIRTIO_NET_F_MRG_RXBUF)));
	setup(false, (all_offers | tso) & ~F(VIRTIO_NET_F_MRG_RXBUF)); /* legacy, nomrg */
	CHECK((f.accepted & tso) == 0);
	setup(false, all_offers | tso); /* legacy with MRG_RXBUF */
	CHECK((f.accepted & tso) == tso);
}

static void test_receive_drops(void)
{
	setup(true, all_offers & ~F(VIRTIO_NET_F_GUEST_TSO4));
	CHECK(vnet_attach(n, &client, &f) == 0);
	const struct vnet_stats *st = vnet_stats(n);
	uint8_t fr[2048];
	frame_fill(fr, sizeof(fr), 3);
	struct virtio_net_hdr h = plain_hdr();
	CHECK(dev_rx(&h, 12, fr, 10, 11, true));   /* used < header */
	CHECK(dev_rx(&h, 12, fr, 13, -1, true));   /* 13 bytes: no Ethernet header */
	CHECK(dev_rx(&h, 12, fr, 1519, -1, true)); /* oversized */
	CHECK(vnet_poll_rx(n, 64) == 3 && received == 0);
	CHECK(st->rx_truncated == 2 && st->rx_oversized == 1);
	/* GSO never negotiated; ECN alone is a flag, not a type */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	CHECK(dev_rx(&h, 12, fr, 100, -1, true));
	h.gso_type = VIRTIO_NET_HDR_GSO_ECN;
	CHECK(dev_rx(&h, 12, fr, 100, -1, true));
	h = plain_hdr();
	h.num_buffers = 0;
	CHECK(dev_rx(&h, 12, fr, 100, -1, true));
	CHECK(vnet_poll_rx(n, 64) == 3 && received == 1 && st->rx_bad_header == 2);
	/* NEEDS_CSUM with offsets outside the frame */
	h = plain_hdr();
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 90;
	h.csum_offset = 9;
	CHECK(dev_rx(&h, 12, fr, 100, -1, true));
	h.csum_start = 4; /* inside the Ethernet header */
	h.csum_offset = 0;
	CHECK(dev_rx(&h, 12, fr, 100, -1, true));
	CHECK(vnet_poll_rx(n, 64) == 2 && received == 1 && st->rx_bad_header == 4);
	/* num_buffers 3: this buffer and the next two dropped, then a good frame */
	h = plain_hdr();
	h.num_buffers = 3;
	CHECK(dev_rx(&h, 12, fr, 1970, -1, true));
	CHECK(vnet_poll_rx(n, 64) == 1 && st->rx_oversized == 2);
	h = plain_hdr();
	CHECK(dev_rx(&h, 12, fr, 1970, -1, false) && dev_rx(&h, 12, fr, 200, -1, false));
	CHECK(dev_rx(&h, 12, fr, 64, -1, true));
	CHECK(vnet_poll_rx(n, 64) == 3 && received == 2 && last_len == 64);
	/* num_buffers beyond what the device holds: bad, and nothing good is skipped */
	h.num_buffers = 1000;
	CHECK(dev_rx(&h, 12, fr, 100, -1, true));
	h = plain_hdr();
	CHECK(dev_rx(&h, 12, fr, 70, -1, true));
	CHECK(vnet_poll_rx(n, 64) == 2 && received == 3 && last_len == 70);
	CHECK(st->rx_bad_header == 5);
	/* a used length beyond what was posted breaks the queue (virtq_get), never read */
	CHECK(dev_rx(&h, 12, fr, 70, 5000, true));
	CHECK(vnet_poll_rx(n, 64) == 0 && f.dev.broken && received == 3);
}

/* ---- large TCP segments over several buffers (GUEST_TSO4/6 with MRG_RXBUF) ---- */

#define GSO_FIRST (VNET_RX_BUF_BYTES - VNET_RX_FRAME_OFF)      /* frame bytes in the first */
#define GSO_MORE  (VNET_RX_BUF_BYTES - VNET_RX_FRAME_OFF + 12) /* in each further buffer */

static uint8_t gso_frame[VNET_RX_GSO_MAX + 4096], gso_seen[VNET_RX_GSO_MAX + 4096];
static unsigned gso_pieces;
static bool gso_seen_flag;

/* An Ethernet + IPv4 (or IPv6) + TCP frame of len bytes, the IP lengths saying so. */
static void tcp_frame(uint8_t *fr, uint32_t len, bool v6)
{
	frame_fill(fr, len, 5);
	fr[12] = v6 ? 0x86 : 0x08;
	fr[13] = v6 ? 0xdd : 0x00;
	uint32_t ip = len - 14;
	if (v6) {
		fr[14] = 0x60;
		fr[18] = (uint8_t)((ip - 40) >> 8), fr[19] = (uint8_t)(ip - 40);
		fr[20] = 6;
	} else {
		fr[14] = 0x45;
		fr[16] = (uint8_t)(ip >> 8), fr[17] = (uint8_t)ip;
		fr[23] = 6;
	}
}

/* Buffers a frame of len bytes takes. */
static uint16_t gso_bufs(uint32_t len)
{
	return len <= GSO_FIRST ? 1 : (uint16_t)(1 + (len - GSO_FIRST + GSO_MORE - 1) / GSO_MORE);
}

/*
 * The device's side of MRG_RXBUF: header and frame over buffers [from, to)
 * of the frame's (each as full as it goes), published after the last; a
 * buffer's used length replaced by bad_used when it is bad_at.
 */
static void dev_rx_span(const struct virtio_net_hdr *h, const uint8_t *fr, uint32_t len,
                        unsigned from, unsigned to, unsigned bad_at, uint32_t bad_used)
{
	for (unsigned b = from; b < to; b++) {
		struct piece pc[4];
		uint16_t head;
		CHECK(take(&rx, &head, pc, 4) == 1 && pc[0].write);
		uint32_t off = b == 0 ? 0 : GSO_FIRST + (b - 1) * GSO_MORE;
		uint32_t room = b == 0 ? GSO_FIRST : GSO_MORE;
		uint32_t c = off >= len ? 0 : len - off < room ? len - off : room;
		uint8_t *dst = pc[0].p;
		if (b == 0) {
			memcpy(dst, h, 12);
			dst += 12;
		}
		memcpy(dst, fr + off, c);
		sim_put_used(&rx, head, b == bad_at ? bad_used : c + (b == 0 ? 12 : 0));
	}
	sim_publish(&rx);
}

static bool c_receive_gso(void *ctx, const struct vnet_rx *r)
{
	(void)ctx;
	received++;
	uint32_t off = 0;
	for (unsigned i = 0; i < r->npieces; i++) {
		const struct vnet_rx_piece *pc = &r->piece[i];
		CHECK(pc->data >= (uint8_t *)pc->buf + VNET_RX_CLIENT);
		CHECK(pc->data + pc->len <= (uint8_t *)pc->buf + VNET_RX_BUF_BYTES);
		memcpy(gso_seen + off, pc->data, pc->len);
		off += pc->len;
		if (keep_buffers && nheld < MAX_HELD)
			held[nheld++] = pc->buf;
	}
	CHECK(off == r->len && r->piece[0].buf == r->buf && r->piece[0].data == r->frame);
	CHECK(r->frame == (uint8_t *)r->buf + VNET_RX_FRAME_OFF);
	last_len = r->len;
	last_csum_valid = r->csum_valid;
	gso_pieces = r->npieces;
	gso_seen_flag = r->gso;
	return keep_buffers;
}

static const struct vnet_client gso_client = {c_wake, c_receive_gso, c_sent};

static void all_buffers_back(void)
{
	unsigned posted, free_;
	unsigned total = vnet_rx_buffers(n, &posted, &free_);
	CHECK_MSG(posted + free_ + nheld == total, "posted %u free %u held %u", posted, free_,
	          nheld);
}

static void test_receive_gso(void)
{
	setup(true, all_offers | F(VIRTIO_NET_F_GUEST_TSO6));
	CHECK(vnet_attach(n, &gso_client, &f) == 0);
	const struct vnet_stats *st = vnet_stats(n);
	/* the longest: a 65535-byte IPv4 datagram in 34 buffers */
	uint32_t len = VNET_RX_GSO_MAX;
	tcp_frame(gso_frame, len, false);
	uint16_t nb = gso_bufs(len);
	CHECK(nb == VNET_RX_MAX_PIECES);
	struct virtio_net_hdr h = vnet_gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, nb);
	dev_rx_span(&h, gso_frame, len, 0, nb, ~0u, 0);
	CHECK(vnet_poll_rx(n, 64) == nb && received == 1 && gso_pieces == nb);
	CHECK(last_len == len && memcmp(gso_seen, gso_frame, len) == 0);
	CHECK(gso_seen_flag && last_csum_valid && st->rx_gso == 1 && st->rx_frames == 1);
	CHECK(st->rx_csum_completed == 0); /* left partial: lwIP is told not to check */
	all_buffers_back();
	/* IPv6, its buffers over several polls and a budget smaller than the frame */
	len = 20000;
	tcp_frame(gso_frame, len, true);
	nb = gso_bufs(len);
	h = vnet_gso_hdr(VIRTIO_NET_HDR_GSO_TCPV6, nb);
	dev_rx_span(&h, gso_frame, len, 0, 3, ~0u, 0);
	CHECK(vnet_poll_rx(n, 64) == 3 && received == 1);
	dev_rx_span(&h, gso_frame, len, 3, nb, ~0u, 0);
	CHECK(vnet_poll_rx(n, 4) == 4 && received == 1);
	CHECK(vnet_poll_rx(n, 64) == nb - 7 && received == 2 && gso_pieces == nb);
	CHECK(last_len == len && memcmp(gso_seen, gso_frame, len) == 0 && st->rx_gso == 2);
	/* kept by the client: every piece held, given back one by one */
	keep_buffers = true;
	len = 5000;
	tcp_frame(gso_frame, len, false);
	h = vnet_gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, gso_bufs(len));
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	dev_rx_span(&h, gso_frame, len, 0, gso_bufs(len), ~0u, 0);
	CHECK(vnet_poll_rx(n, 64) == 3 && received == 3 && nheld == 3 && st->rx_csum_valid == 1);
	all_buffers_back();
	release_all();
	keep_buffers = false;
	/* a small one in one buffer is a large segment all the same */
	tcp_frame(gso_frame, 1800, false);
	h = vnet_gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1);
	dev_rx_span(&h, gso_frame, 1800, 0, 1, ~0u, 0);
	CHECK(vnet_poll_rx(n, 64) == 1 && received == 4 && gso_pieces == 1 && st->rx_gso == 4);
	CHECK(st->rx_bad_header == 0 && st->rx_oversized == 0 && st->rx_truncated == 0);
	all_buffers_back();
}

/* A bad buffer of a large segment drops all of it; the frame after it is whole. */
static void test_receive_gso_drops(void)
{
	setup(true, all_offers);
	CHECK(vnet_attach(n, &gso_client, &f) == 0);
	const struct vnet_stats *st = vnet_stats(n);
	uint32_t len = 30000;
	tcp_frame(gso_frame, len, false);
	uint16_t nb = gso_bufs(len);
	struct virtio_net_hdr h = vnet_gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, nb);
	/* an empty buffer in the middle: truncated; the rest of the frame skipped */
	dev_rx_span(&h, gso_frame, len, 0, nb, 5, 0);
	CHECK(vnet_poll_rx(n, 64) == nb && received == 0 && st->rx_truncated == 1);
	all_buffers_back();
	/* one more buffer than the frame needs, all full: longer than any IP datagram */
	tcp_frame(gso_frame, VNET_RX_GSO_MAX + GSO_MORE, false);
	h = vnet_gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, VNET_RX_MAX_PIECES);
	dev_rx_span(&h, gso_frame, VNET_RX_GSO_MAX + 1000, 0, VNET_RX_MAX_PIECES, ~0u, 0);
	CHECK(vnet_poll_rx(n, 64) == VNET_RX_MAX_PIECES && received == 0);
	CHECK(st->rx_oversized == 1);
	/* more buffers than the longest segment takes: dropped whole as they come */
	h.num_buffers = VNET_RX_MAX_PIECES + 1;
	dev_rx_span(&h, gso_frame, VNET_RX_GSO_MAX, 0, VNET_RX_MAX_PIECES + 1, ~0u, 0);
	CHECK(vnet_poll_rx(n, 64) == VNET_RX_MAX_PIECES + 1 && received == 0);
	CHECK(st->rx_oversized == 2);
	/* more than the device holds: a bad header, nothing after it skipped */
	h.num_buffers = 300;
	dev_rx_span(&h, gso_frame, 1000, 0, 1, ~0u, 0);
	/* and a good one after all that */
	tcp_frame(gso_frame, len, false);
	h = vnet_gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, nb);
	dev_rx_span(&h, gso_frame, len, 0, nb, ~0u, 0);
	CHECK(vnet_poll_rx(n, 64) == 1 + nb && received == 1 && st->rx_bad_header == 1);
	CHECK(last_len == len && memcmp(gso_seen, gso_frame, len) == 0);
	all_buffers_back();
	/* a reset with a frame half gathered: its buffers come back */
	dev_rx_span(&h, gso_frame, len, 0, 4, ~0u, 0);
	CHECK(vnet_poll_rx(n, 64) == 4 && received == 1);
	f.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	f.isr = VIRTIO_ISR_CONFIG;
	f.handler(&f.dev, 0);
	CHECK(vnet_check(n) == 0);
	all_buffers_back();
	sim_attach(&rx, &f, VIRTIO_NET_RXQ);
	dev_rx_span(&h, gso_frame, len, 0, nb, ~0u, 0);
	CHECK(vnet_poll_rx(n, 64) == nb && received == 2 && last_len == len);
	all_buffers_back();
}

/* An IPv4/UDP frame whose checksum field holds only the pseudo-header sum. */
static uint32_t udp_partial(uint8_t *fr, uint16_t payload, uint16_t *field)
{
	memset(fr, 0, 64);
	fr[12] = 0x08;
	uint8_t *ip = fr + 14, *udp = ip + 20;
	uint16_t ulen = (uint16_t)(8 + payload);
	ip[0] = 0x45;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\x00\x02\x02\x0a\x00\x02\x0f", 8);
	udp[0] = 0x12, udp[1] = 0x34, udp[2] = 0x00, udp[3] = 0x35;
	udp[4] = (uint8_t)(ulen >> 8), udp[5] = (uint8_t)ulen;
	for (int i = 0; i < payload; i++)
		udp[8 + i] = (uint8_t)(i * 13 + 5);
	uint32_t ps = vnet_csum_add(0, ip + 12, 8) + 17 + ulen;
	uint16_t partial = vnet_csum_fold(ps);
	udp[6] = (uint8_t)(partial >> 8), udp[7] = (uint8_t)partial;
	*field = 14 + 20 + 6;
	return 14 + 20 + ulen;
}

/* A full check as a receiver does it: the pseudo-header plus the datagram sums to 0xffff. */
static bool udp_ok(const uint8_t *fr)
{
	const uint8_t *ip = fr + 14, *udp = ip + 20;
	uint16_t ulen = (uint16_t)(udp[4] << 8 | udp[5]);
	uint32_t s = vnet_csum_add(0, ip + 12, 8) + 17 + ulen;
	s = vnet_csum_add(s, udp, ulen);
	return vnet_csum_fold(s) == 0xffff;
}

static void test_checksums(void)
{
	for (int negotiated = 1; negotiated >= 0; negotiated--) {
		setup(true, all_offers & ~(negotiated ? 0 : F(VIRTIO_NET_F_GUEST_CSUM)));
		CHECK(vnet_attach(n, &client, &f) == 0);
		const struct vnet_stats *st = vnet_stats(n);
		uint8_t fr[1600];
		uint16_t field;
		for (uint16_t pl = 0; pl < 40; pl++) {
			uint32_t len = udp_partial(fr, pl, &field);
			CHECK(!udp_ok(fr) || pl == 0);
			struct virtio_net_hdr h = plain_hdr();
			h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h.csum_start = 34;
			h.csum_offset = 6;
			CHECK(dev_rx(&h, 12, fr, len, -1, true));
			CHECK(vnet_poll_rx(n, 8) == 1 && last_len == len);
			CHECK_MSG(udp_ok(last_frame), "payload %u", pl);
			CHECK(last_csum_valid && last_frame[field] | last_frame[field + 1]);
		}
		CHECK(st->rx_csum_completed == 40);
		CHECK(st->rx_csum_unasked == (negotiated ? 0u : 40u));
		/* DATA_VALID counts only with GUEST_CSUM */
		struct virtio_net_hdr h = plain_hdr();
		h.flags = VIRTIO_NET_HDR_F_DATA_VALID | 0x80; /* and an unknown flag: ignored */
		CHECK(dev_rx(&h, 12, fr, 80, -1, true));
		CHECK(vnet_poll_rx(n, 8) == 1 && last_csum_valid == (negotiated == 1));
		CHECK(st->rx_csum_valid == (negotiated ? 1u : 0u));
	}
}

static void test_checksum_function(void)
{
	/* RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
	const uint8_t ex[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	CHECK(vnet_csum_fold(vnet_csum_add(0, ex, 8)) == 0xddf2);
	CHECK(vnet_csum_fold(vnet_csum_add(0, ex, 7)) == 0xddf2 - 0xf7 + 0 ||
	      vnet_csum_fold(vnet_csum_add(0, ex, 7)) == vnet_csum_fold(0xddf2 - 0xf7));
	uint8_t big[70000];
	memset(big, 0xff, sizeof(big));
	CHECK(vnet_csum_fold(vnet_csum_add(0, big, sizeof(big))) == 0xffff);
	CHECK(vnet_csum_fold(vnet_csum_add(0, big, 0)) == 0);
}

static void test_legacy(void)
{
	/* legacy, no MRG_RXBUF: a 10-byte header in a descriptor of its own */
	setup(false, all_offers & ~F(VIRTIO_NET_F_MRG_RXBUF));
	CHECK(vnet_attach(n, &client, &f) == 0);
	uint8_t fr[200];
	frame_fill(fr, sizeof(fr), 9);
	struct virtio_net_hdr h = {0};
	CHECK(dev_rx(&h, 10, fr, 200, -1, true));
	CHECK(rx_pieces_seen == 2 && rx_first_piece_len == 10);
	CHECK(vnet_poll_rx(n, 8) == 1 && last_len == 200 && memcmp(last_frame, fr, 200) == 0);
	/* transmit: a 10-byte header */
	struct virtq_sg sg = {fr, 100};
	struct vnet_tx t = {
	    .sg = &sg, .nsg = 1, .csum_start = VNET_NO_CSUM, .csum_offset = 0, .token = fr};
	CHECK(vnet_transmit(n, &t) == 0);
	struct virtio_net_hdr th;
	uint8_t out[2048];
	CHECK(dev_tx(&th, 10, out, true) == 100 && memcmp(out, fr, 100) == 0);
	/* legacy with MRG_RXBUF: 12 bytes */
	setup(false, all_offers);
	CHECK(vnet_attach(n, &client, &f) == 0);
	h = plain_hdr();
	CHECK(dev_rx(&h, 12, fr, 200, -1, true));
	CHECK(rx_first_piece_len == 12 && vnet_poll_rx(n, 8) == 1 && last_len == 200);
}

static void test_refill_and_starvation(void)
{
	setup(true, all_offers);
	CHECK(vnet_attach(n, &client, &f) == 0);
	uint8_t fr[100];
	frame_fill(fr, sizeof(fr), 4);
	struct virtio_net_hdr h = plain_hdr();
	const struct virtq_stats *qs = &f.dev.queues[0]->stats;
	uint64_t decisions = qs->kicks + qs->kicks_suppressed;
	unsigned posted, free_;
	/* buffers used and not kept: reposted in batches of 16, one notification each */
	for (int i = 0; i < 10; i++) {
		CHECK(dev_rx(&h, 12, fr, 100, -1, true));
		CHECK(vnet_poll_rx(n, 64) == 1);
	}
	vnet_rx_buffers(n, &posted, &free_);
	CHECK(posted == 246 && free_ == 10 && qs->kicks + qs->kicks_suppressed == decisions);
	for (int i = 0; i < 6; i++)
		CHECK(dev_rx(&h, 12, fr, 100, -1, true));
	CHECK(vnet_poll_rx(n, 64) == 6);
	vnet_rx_buffers(n, &posted, &free_);
	/* one batch, one notification decision (EVENT_IDX may suppress it) */
	CHECK(posted == 256 && free_ == 0 && qs->kicks + qs->kicks_suppressed == decisions + 1);
	/* the client keeps everything: the ring runs dry, the device has nowhere to write */
	keep_buffers = true;
	unsigned got = 0;
	while (dev_rx(&h, 12, fr, 100, -1, true))
		got += (unsigned)vnet_poll_rx(n, 64);
	CHECK(got == 256 && nheld == 256);
	vnet_rx_buffers(n, &posted, &free_);
	CHECK(posted == 0 && free_ == 0);
	CHECK(vnet_poll_rx(n, 64) == 0 && vnet_stats(n)->rx_starved >= 1);
	/* giving buffers back wakes the client while the ring is low; its poll refills */
	keep_buffers = false;
	unsigned w = wakes;
	release_all();
	CHECK(wakes > w);
	vnet_poll_rx(n, 64);
	vnet_rx_buffers(n, &posted, &free_);
	CHECK(posted == 256 && free_ == 0);
	CHECK(dev_rx(&h, 12, fr, 100, -1, true) && vnet_poll_rx(n, 64) == 1);
}

static void test_transmit(void)
{
	setup(true, all_offers);
	CHECK(vnet_attach(n, &client, &f) == 0);
	uint8_t a[60], b[1000], c[400], out[2048];
	frame_fill(a, sizeof(a), 1);
	frame_fill(b, sizeof(b), 2);
	frame_fill(c, sizeof(c), 3);
	struct virtq_sg sg[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
	struct vnet_tx t = {
	    .sg = sg, .nsg = 3, .csum_start = VNET_NO_CSUM, .csum_offset = 0, .token = a};
	struct virtio_net_hdr h;
	CHECK(vnet_transmit(n, &t) == 0);
	CHECK(dev_tx(&h, 12, out, true) == 1460);
	CHECK(memcmp(out, a, 60) == 0 && memcmp(out + 60, b, 1000) == 0);
	CHECK(memcmp(out + 1060, c, 400) == 0);
	CHECK(h.flags == 0 && h.gso_type == 0 && h.num_buffers == 0);
	CHECK(sent_count == 0);
	vnet_reap_tx(n);
	CHECK(sent_count == 1 && sent_tokens[0] == a);
	/* a partial checksum for the device to complete */
	t = (struct vnet_tx){.sg = sg, .nsg = 1, .csum_start = 34, .csum_offset = 6, .token = b};
	CHECK(vnet_transmit(n, &t) == 0 && dev_tx(&h, 12, out, true) == 60);
	CHECK(h.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && h.csum_start == 34 && h.csum_offset == 6);
	/* refused: checksum field outside, too long, too short, too many pieces, no token */
	t.csum_start = 50;
	t.csum_offset = 9;
	CHECK(vnet_transmit(n, &t) == -EINVAL);
	struct virtq_sg many[VNET_TX_MAX_SG + 1];
	for (int i = 0; i <= VNET_TX_MAX_SG; i++)
		many[i] = (struct virtq_sg){a, 20};
	t = (struct vnet_tx){.sg = many,
	                     .nsg = VNET_TX_MAX_SG + 1,
	                     .csum_start = VNET_NO_CSUM,
	                     .csum_offset = 0,
	                     .token = a};
	CHECK(vnet_transmit(n, &t) == -EINVAL);
	struct virtq_sg big[2] = {{b, 1000}, {b, 519}};
	t = (struct vnet_tx){
	    .sg = big, .nsg = 2, .csum_start = VNET_NO_CSUM, .csum_offset = 0, .token = a};
	CHECK(vnet_transmit(n, &t) == -EMSGSIZE);
	t = (struct vnet_tx){
	    .sg = sg, .nsg = 1, .csum_start = VNET_NO_CSUM, .csum_offset = 0, .token = NULL};
	CHECK(vnet_transmit(n, &t) == -EINVAL);
	CHECK(vnet_stats(n)->tx_bad == 4 && vnet_stats(n)->tx_frames == 2);
	/* the device stops consuming: the ring fills, then transmits are refused, not waited on */
	unsigned ok = 0;
	t = (struct vnet_tx){
	    .sg = sg, .nsg = 2, .csum_start = VNET_NO_CSUM, .csum_offset = 0, .token = c};
	while (vnet_transmit(n, &t) == 0)
		ok++;
	CHECK(ok == 256 && vnet_stats(n)->tx_ring_full >= 1);
	/* it catches up: the next transmit reaps what completed, then goes out */
	for (int i = 0; i < 10; i++)
		CHECK(dev_tx(&h, 12, out, true) == 1060);
	unsigned before = sent_count;
	CHECK(vnet_transmit(n, &t) == 0 && sent_count == before + 10);
	/* without CSUM negotiated, a checksum request is refused */
	setup(true, all_offers & ~F(VIRTIO_NET_F_CSUM));
	CHECK(vnet_attach(n, &client, &f) == 0);
	t = (struct vnet_tx){.sg = sg, .nsg = 1, .csum_start = 34, .csum_offset = 6, .token = a};
	CHECK(vnet_transmit(n, &t) == -EINVAL);
}

/* §5.1.6.2: a frame for the device to segment, only of a kind negotiated (HOST_TSO4 here). */
static void test_transmit_tso(void)
{
	bool v4, v6;
	setup(true, all_offers | F(VIRTIO_NET_F_HOST_TSO4));
	CHECK(f.accepted & F(VIRTIO_NET_F_HOST_TSO4));
	vnet_tx_tso(n, &v4, &v6);
	CHECK(v4 && !v6);
	CHECK(vnet_attach(n, &client, &f) == 0);
	static uint8_t hdr[54], pay[1000], out[4096];
	frame_fill(hdr, sizeof(hdr), 4);
	frame_fill(pay, sizeof(pay), 5);
	struct virtq_sg sg[4] = {{hdr, 54}, {pay, 1000}, {pay, 1000}, {pay, 500}};
	struct vnet_tx t = {.sg = sg,
	                    .nsg = 4,
	                    .csum_start = 34,
	                    .csum_offset = 16,
	                    .token = hdr,
	                    .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
	                    .gso_size = 1000,
	                    .hdr_len = 54};
	struct virtio_net_hdr h;
	CHECK(vnet_transmit(n, &t) == 0 && dev_tx(&h, 12, out, true) == 2554);
	CHECK(h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && h.gso_size == 1000 && h.hdr_len == 54);
	CHECK(h.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && h.csum_start == 34 && h.csum_offset == 16);
	CHECK(memcmp(out + 54 + 1000, pay, 1000) == 0 && vnet_stats(n)->tx_gso == 1);
	/* refused: IPv6 (not negotiated), no partial checksum, no gso_size, the checksum
	 * outside the repeated headers */
	t.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	CHECK(vnet_transmit(n, &t) == -EINVAL);
	t.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	t.csum_start = VNET_NO_CSUM;
	CHECK(vnet_transmit(n, &t) == -EINVAL);
	t.csum_start = 34;
	t.gso_size = 0;
	CHECK(vnet_transmit(n, &t) == -EINVAL);
	t.gso_size = 1000;
	t.hdr_len = 34;
	CHECK(vnet_transmit(n, &t) == -EINVAL);
	/* HOST_TSO4 offered without CSUM is not heeded (§5.1.3.1) */
	setup(true, (all_offers | F(VIRTIO_NET_F_HOST_TSO4)) & ~F(VIRTIO_NET_F_CSUM));
	vnet_tx_tso(n, &v4, &v6);
	CHECK(!v4 && !v6);
}

static void test_tx_interrupt(void)
{
	setup(true, all_offers);
	CHECK(vnet_attach(n, &client, &f) == 0);
	uint8_t a[64], out[2048];
	struct virtq_sg sg = {a, sizeof(a)};
	struct vnet_tx t = {
	    .sg = &sg, .nsg = 1, .csum_start = VNET_NO_CSUM, .csum_offset = 0, .token = a};
	struct virtio_net_hdr h;
	for (int i = 0; i < 8; i++)
		CHECK(vnet_transmit(n, &t) == 0);
	/* the device finishes them all: it raises an interrupt for the transmit queue */
	unsigned irq_before = tx.interrupts;
	for (int i = 0; i < 8; i++)
		dev_tx(&h, 12, out, true);
	CHECK(tx.interrupts > irq_before);
	f.isr = VIRTIO_ISR_QUEUE;
	unsigned w = wakes;
	f.handler(&f.dev, 0);
	CHECK(wakes == w + 1);
	vnet_reap_tx(n);
	CHECK(sent_count == 8);
}

static void test_link_and_control(void)
{
	setup(true, all_offers);
	CHECK(vnet_attach(n, &client, &f) == 0);
	CHECK(vnet_link_up(n) && !vnet_config_event(n) && !vnet_announce_wanted(n));
	f.config[6] = 0; /* link down, then the configuration interrupt */
	f.isr = VIRTIO_ISR_CONFIG;
	unsigned w = wakes;
	f.handler(&f.dev, 0);
	CHECK(wakes == w + 1 && vnet_config_event(n) && !vnet_config_event(n));
	CHECK(!vnet_link_up(n));
	f.config[6] = VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE;
	CHECK(vnet_link_up(n) && vnet_announce_wanted(n));
	CHECK(vnet_announce_done(n) == 0 && ctl_cmds == 1 && ctl_last_class == 3);
	CHECK(vnet_announce_done(n) == 0 && ctl_cmds == 2);
	/* a device that never answers: a bounded wait, then the control queue is left alone */
	ctl_silent = true;
	CHECK(vnet_announce_done(n) == -ETIMEDOUT);
	CHECK(vnet_announce_done(n) == -ENOTSUP);
	/* GUEST_ANNOUNCE without CTRL_VQ is not heeded */
	setup(true, all_offers & ~F(VIRTIO_NET_F_CTRL_VQ));
	f.config[6] = VIRTIO_NET_S_LINK_UP | VIRTIO_NET_S_ANNOUNCE;
	CHECK(!vnet_announce_wanted(n) && vnet_announce_done(n) == -ENOTSUP);
	CHECK(!f.enabled[2]);
}

static void test_reset_recovery(void)
{
	setup(true, all_offers);
	CHECK(vnet_attach(n, &client, &f) == 0);
	uint8_t fr[100], out[2048];
	frame_fill(fr, sizeof(fr), 5);
	struct virtio_net_hdr h = plain_hdr();
	keep_buffers = true;
	for (int i = 0; i < 5; i++)
		CHECK(dev_rx(&h, 12, fr, 100, -1, true));
	CHECK(vnet_poll_rx(n, 64) == 5 && nheld == 5);
	struct virtq_sg sg = {fr, 100};
	struct vnet_tx t = {
	    .sg = &sg, .nsg = 1, .csum_start = VNET_NO_CSUM, .csum_offset = 0, .token = fr};
	CHECK(vnet_transmit(n, &t) == 0 && vnet_transmit(n, &t) == 0);
	/* DEVICE_NEEDS_RESET: the frames in flight come back as sent, the ring is refilled */
	f.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	f.isr = VIRTIO_ISR_CONFIG;
	f.handler(&f.dev, 0);
	CHECK(vnet_check(n) == 0 && f.dev.resets == 1 && vnet_stats(n)->resets == 1);
	CHECK(sent_count == 2 && f.dev.driver_data == n && vnet_at(vnet_count() - 1) == n);
	unsigned posted, free_;
	vnet_rx_buffers(n, &posted, &free_);
	CHECK(posted == 251 && free_ == 0); /* five still held by the client */
	sim_attach(&rx, &f, VIRTIO_NET_RXQ);
	sim_attach(&tx, &f, VIRTIO_NET_TXQ);
	CHECK(rx.avail->idx == 251);
	keep_buffers = false;
	release_all();
	CHECK(dev_rx(&h, 12, fr, 100, -1, true) && vnet_poll_rx(n, 64) == 1);
	CHECK(received == 6 && memcmp(last_frame, fr, 100) == 0);
	CHECK(vnet_transmit(n, &t) == 0);
	struct virtio_net_hdr th;
	CHECK(dev_tx(&th, 12, out, true) == 100);

	/* a device that misbehaves (a used id it was never given) is failed; its frames return */
	vnet_reap_tx(n);
	unsigned s = sent_count;
	CHECK(vnet_transmit(n, &t) == 0 && vnet_transmit(n, &t) == 0);
	sim_put_used(&tx, 200, 0);
	sim_publish(&tx);
	vnet_reap_tx(n);
	CHECK(f.dev.broken && sent_count == s);
	CHECK(vnet_check(n) == -EIO && sent_count == s + 2);
	CHECK(vnet_transmit(n, &t) == -EIO && vnet_poll_rx(n, 64) == 0);
	vnet_rx_buffers(n, &posted, &free_);
	CHECK(posted == 0 && free_ == 256); /* every buffer is back */
}

int main(void)
{
	test_checksum_function();
	test_negotiation();
	test_negotiation_gso();
	test_receive();
	test_receive_drops();
	test_receive_gso();
	test_receive_gso_drops();
	test_checksums();
	test_legacy();
	test_refill_and_starvation();
	test_transmit();
	test_transmit_tso();
	test_tx_interrupt();
	test_link_and_control();
	test_reset_recovery();
	return check_report("vnet");
}
