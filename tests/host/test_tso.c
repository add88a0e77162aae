/* net/tso.c: which TCP segments join a run, and the header the device gets for it. */
#include <string.h>

#include "check.h"
#include "tso.h"

#define MSS 1000

static uint8_t frames[8][14 + 40 + 20 + MSS];

/* A segment: IPv4 (or IPv6) TCP 10.0.0.1:1000 -> 10.0.0.2:80, seq, flags, payload bytes. */
static uint32_t make(uint8_t *f, int v6, uint32_t seq, uint8_t flags, uint32_t payload)
{
	unsigned ip_len = v6 ? 40 : 20, l4 = 14 + ip_len, len = l4 + 20 + payload;
	memset(f, 0, len);
	memset(f, 0xaa, 12);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	uint8_t *ip = f + 14;
	if (v6) {
		ip[0] = 0x60;
		ip[4] = (uint8_t)((20 + payload) >> 8), ip[5] = (uint8_t)(20 + payload);
		ip[6] = 6, ip[7] = 64, ip[23] = 1, ip[39] = 2;
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)((20 + 20 + payload) >> 8), ip[3] = (uint8_t)(20 + 20 + payload);
		ip[4] = (uint8_t)seq; /* an identification that differs per segment */
		ip[6] = 0x40, ip[8] = 64, ip[9] = 6, ip[12] = 10, ip[15] = 1, ip[16] = 10,
		ip[19] = 2;
	}
	uint8_t *t = f + l4;
	t[0] = 0x03, t[1] = 0xe8, t[3] = 80;
	t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16), t[6] = (uint8_t)(seq >> 8);
	t[7] = (uint8_t)seq;
	t[11] = 7; /* ack */
	t[12] = 0x50, t[13] = flags, t[14] = 0x10;
	t[16] = (uint8_t)seq; /* a checksum that differs */
	return len;
}

static int parse(uint8_t *f, uint32_t len, struct net_tso_seg *s)
{
	return net_tso_parse(f, len, len, s);
}

/* A run of n segments (the last payload short), all of which should merge. */
static void run_of(int v6, unsigned n, struct net_tso_run *run)
{
	struct net_tso_seg s;
	for (unsigned i = 0; i < n; i++) {
		uint32_t pay = i + 1 == n ? MSS / 2 : MSS;
		/* lwIP's PSH at the end of each write: on some segments in the middle too. */
		uint8_t flags = i + 1 == n || i % 2 ? 0x18 : 0x10;
		uint32_t len = make(frames[i], v6, 5000 + i * MSS, flags, pay);
		for (uint32_t b = 0; b < pay; b++)
			frames[i][len - pay + b] = (uint8_t)(i * 31 + b);
		CHECK(parse(frames[i], len, &s) == 0);
		if (i == 0)
			net_tso_start(run, frames[0], &s);
		else
			CHECK(net_tso_append(run, frames[i], &s, 44));
	}
}

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/*
 * The device's side (§5.1.6.2, as Linux's tcp_gso_segment does it): cut the
 * merged frame (run->hdr, then the segments' payloads) into gso_size pieces,
 * each with the header, its lengths and sequence number, PSH and FIN on the
 * last only. Each must equal the segment lwIP made but for the fields the
 * device rewrites anyway (IP identification and checksum, TCP checksum)
 * and PSH, which moves to the end of the run.
 */
static void device_cut(const struct net_tso_run *run, unsigned n)
{
	const struct net_tso_seg *f = &run->first;
	unsigned hl = f->hdr_len, l4 = f->l4_off, ip = 14;
	uint32_t seq0 = f->seq, gso = f->payload, left = run->bytes;
	for (unsigned i = 0; i < n; i++) {
		uint8_t seg[sizeof(frames[0])];
		uint32_t pay = left < gso ? left : gso;
		left -= pay;
		memcpy(seg, run->hdr, hl);
		memcpy(seg + hl, frames[i] + hl,
		       pay); /* netif.c sends each one's payload in place */
		uint32_t seq = seq0 + i * gso, l4_len = hl - l4 + pay;
		if (f->v6)
			seg[ip + 4] = (uint8_t)(l4_len >> 8), seg[ip + 5] = (uint8_t)l4_len;
		else
			seg[ip + 2] = (uint8_t)((l4_len + 20) >> 8),
			         seg[ip + 3] = (uint8_t)(l4_len + 20);
		for (int k = 0; k < 4; k++)
			seg[l4 + 4 + k] = (uint8_t)(seq >> (24 - 8 * k));
		if (i + 1 < n)
			seg[l4 + 13] &= (uint8_t)~0x09; /* PSH, FIN */
		uint8_t orig[sizeof(frames[0])];
		memcpy(orig, frames[i], hl + pay);
		if (i + 1 < n)
			orig[l4 + 13] &= (uint8_t)~0x08;
		for (unsigned b = 0; b < hl + pay; b++) {
			bool rewritten = b == l4 + 16 || b == l4 + 17 ||
			                 (!f->v6 && (b == ip + 4 || b == ip + 5 || b == ip + 10 ||
			                             b == ip + 11));
			CHECK_MSG(rewritten || seg[b] == orig[b],
			          "segment %u byte %u: %02x, not %02x", i, b, seg[b], orig[b]);
		}
	}
	CHECK(left == 0);
}

static void test_v4_run(void)
{
	struct net_tso_run run;
	run_of(0, 4, &run);
	CHECK(run.count == 4 && run.bytes == 3 * MSS + MSS / 2 && run.first.payload == MSS);
	CHECK(!run.open); /* a short segment ends the run */
	net_tso_finish(&run);
	const uint8_t *ip = run.hdr + 14, *t = run.hdr + 34;
	CHECK(be16(ip + 2) == 40 + run.bytes);
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += be16(ip + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	CHECK(sum == 0xffff);                           /* the IPv4 header checksum is right */
	CHECK(t[13] == 0x18);                           /* ACK with the last one's PSH */
	CHECK(be16(t + 4) == 0 && be16(t + 6) == 5000); /* the first's sequence number */
	/* Pseudo-header: 10.0.0.1 + 10.0.0.2 + 6 + TCP length. */
	uint32_t ph = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 20 + run.bytes;
	CHECK(be16(t + 16) == ph);
	device_cut(&run, 4);
}

static void test_v6_run(void)
{
	struct net_tso_run run;
	run_of(1, 3, &run);
	CHECK(run.count == 3 && run.first.v6 && run.first.hdr_len == 74);
	net_tso_finish(&run);
	CHECK(be16(run.hdr + 14 + 4) == 20 + run.bytes);
	CHECK(be16(run.hdr + 54 + 16) == 1 + 2 + 6 + 20 + run.bytes);
	device_cut(&run, 3);
}

/* A segment that must not join a run of one full-sized segment at seq 5000. */
static void refused(const char *what, void (*edit)(uint8_t *f), uint32_t seq, uint8_t flags)
{
	struct net_tso_run run;
	struct net_tso_seg s;
	uint32_t len = make(frames[0], 0, 5000, 0x10, MSS);
	CHECK(parse(frames[0], len, &s) == 0);
	net_tso_start(&run, frames[0], &s);
	len = make(frames[1], 0, seq, flags, MSS);
	if (edit)
		edit(frames[1]);
	CHECK_MSG(parse(frames[1], len, &s) != 0 || !net_tso_append(&run, frames[1], &s, 44), "%s",
	          what);
	CHECK(run.count == 1);
}

static void other_port(uint8_t *f)
{
	f[34 + 3] = 81;
}
static void other_ack(uint8_t *f)
{
	f[34 + 11] = 8;
}
static void other_window(uint8_t *f)
{
	f[34 + 14] = 0x11;
}
static void other_dst(uint8_t *f)
{
	f[14 + 19] = 3;
}
static void other_mac(uint8_t *f)
{
	f[0] = 0xbb;
}
static void fragment(uint8_t *f)
{
	f[14 + 6] = 0x20; /* MF */
}

static void test_refusals(void)
{
	refused("gap", NULL, 5000 + MSS + 1, 0x10);
	refused("overlap", NULL, 5000, 0x10);
	refused("other port", other_port, 5000 + MSS, 0x10);
	refused("other ack", other_ack, 5000 + MSS, 0x10);
	refused("other window", other_window, 5000 + MSS, 0x10);
	refused("other address", other_dst, 5000 + MSS, 0x10);
	refused("other MAC", other_mac, 5000 + MSS, 0x10);
	refused("fragment", fragment, 5000 + MSS, 0x10);
	refused("SYN", NULL, 5000 + MSS, 0x12);
	refused("RST", NULL, 5000 + MSS, 0x14);
	refused("URG", NULL, 5000 + MSS, 0x30);
	refused("CWR", NULL, 5000 + MSS, 0x90);
	refused("no ACK", NULL, 5000 + MSS, 0x08);
}

static void test_closing(void)
{
	struct net_tso_run run;
	struct net_tso_seg s;
	/* FIN ends a run: nothing after it joins. */
	uint32_t len = make(frames[0], 0, 5000, 0x11, MSS);
	CHECK(parse(frames[0], len, &s) == 0);
	net_tso_start(&run, frames[0], &s);
	len = make(frames[1], 0, 5000 + MSS, 0x10, MSS);
	CHECK(parse(frames[1], len, &s) == 0 && !net_tso_append(&run, frames[1], &s, 44));
	/* A longer segment than the first (gso_size) does not join. */
	len = make(frames[0], 0, 5000, 0x10, MSS / 2);
	CHECK(parse(frames[0], len, &s) == 0);
	net_tso_start(&run, frames[0], &s);
	len = make(frames[1], 0, 5000 + MSS / 2, 0x10, MSS);
	CHECK(parse(frames[1], len, &s) == 0 && !net_tso_append(&run, frames[1], &s, 44));
	/* IPv6 after IPv4; the segment limit. */
	len = make(frames[1], 1, 5000 + MSS / 2, 0x10, MSS / 2);
	CHECK(parse(frames[1], len, &s) == 0 && !net_tso_append(&run, frames[1], &s, 44));
	len = make(frames[1], 0, 5000 + MSS / 2, 0x10, MSS / 2);
	CHECK(parse(frames[1], len, &s) == 0 && !net_tso_append(&run, frames[1], &s, 1));
	/* No payload, padding, headers beyond what is at hand, IPv4 options. */
	len = make(frames[0], 0, 5000, 0x10, 0);
	CHECK(parse(frames[0], len, &s) != 0);
	len = make(frames[0], 0, 5000, 0x10, 10);
	CHECK(net_tso_parse(frames[0], len, len + 6, &s) != 0);
	CHECK(net_tso_parse(frames[0], 40, len, &s) != 0);
	frames[0][14] = 0x46;
	CHECK(parse(frames[0], len, &s) != 0);
}

/* The total stays within an IP datagram. */
static void test_limit(void)
{
	static uint8_t f[14 + 20 + 20 + 60000];
	struct net_tso_run run;
	struct net_tso_seg s;
	uint32_t len = make(f, 0, 1, 0x10, 60000);
	CHECK(parse(f, len, &s) == 0);
	net_tso_start(&run, f, &s);
	len = make(f, 0, 60001, 0x10, 60000);
	CHECK(parse(f, len, &s) == 0 && !net_tso_append(&run, f, &s, 44));
}

int main(void)
{
	test_v4_run();
	test_v6_run();
	test_refusals();
	test_closing();
	test_limit();
	return check_report("tso");
}
