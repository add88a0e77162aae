/*
 * Frames between a NIC driver's buffers and lwIP, the portable part of the
 * netif (net/netif.c has the device side; the fuzzer runs this on the host).
 *
 * Receive. A frame stays in the driver's buffer: the buffer's first bytes
 * (the driver's client area) hold a struct pbuf_custom whose free function
 * gives the buffer back, so lwIP can keep it as long as it needs to without
 * a copy. Small frames, and any frame when the driver runs short of posted
 * buffers, are copied instead (netif.c decides). A large TCP segment
 * (virtio-net GUEST_TSO4/6: up to a 65535-byte datagram over several
 * buffers) is a chain of such pbufs, one per buffer, given to IP directly.
 *
 * Checksums (lwIP's per-netif control, LWIP_CHECKSUM_CTRL_PER_NETIF). The
 * transport checksum of a received frame is skipped only when the device
 * or driver vouched for it (virtio-net DATA_VALID, or a partial checksum
 * the driver completed) and the TCP/UDP header directly follows an
 * unfragmented IP header, so that what was vouched for is what lwIP would
 * have checked; everything else is checked in software. When the device
 * completes TCP checksums (VIRTIO_NET_F_CSUM), lwIP leaves TCP's to it:
 * net_tx_csum_partial puts the pseudo-header sum in the field (RFC 793
 * §3.1, RFC 8200 §8.1) and says where the device should finish. TCP is
 * never fragmented (its MSS fits the MTU); UDP may be, so UDP checksums are
 * always lwIP's own.
 */
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/ip6.h"
#include "lwip/prot/tcp.h"
#include "netif/ethernet.h"

#include "net.h"
#include "../virtio/virtio.h"
#ifndef NOOS_NET_HOST
#include "arch.h"
#endif

#define ETH_HLEN_    14 /* destination, source, EtherType */
#define IP4_HLEN_    20
#define IP6_HLEN_    40
#define TCP_CSUM_OFF 16 /* RFC 793 §3.1: the checksum's offset in the TCP header */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* ---- receive ---- */

static void rx_free(struct pbuf *p)
{
	struct net_rx_buf *b = (struct net_rx_buf *)p;
	b->release(b->owner, b);
}

struct pbuf *net_rx_wrap(void *buf, uint8_t *frame, uint16_t len,
                         void (*release)(void *owner, void *buf), void *owner)
{
	struct net_rx_buf *b = buf;
	b->pc.custom_free_function = rx_free;
	b->release = release;
	b->owner = owner;
	return pbuf_alloced_custom(PBUF_RAW, len, PBUF_REF, &b->pc, frame, len);
}

struct pbuf *net_rx_copy(const uint8_t *frame, uint16_t len)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, len, PBUF_POOL);
	if (p && p->next) { /* spread over pool pbufs: lwIP takes chains, but one piece is tidier */
		pbuf_free(p);
		p = NULL;
	}
	if (!p)
		p = pbuf_alloc(PBUF_RAW, len, PBUF_RAM);
	if (p)
		memcpy(p->payload, frame, len);
	return p;
}

/*
 * A large TCP segment: pbuf lengths are 16-bit, so the Ethernet header (in
 * the first piece, which holds every header: virtio/net_hdr.c checked)
 * is left out and the datagram goes to IP directly (net_rx_input_segment).
 * Wrapping cannot fail: each pbuf covers exactly the memory it is given.
 */
struct pbuf *net_rx_wrap_segment(const struct vnet_rx_piece *pc, unsigned n,
                                 void (*release)(void *owner, void *buf), void *owner)
{
	struct pbuf *chain = NULL;
	for (unsigned i = n; i-- > 0;) {
		uint32_t skip = i == 0 ? ETH_HLEN_ : 0;
		struct pbuf *p = net_rx_wrap(pc[i].buf, pc[i].data + skip,
		                             (uint16_t)(pc[i].len - skip), release, owner);
		if (chain)
			pbuf_cat(p, chain); /* p is one pbuf: its tot_len grows by the chain's */
		chain = p;
	}
	return chain;
}

struct pbuf *net_rx_copy_segment(const struct vnet_rx_piece *pc, unsigned n, uint32_t len)
{
	struct pbuf *p = pbuf_alloc(PBUF_RAW, (uint16_t)(len - ETH_HLEN_), PBUF_RAM);
	if (!p)
		return NULL;
	uint8_t *to = p->payload;
	for (unsigned i = 0; i < n; i++) {
		uint32_t skip = i == 0 ? ETH_HLEN_ : 0;
		memcpy(to, pc[i].data + skip, pc[i].len - skip);
		to += pc[i].len - skip;
	}
	return p;
}

/* Where the IPv4/IPv6 header starts and which transport follows it directly; 0: neither. */
static uint8_t l4_proto(const uint8_t *frame, uint32_t len, uint32_t *l4_off)
{
	if (len < ETH_HLEN_)
		return 0;
	uint16_t type = be16(frame + 12);
	const uint8_t *ip = frame + ETH_HLEN_;
	if (type == ETHTYPE_IP && len >= ETH_HLEN_ + IP4_HLEN_ && (ip[0] >> 4) == 4) {
		uint32_t ihl = (ip[0] & 0xfu) * 4u;
		bool fragment = (be16(ip + 6) & 0x3fff) != 0; /* MF or an offset (RFC 791 §3.1) */
		if (ihl < IP4_HLEN_ || fragment || len < ETH_HLEN_ + ihl)
			return 0;
		*l4_off = ETH_HLEN_ + ihl;
		return ip[9];
	}
	if (type == ETHTYPE_IPV6 && len >= ETH_HLEN_ + IP6_HLEN_ && (ip[0] >> 4) == 6) {
		*l4_off = ETH_HLEN_ + IP6_HLEN_;
		return ip[6]; /* Next Header: extension headers (fragments too) are not TCP/UDP */
	}
	return 0;
}

bool net_frame_l4_plain(const uint8_t *frame, uint32_t len)
{
	uint32_t off;
	uint8_t proto = l4_proto(frame, len, &off);
	return proto == IP_PROTO_TCP || proto == IP_PROTO_UDP;
}

uint16_t net_csum_flags(bool tcp_offload)
{
	if (!tcp_offload)
		return NETIF_CHECKSUM_ENABLE_ALL;
	/* Frames looped back to this netif carry the unfinished TCP checksum: not checked. */
	return NETIF_CHECKSUM_ENABLE_ALL & ~(NETIF_CHECKSUM_GEN_TCP | NETIF_CHECKSUM_CHECK_TCP);
}

/* Into lwIP by input(), the transport checksum checked unless trusted. */
static void rx_give(struct netif *nif, struct pbuf *p, bool trusted,
                    err_t (*input)(struct pbuf *, struct netif *))
{
	uint16_t base = nif->chksum_flags;
	uint16_t l4 = NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP;
	nif->chksum_flags = (uint16_t)(trusted ? base & ~l4 : base | l4);
	if (input(p, nif) != ERR_OK)
		pbuf_free(p);
	nif->chksum_flags = base;
}

void net_rx_input(struct netif *nif, struct pbuf *p, bool csum_valid)
{
	rx_give(nif, p, csum_valid && net_frame_l4_plain(p->payload, p->len), nif->input);
}

/*
 * ethernet_input would only strip the header and call ip_input: a large
 * segment is unicast TCP, nothing of ARP's. Its checksum cannot be checked
 * (a partial one holds the pseudo-header sum only), so one that is not
 * plain TCP (a fragment, another protocol) is checked and fails, dropped.
 */
void net_rx_input_segment(struct netif *nif, struct pbuf *p, const uint8_t *frame,
                          uint32_t first_len, bool csum_valid)
{
	uint32_t off;
	bool tcp = l4_proto(frame, first_len, &off) == IP_PROTO_TCP;
	rx_give(nif, p, csum_valid && tcp, ip_input);
}

/* ---- transmit ---- */

bool net_frame_is_tcp(const uint8_t *frame, uint32_t len)
{
	uint32_t off;
	return l4_proto(frame, len, &off) == IP_PROTO_TCP;
}

/* The pseudo-header sum (not inverted) of an IPv4 or IPv6 TCP segment of tcp_len bytes. */
static uint16_t pseudo_sum(const uint8_t *frame, uint32_t tcp_len)
{
	const uint8_t *ip = frame + ETH_HLEN_;
	uint32_t sum = IP_PROTO_TCP;
	unsigned alen = (ip[0] >> 4) == 4 ? 8 : 32;
	const uint8_t *addrs = alen == 8 ? ip + 12 : ip + 8; /* source then destination */
	for (unsigned i = 0; i < alen; i += 2)
		sum += be16(addrs + i);
	sum += tcp_len >> 16;
	sum += tcp_len & 0xffff;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The TCP segment's length from the IP header, and whether the frame holds it. */
static bool tcp_len(const uint8_t *frame, uint32_t tot, uint32_t off, uint32_t *len)
{
	const uint8_t *ip = frame + ETH_HLEN_;
	uint32_t ip_end =
	    (ip[0] >> 4) == 4 ? ETH_HLEN_ + be16(ip + 2) : ETH_HLEN_ + IP6_HLEN_ + be16(ip + 4);
	if (ip_end > tot || ip_end < off + TCP_HLEN)
		return false;
	*len = ip_end - off;
	return true;
}

bool net_tx_csum_partial(struct pbuf *p, uint16_t *start, uint16_t *offset)
{
	uint8_t *frame = p->payload;
	uint32_t off, len;
	if (l4_proto(frame, p->len, &off) != IP_PROTO_TCP || p->len < off + TCP_HLEN ||
	    !tcp_len(frame, p->tot_len, off, &len))
		return false;
	uint16_t sum = pseudo_sum(frame, len);
	frame[off + TCP_CSUM_OFF] = (uint8_t)(sum >> 8);
	frame[off + TCP_CSUM_OFF + 1] = (uint8_t)sum;
	*start = (uint16_t)off;
	*offset = TCP_CSUM_OFF;
	return true;
}

/*
 * DMA addresses: RAM is identity-mapped below ARCH_VM_BASE; above it (thread
 * stacks, vm reservations) only a page at a time is contiguous (rt.h
 * virt_to_phys). A piece inside one page is always fine.
 */
static bool dma_ok(const void *p, size_t len)
{
#if defined(ARCH_VM_BASE) && !defined(NOOS_NET_HOST)
	uintptr_t a = (uintptr_t)p;
	return a + len <= ARCH_VM_BASE || (len <= 4096 && (a >> 12) == ((a + len - 1) >> 12));
#else
	(void)p, (void)len;
	return true; /* all identity-mapped (or the host build: nothing is DMA) */
#endif
}

/*
 * The device reads a frame after linkoutput returns, so a piece whose data
 * may change once it does (PBUF_REF: lwip_sendto's reference to the
 * caller's buffer, an IP fragment's view of its datagram) is refused too
 * and the caller copies the frame, as lwIP's own queues do
 * (PBUF_NEEDS_COPY). PBUF_ROM data stays put until TCP has it acknowledged.
 */
bool net_tx_volatile(const struct pbuf *p)
{
	for (; p; p = p->next)
		if (PBUF_NEEDS_COPY(p))
			return true;
	return false;
}

int net_tx_pieces(const struct pbuf *p, struct virtq_sg *sg, unsigned max)
{
	unsigned n = 0;
	for (const struct pbuf *q = p; q; q = q->next) {
		if (q->len == 0)
			continue;
		if (n == max || !dma_ok(q->payload, q->len) || PBUF_NEEDS_COPY(q))
			return -1;
		sg[n++] = (struct virtq_sg){q->payload, q->len};
	}
	return (int)n;
}
