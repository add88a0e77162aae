/*
 * Coalescing lwIP's TCP segments into one frame for a device that cuts it
 * back up (virtio 1.2 §5.1.6.2: gso_type TCPV4/TCPV6, gso_size, hdr_len,
 * with NEEDS_CSUM). What the device sends must be, byte for byte, what
 * lwIP would have sent, so a run only takes segments the device will
 * reproduce: one flow, contiguous sequence numbers, identical headers but
 * for the fields segmentation rewrites (IP lengths, IPv4 identification and
 * checksum, TCP sequence number, flags and checksum), every segment but the
 * last exactly gso_size (the first's payload) bytes without FIN. The merged
 * header carries ACK, PSH if any segment had it, and the last one's FIN;
 * the device leaves PSH and FIN on the final segment only (Linux's
 * tcp_gso_segment does). lwIP sets PSH at the end of every tcp_write, so
 * nearly every segment has it; PUSH is advisory (RFC 9293 §3.9.1: a
 * receiver may deliver at any time and must not rely on segment
 * boundaries), and pushing at the end of the run is what Linux's own TSO
 * sends. Only where PSH sits within a run changes, never the bytes.
 */
#include <string.h>

#include "tso.h"

#define ETH_HLEN     14
#define ETHTYPE_IPV4 0x0800
#define ETHTYPE_IPV6 0x86dd
#define IP4_HLEN     20
#define IP6_HLEN     40
#define PROTO_TCP    6
#define TCP_HLEN_MIN 20
#define TCP_FIN      0x01
#define TCP_PSH      0x08
#define TCP_ACK      0x10
#define TCP_SEQ      4
#define TCP_CSUM     16

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return be16(p) << 16 | be16(p + 2);
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1071 over big-endian words (even len), folded, not inverted. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, unsigned len)
{
	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += be16(p + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* The IP header: its length, and the IP datagram's end (Ethernet offset). */
static int ip_parse(const uint8_t *f, uint32_t avail, struct net_tso_seg *s, uint32_t *end)
{
	uint32_t type = be16(f + 12);
	const uint8_t *ip = f + ETH_HLEN;
	if (type == ETHTYPE_IPV4 && avail >= ETH_HLEN + IP4_HLEN) {
		/* No options, not a fragment (MF clear, offset 0), TCP. */
		if (ip[0] != 0x45 || (be16(ip + 6) & 0x3fff) || ip[9] != PROTO_TCP)
			return -1;
		s->v6 = false;
		s->l4_off = ETH_HLEN + IP4_HLEN;
		*end = ETH_HLEN + be16(ip + 2);
		return 0;
	}
	if (type == ETHTYPE_IPV6 && avail >= ETH_HLEN + IP6_HLEN) {
		if ((ip[0] >> 4) != 6 || ip[6] != PROTO_TCP)
			return -1; /* extension headers are not coalesced */
		s->v6 = true;
		s->l4_off = ETH_HLEN + IP6_HLEN;
		*end = ETH_HLEN + IP6_HLEN + be16(ip + 4);
		return 0;
	}
	return -1;
}

int net_tso_parse(const uint8_t *frame, uint32_t avail, uint32_t len, struct net_tso_seg *s)
{
	uint32_t end;
	if (avail > len || avail < ETH_HLEN || ip_parse(frame, avail, s, &end) != 0)
		return -1;
	if (end != len || avail < (uint32_t)s->l4_off + TCP_HLEN_MIN)
		return -1; /* padded or cut short: not what the device would rebuild */
	const uint8_t *tcp = frame + s->l4_off;
	uint32_t thl = (uint32_t)(tcp[12] >> 4) * 4;
	uint32_t hdr = s->l4_off + thl;
	if (thl < TCP_HLEN_MIN || hdr > avail || hdr >= len || hdr > NET_TSO_HDR_MAX)
		return -1;
	s->flags = tcp[NET_TSO_TCP_FLAGS];
	if (!(s->flags & TCP_ACK) || (s->flags & ~(TCP_ACK | TCP_PSH | TCP_FIN)))
		return -1;
	s->hdr_len = (uint16_t)hdr;
	s->payload = len - hdr;
	s->seq = be32(tcp + TCP_SEQ);
	return 0;
}

void net_tso_start(struct net_tso_run *run, const uint8_t *frame, const struct net_tso_seg *s)
{
	memcpy(run->hdr, frame, s->hdr_len);
	run->first = *s;
	run->next_seq = s->seq + s->payload;
	run->bytes = s->payload;
	run->flags = s->flags;
	run->open = !(s->flags & TCP_FIN);
	run->count = 1;
}

/* Byte i of the headers is one segmentation rewrites. */
static bool rewritten(const struct net_tso_seg *s, unsigned i)
{
	unsigned ip = i - ETH_HLEN, tcp = i - s->l4_off;
	if (i >= s->l4_off)
		return (tcp >= TCP_SEQ && tcp < TCP_SEQ + 4) || tcp == NET_TSO_TCP_FLAGS ||
		       tcp == TCP_CSUM || tcp == TCP_CSUM + 1;
	if (i < ETH_HLEN)
		return false;
	if (s->v6)
		return ip == 4 || ip == 5;              /* payload length */
	return ip < 6 ? ip >= 2 : ip == 10 || ip == 11; /* length, identification; checksum */
}

static bool same_headers(const struct net_tso_run *run, const uint8_t *frame)
{
	const struct net_tso_seg *s = &run->first;
	if (memcmp(run->hdr, frame, ETH_HLEN) != 0)
		return false;
	for (unsigned i = ETH_HLEN; i < s->hdr_len; i++)
		if (run->hdr[i] != frame[i] && !rewritten(s, i))
			return false;
	return true;
}

bool net_tso_append(struct net_tso_run *run, const uint8_t *frame, const struct net_tso_seg *s,
                    unsigned max_segs)
{
	const struct net_tso_seg *f = &run->first;
	if (!run->open || run->count >= max_segs || s->v6 != f->v6 || s->hdr_len != f->hdr_len ||
	    s->seq != run->next_seq || s->payload > f->payload)
		return false;
	if ((uint64_t)f->hdr_len - ETH_HLEN + run->bytes + s->payload > NET_TSO_BYTES)
		return false;
	if (!same_headers(run, frame))
		return false;
	run->next_seq += s->payload;
	run->bytes += s->payload;
	run->flags |= s->flags; /* PSH from any, FIN only from the last (none before it) */
	run->open = !(s->flags & TCP_FIN) && s->payload == f->payload;
	run->count++;
	return true;
}

void net_tso_finish(struct net_tso_run *run)
{
	const struct net_tso_seg *f = &run->first;
	uint8_t *ip = run->hdr + ETH_HLEN, *tcp = run->hdr + f->l4_off;
	uint32_t l4_len = f->hdr_len - f->l4_off + run->bytes;
	if (f->v6) {
		put16(ip + 4, l4_len);
	} else {
		put16(ip + 2, IP4_HLEN + l4_len);
		put16(ip + 10, 0);
		put16(ip + 10, ~sum16(0, ip, IP4_HLEN) & 0xffff);
	}
	tcp[NET_TSO_TCP_FLAGS] = run->flags;
	/* Pseudo-header (RFC 793 §3.1, RFC 8200 §8.1): addresses, protocol, TCP length. */
	uint32_t sum = f->v6 ? sum16(0, ip + 8, 32) : sum16(0, ip + 12, 8);
	sum = sum16(sum + PROTO_TCP + (l4_len >> 16) + (l4_len & 0xffff), NULL, 0);
	put16(tcp + TCP_CSUM, sum);
}
