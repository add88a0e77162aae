/*
 * libFuzzer target: arbitrary Ethernet frames through the netif's receive
 * path (net/frame.c) into lwIP, built for the host with NO_SYS=1 and the
 * image's lwipopts.h, with memp pools on malloc so AddressSanitizer sees
 * every pbuf and pool element.
 *
 * The stack is set up to be reachable deep down: en0 is 10.0.2.15/24 with
 * an IPv6 link-local address and SLAAC on, a TCP server on port 80 echoes
 * what it receives, a UDP echo on port 7, a raw ICMP PCB, and the loopback
 * netif. Every frame sits in a driver-like 2 KiB buffer wrapped as a custom
 * pbuf (or is copied, as the netif does for small frames), with or without
 * "checksum known good"; a fuzz flag can also fix up the IPv4 header and
 * transport checksums so the fuzzer gets past them, and time advances by
 * fuzzed steps with lwIP's timers running.
 *
 * Input: byte 0 chooses the netif (bit 0: the device completes TCP
 * checksums; bit 1: frames that could be large TCP segments arrive as
 * virtio-net GUEST_TSO4/6 delivers them, in driver-sized pieces, through
 * net_rx_wrap_segment / net_rx_copy_segment and net_rx_input_segment),
 * then records of [flags, length (2 bytes), frame bytes].
 *
 * Every frame, received or transmitted, also goes through net/tso.c's
 * coalescing (a run across the input's frames, finished when one does not
 * join), whose parse must stay inside the frame and whose runs must stay
 * within an IP datagram.
 *
 * Checked: whatever lwIP transmits goes through net_tx_csum_partial and
 * net_tx_pieces, and with offload the checksum the device would complete is
 * correct; after each input, once connections are aborted and the timers
 * have run out, every receive buffer has been given back and pbufs, the
 * heap and every pool but MLD groups (SLAAC addresses keep theirs) are back
 * at their baseline.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/memp.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/raw.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif/ethernet.h"

#include "net.h"
#include "tso.h"
#include "../../virtio/virtio.h"

#define BUF_BYTES 2048
#define FRAME_OFF 78 /* where the driver puts frames (VNET_RX_FRAME_OFF) */

static uint32_t now_ms;
static long buffers_out; /* receive buffers lwIP holds */
static struct netif en0;
static bool ready;
static bool gso_mode;                                           /* input byte 0, bit 1 */
static unsigned long sent_frames, sent_offloaded, echoed_bytes; /* FUZZ_NET_VERBOSE=1 prints */

u32_t sys_now(void)
{
	return now_ms;
}

uint32_t net_rand(void)
{
	static uint32_t x = 12345;
	x = x * 1103515245u + 12345u;
	return x;
}

u32_t net_tcp_isn(const ip_addr_t *l, u16_t lp, const ip_addr_t *r, u16_t rp)
{
	(void)l, (void)r;
	return (uint32_t)lp << 16 ^ rp; /* predictable, so the seeds (net_seeds.py) can answer */
}

/* ---- checksums, as a receiver verifies them ---- */

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Pseudo header + transport bytes of a plain IPv4/IPv6 TCP or UDP frame; false if not one. */
static bool l4_sum(const uint8_t *f, size_t len, uint32_t *sum, size_t *l4, uint8_t *proto)
{
	if (len < 14)
		return false;
	uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
	const uint8_t *ip = f + 14;
	size_t end;
	uint32_t s;
	if (type == 0x0800 && len >= 34 && (ip[0] >> 4) == 4) {
		*l4 = 14 + (ip[0] & 15u) * 4;
		end = 14 + (size_t)(ip[2] << 8 | ip[3]);
		*proto = ip[9];
		s = sum16(0, ip + 12, 8);
	} else if (type == 0x86dd && len >= 54 && (ip[0] >> 4) == 6) {
		*l4 = 54;
		end = 54 + (size_t)(ip[4] << 8 | ip[5]);
		*proto = ip[6];
		s = sum16(0, ip + 8, 32);
	} else {
		return false;
	}
	if (end > len || *l4 > end || (*proto != 6 && *proto != 17))
		return false;
	*sum = s + *proto + (uint32_t)(end - *l4);
	*sum = sum16(*sum, f + *l4, end - *l4);
	return true;
}

/* The fuzzer's aid: valid IPv4 header and TCP/UDP checksums. */
static void fix_checksums(uint8_t *f, size_t len)
{
	if (len >= 34 && f[12] == 0x08 && f[13] == 0x00 && (f[14] >> 4) == 4) {
		size_t ihl = (f[14] & 15u) * 4;
		if (ihl >= 20 && 14 + ihl <= len) {
			f[24] = f[25] = 0;
			uint16_t c = (uint16_t)~fold(sum16(0, f + 14, ihl));
			f[24] = (uint8_t)(c >> 8), f[25] = (uint8_t)c;
		}
	}
	uint32_t s;
	size_t l4;
	uint8_t proto;
	size_t field = 0;
	if (!l4_sum(f, len, &s, &l4, &proto))
		return;
	field = l4 + (proto == 6 ? 16 : 6);
	if (field + 2 > len)
		return;
	f[field] = f[field + 1] = 0;
	l4_sum(f, len, &s, &l4, &proto);
	uint16_t c = (uint16_t)~fold(s);
	f[field] = (uint8_t)(c >> 8), f[field + 1] = (uint8_t)c;
}

/* ---- the netif ---- */

static struct net_tso_run tso_run;
static bool tso_live; /* tso_run holds a run */

static void tso_feed(const uint8_t *f, size_t len)
{
	struct net_tso_seg s;
	if (net_tso_parse(f, (uint32_t)len, (uint32_t)len, &s) != 0)
		return;
	if (s.hdr_len > NET_TSO_HDR_MAX || s.payload != len - s.hdr_len || s.payload == 0)
		abort();
	if (tso_live && net_tso_append(&tso_run, f, &s, 44)) {
		if (tso_run.bytes + tso_run.first.hdr_len - 14u > NET_TSO_BYTES ||
		    tso_run.count > 44)
			abort();
		return;
	}
	if (tso_live && tso_run.count > 1)
		net_tso_finish(&tso_run);
	net_tso_start(&tso_run, f, &s);
	tso_live = true;
}

static err_t linkoutput(struct netif *nif, struct pbuf *p)
{
	(void)nif;
	uint16_t start, off;
	struct pbuf *q = p->next ? pbuf_clone(PBUF_RAW, PBUF_RAM, p) : p;
	if (!q)
		return ERR_MEM;
	bool offload = !(en0.chksum_flags & NETIF_CHECKSUM_GEN_TCP);
	sent_frames++;
	if (offload && net_tx_csum_partial(q, &start, &off)) {
		sent_offloaded++;
		/* Complete as the device would (§5.1.6.2), then verify as a receiver would. */
		uint8_t *f = q->payload;
		uint16_t c = (uint16_t)~fold(sum16(0, f + start, q->len - start));
		f[start + off] = (uint8_t)(c >> 8), f[start + off + 1] = (uint8_t)c;
		uint32_t s;
		size_t l4;
		uint8_t proto;
		if (!l4_sum(f, q->len, &s, &l4, &proto) || fold(s) != 0xffff) {
			fprintf(stderr, "transmitted TCP segment with a bad checksum\n");
			abort();
		}
	}
	tso_feed(q->payload, q->len);
	struct virtq_sg sg[16];
	if (net_tx_pieces(q, sg, 16) < 1)
		abort(); /* lwIP's pbufs are host memory: always DMA-able in one piece here */
	if (q != p)
		pbuf_free(q);
	return ERR_OK;
}

static err_t en0_init(struct netif *nif)
{
	nif->name[0] = 'e';
	nif->name[1] = 'n';
	nif->output = etharp_output;
	nif->output_ip6 = ethip6_output;
	nif->linkoutput = linkoutput;
	nif->mtu = 1500;
	nif->hwaddr_len = 6;
	memcpy(nif->hwaddr, "\x52\x54\x00\x12\x34\x56", 6);
	nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
	             NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
	return ERR_OK;
}

/* ---- the services ---- */

static err_t tcp_echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg, (void)err;
	if (!p) {
		tcp_close(pcb);
		return ERR_OK;
	}
	for (struct pbuf *q = p; q; q = q->next)
		tcp_write(pcb, q->payload, q->len, TCP_WRITE_FLAG_COPY);
	tcp_recved(pcb, p->tot_len);
	echoed_bytes += p->tot_len;
	pbuf_free(p);
	tcp_output(pcb);
	return ERR_OK;
}

static err_t tcp_echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	tcp_recv(pcb, tcp_echo_recv);
	return ERR_OK;
}

static void udp_echo(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                     u16_t port)
{
	(void)arg;
	udp_sendto(pcb, p, addr, port);
	pbuf_free(p);
}

static u8_t raw_icmp(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
	(void)arg, (void)pcb, (void)addr, (void)p;
	return 0; /* not eaten: lwIP's ICMP goes on with it */
}

static void setup(void)
{
	lwip_init();
	ip4_addr_t a, m, g;
	IP4_ADDR(&a, 10, 0, 2, 15);
	IP4_ADDR(&m, 255, 255, 255, 0);
	IP4_ADDR(&g, 10, 0, 2, 2);
	netif_add(&en0, &a, &m, &g, NULL, en0_init, ethernet_input);
	netif_create_ip6_linklocal_address(&en0, 1);
	netif_set_ip6_autoconfig_enabled(&en0, 1);
	netif_set_default(&en0);
	netif_set_up(&en0);
	netif_set_link_up(&en0);
	struct tcp_pcb *l = tcp_new_ip_type(IPADDR_TYPE_ANY);
	tcp_bind(l, IP_ANY_TYPE, 80);
	l = tcp_listen(l);
	tcp_accept(l, tcp_echo_accept);
	struct udp_pcb *u = udp_new_ip_type(IPADDR_TYPE_ANY);
	udp_bind(u, IP_ANY_TYPE, 7);
	udp_recv(u, udp_echo, NULL);
	struct raw_pcb *r = raw_new(IP_PROTO_ICMP);
	raw_recv(r, raw_icmp, NULL);
	ready = true;
}

/* ---- frames in ---- */

static void release(void *owner, void *buf)
{
	(void)owner;
	free(buf);
	buffers_out--;
}

/* What virtio/net_hdr.c lets through as a large segment's first buffer: every header there. */
static bool segment_like(const uint8_t *f, size_t len)
{
	if (len >= 54 && f[12] == 0x08 && f[13] == 0x00 && (f[14] >> 4) == 4)
		return true;
	return len >= 74 && f[12] == 0x86 && f[13] == 0xdd && (f[14] >> 4) == 6;
}

/* A large segment over buffers as the driver gathers them: 1970 bytes in the first, 1982 on. */
static void deliver_segment(const uint8_t *data, size_t len, uint8_t flags)
{
	static uint8_t whole[VNET_RX_GSO_MAX];
	memcpy(whole, data, len);
	if (flags & 4)
		fix_checksums(whole, len);
	struct vnet_rx_piece pc[VNET_RX_MAX_PIECES];
	unsigned n = 0;
	for (size_t off = 0; off < len; n++) {
		size_t at = n == 0 ? FRAME_OFF : FRAME_OFF - 12, c = BUF_BYTES - at;
		c = c < len - off ? c : len - off;
		uint8_t *buf = malloc(BUF_BYTES);
		memcpy(buf + at, whole + off, c);
		pc[n] = (struct vnet_rx_piece){buf, buf + at, (uint32_t)c};
		off += c;
	}
	struct pbuf *p;
	if (flags & 1) {
		p = net_rx_copy_segment(pc, n, (uint32_t)len);
	} else {
		p = net_rx_wrap_segment(pc, n, release, NULL);
		buffers_out += n;
	}
	if (p)
		net_rx_input_segment(&en0, p, pc[0].data, pc[0].len, flags & 2);
	for (unsigned i = 0; flags & 1 && i < n; i++)
		free(pc[i].buf); /* copied: the driver has them back once the frame is in */
	netif_poll_all();
}

static void deliver(const uint8_t *data, size_t len, uint8_t flags)
{
	if (gso_mode && segment_like(data, len)) {
		deliver_segment(data, len, flags);
		return;
	}
	if (len > BUF_BYTES - FRAME_OFF)
		len = BUF_BYTES - FRAME_OFF;
	uint8_t *buf = malloc(BUF_BYTES);
	memcpy(buf + FRAME_OFF, data, len);
	if (flags & 4)
		fix_checksums(buf + FRAME_OFF, len);
	tso_feed(buf + FRAME_OFF, len);
	struct pbuf *p;
	if (flags & 1) {
		p = net_rx_copy(buf + FRAME_OFF, (uint16_t)len);
		free(buf);
	} else {
		p = net_rx_wrap(buf, buf + FRAME_OFF, (uint16_t)len, release, NULL);
		if (p)
			buffers_out++;
		else
			free(buf);
	}
	if (p)
		net_rx_input(&en0, p, flags & 2);
	netif_poll_all();
}

static void advance(uint32_t ms)
{
	for (uint32_t t = 0; t < ms; t += 100) {
		now_ms += 100;
		sys_check_timeouts();
		netif_poll_all();
	}
}

static bool at_baseline(void);

/* Everything an input left behind goes: connections aborted, timers run out. */
static void settle(void)
{
	while (tcp_active_pcbs)
		tcp_abort(tcp_active_pcbs);
	while (tcp_tw_pcbs)
		tcp_abort(tcp_tw_pcbs);
	/* Reassembly (IPv4 15 s, IPv6 60 s), ARP and neighbour resolution let go of pbufs. */
	for (int s = 0; s < 70 && !at_baseline(); s++) {
		now_ms += 1000;
		sys_check_timeouts();
		netif_poll_all();
	}
	/*
	 * Except for a router the input announced: lwIP keeps probing it, with the
	 * packets queued for it, for the router's lifetime (up to 18 hours), copies
	 * bounded by MEMP_NUM_ND6_QUEUE. Forget the neighbours, routers and prefixes.
	 */
	if (!at_baseline())
		nd6_cleanup_netif(&en0);
}

static uint32_t pool_used[MEMP_MAX];
static mem_size_t heap_used;

static void snapshot(void)
{
	for (int i = 0; i < MEMP_MAX; i++)
		pool_used[i] = lwip_stats.memp[i]->used;
	heap_used = lwip_stats.mem.used;
}

static bool at_baseline(void)
{
	for (int i = 0; i < MEMP_MAX; i++)
		if (i != MEMP_MLD6_GROUP && lwip_stats.memp[i]->used != pool_used[i])
			return false;
	return buffers_out == 0 && lwip_stats.mem.used == heap_used;
}

static void check_baseline(void)
{
	if (buffers_out != 0) {
		fprintf(stderr, "%ld receive buffers never given back\n", buffers_out);
		abort();
	}
	for (int i = 0; i < MEMP_MAX; i++) {
		if (i == MEMP_MLD6_GROUP)
			continue;
		if (lwip_stats.memp[i]->used != pool_used[i]) {
			fprintf(stderr, "pool %s: %u used, baseline %u\n", lwip_stats.memp[i]->name,
			        (unsigned)lwip_stats.memp[i]->used, (unsigned)pool_used[i]);
			abort();
		}
	}
	if (lwip_stats.mem.used != heap_used) {
		fprintf(stderr, "lwIP heap: %u bytes used, baseline %u\n",
		        (unsigned)lwip_stats.mem.used, (unsigned)heap_used);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready) {
		setup();
		advance(
		    5000); /* duplicate address detection: the link-local address becomes valid */
	}
	if (size < 1)
		return 0;
	NETIF_SET_CHECKSUM_CTRL(&en0, net_csum_flags(data[0] & 1));
	gso_mode = data[0] & 2;
	snapshot();
	tso_live = false;
	size_t i = 1;
	while (i + 3 <= size) {
		uint8_t flags = data[i];
		size_t len = (size_t)(data[i + 1] << 8 | data[i + 2]);
		i += 3;
		if (len > size - i)
			len = size - i;
		deliver(data + i, len, flags);
		i += len;
		if (flags >> 3)
			advance((uint32_t)(flags >> 3) * 100);
	}
	settle();
	check_baseline();
	if (getenv("FUZZ_NET_VERBOSE")) {
		fprintf(stderr, "sent %lu frames (%lu offloaded), echoed %lu bytes\n", sent_frames,
		        sent_offloaded, echoed_bytes);
		if (atoi(getenv("FUZZ_NET_VERBOSE")) > 1)
			stats_display();
		fprintf(stderr, "nd6 recv %u xmit %u drop %u, icmp6 recv %u drop %u, ip6 drop %u\n",
		        (unsigned)lwip_stats.nd6.recv, (unsigned)lwip_stats.nd6.xmit,
		        (unsigned)lwip_stats.nd6.drop, (unsigned)lwip_stats.icmp6.recv,
		        (unsigned)lwip_stats.icmp6.drop, (unsigned)lwip_stats.ip6.drop);
	}
	return 0;
}
