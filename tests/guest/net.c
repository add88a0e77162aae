/*
 * net: the network through lwIP on virtio-net, against QEMU's user network
 * (slirp: DHCP gives 10.0.2.15, gateway 10.0.2.2) and a host-side client
 * (tests/harness/net_test.py) reaching it through hostfwd on 127.0.0.1.
 *
 * mode=dhcp (default): bring the interfaces up, wait for a lease and print
 *   it, ping the gateway; with ipv6=1 also wait for a SLAAC address.
 *   expect_ip=, expect_gw= check the lease; interfaces=N the count.
 * mode=serve: TCP on port 7 (one thread per connection) and UDP echo on
 *   port 7, IPv4 and IPv6. With burst=PORT, first of all BURST datagrams
 *   at once to gw=ADDR:PORT, a neighbour not yet resolved: all must leave
 *   (the peer counts them), none lost while ARP resolves it.
 *   A TCP connection's first byte says what it wants:
 *     'E' echo until the client closes
 *     'S' sink: read until the client closes, then answer the byte count
 *         (8 bytes) and FNV-1a hash (4 bytes), little-endian
 *     'G' generate: read a count (8 bytes) and seed (4 bytes), send that
 *         many bytes of xorshift32 from the seed, close once the client has
 *     'R' receive: read until the client closes, answer the count (8 bytes):
 *         throughput without the per-byte work of 'S'
 *     'W' write: read a count (8 bytes), send that many bytes of one buffer
 *     'D' resolve: read a name (up to a newline), look it up with
 *         noos_getaddrinfo (A and AAAA, through lwIP's resolver and the
 *         servers of dns=), answer "A addr" / "AAAA addr" lines or "ERR -e"
 *     'Q' quit: once the client closes, check that lwIP's pools, heap and
 *         the driver's buffers are back where they were before serving, and
 *         exit
 *
 * mode=txfull: count= numbered datagrams to gw=ADDR:txfull while the peer
 *   (tests/harness/net_txfull.py) lets the transmit ring fill; see mode_txfull.
 *
 * Prints "net: ok" and exits 0 when everything held; FAIL lines otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/inet.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/raw.h"
#include "lwip/sockets.h"
#include "lwip/stats.h"
#include "lwip/tcpip.h"
#include "lwip/udp.h"

#include "../../net/net.h"
#include "../../virtio/virtio.h"
#include "noos.h"

#define SEC        1000000000ull
#define PORT       7
#define PING_COUNT 3

static int failures;

static void fail(const char *what)
{
	printf("FAIL %s\n", what);
	failures++;
}

static unsigned env_uint(const char *key, unsigned dflt)
{
	const char *v = noos_getenv(key);
	return v ? (unsigned)strtoul(v, NULL, 0) : dflt;
}

/* ---- mode=dhcp ---- */

static void print_lease(struct netif *nif)
{
	char ip[16], gw[16];
	LOCK_TCPIP_CORE();
	ip4addr_ntoa_r(netif_ip4_addr(nif), ip, sizeof(ip));
	ip4addr_ntoa_r(netif_ip4_gw(nif), gw, sizeof(gw));
	UNLOCK_TCPIP_CORE();
	printf("net: lease %s gw %s\n", ip, gw);
	const char *want_ip = noos_getenv("expect_ip"), *want_gw = noos_getenv("expect_gw");
	if (want_ip && strcmp(want_ip, ip) != 0)
		fail("unexpected address");
	if (want_gw && strcmp(want_gw, gw) != 0)
		fail("unexpected gateway");
}

static uint16_t icmp_sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* One echo request (RFC 792) to addr through a raw socket; true when the reply came back. */
static bool ping_once(int s, const struct sockaddr_in *to, uint16_t seq)
{
	uint8_t req[64] = {8, 0, 0, 0, 0x4e, 0x4f, (uint8_t)(seq >> 8), (uint8_t)seq};
	for (size_t i = 8; i < sizeof(req); i++)
		req[i] = (uint8_t)i;
	uint16_t c = icmp_sum(req, sizeof(req));
	req[2] = (uint8_t)(c >> 8), req[3] = (uint8_t)c;
	if (lwip_sendto(s, req, sizeof(req), 0, (const struct sockaddr *)to, sizeof(*to)) < 0)
		return false;
	uint8_t reply[256];
	for (int tries = 0; tries < 4; tries++) {
		int n = lwip_recv(s, reply, sizeof(reply), 0); /* the IP header comes too */
		if (n < 0)
			return false;
		if (n < 20)
			continue;
		unsigned ihl = (reply[0] & 15u) * 4;
		const uint8_t *icmp = reply + ihl;
		if ((unsigned)n >= ihl + 8 && icmp[0] == 0 && icmp[6] == (uint8_t)(seq >> 8) &&
		    icmp[7] == (uint8_t)seq && memcmp(icmp + 8, req + 8, (size_t)n - ihl - 8) == 0)
			return true;
	}
	return false;
}

static void ping(const char *gw)
{
	int s = lwip_socket(AF_INET, SOCK_RAW, IP_PROTO_ICMP);
	if (s < 0) {
		fail("no raw socket");
		return;
	}
	struct timeval tv = {.tv_sec = 2};
	lwip_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in to = {.sin_len = sizeof(to), .sin_family = AF_INET};
	inet_aton(gw, &to.sin_addr);
	int got = 0;
	for (uint16_t i = 1; i <= PING_COUNT; i++)
		got += ping_once(s, &to, i);
	lwip_close(s);
	printf("net: ping %s: %d/%d replies\n", gw, got, PING_COUNT);
	if (got == 0)
		fail("the gateway did not answer");
}

static bool has_slaac(struct netif *nif)
{
	bool found = false;
	LOCK_TCPIP_CORE();
	for (int i = 1; i < LWIP_IPV6_NUM_ADDRESSES; i++)
		found |= ip6_addr_ispreferred(netif_ip6_addr_state(nif, i)) &&
		         !ip6_addr_islinklocal(netif_ip6_addr(nif, i));
	UNLOCK_TCPIP_CORE();
	return found;
}

static void wait_ipv6(struct netif *nif)
{
	uint64_t end = noos_time_ns() + 20 * SEC;
	while (!has_slaac(nif) && noos_time_ns() < end)
		noos_sleep_ns(SEC / 10);
	if (!has_slaac(nif))
		fail("no SLAAC address");
	else
		printf("net: ipv6 ok\n");
}

/* Several NICs: every further interface gets a lease of its own, waited for up to 30 s. */
static void check_further_interfaces(int n)
{
	for (int i = 1; i < n; i++) {
		struct netif *nif = net_netif_at(i);
		char ip[16] = "0.0.0.0";
		for (uint64_t end = noos_time_ns() + 30 * SEC; noos_time_ns() < end;) {
			LOCK_TCPIP_CORE();
			ip4addr_ntoa_r(netif_ip4_addr(nif), ip, sizeof(ip));
			UNLOCK_TCPIP_CORE();
			if (strcmp(ip, "0.0.0.0") != 0)
				break;
			noos_sleep_ns(SEC / 100);
		}
		printf("net: interface %d %c%c%u lease %s\n", i, nif->name[0], nif->name[1],
		       nif->num, ip);
		if (strcmp(ip, "0.0.0.0") == 0)
			fail("a further interface got no lease");
	}
}

static void mode_dhcp(void)
{
	struct netif *nif = net_netif_at(0);
	print_lease(nif);
	char gw[16];
	LOCK_TCPIP_CORE();
	ip4addr_ntoa_r(netif_ip4_gw(nif), gw, sizeof(gw));
	UNLOCK_TCPIP_CORE();
	ping(gw);
	if (env_uint("ipv6", 0))
		wait_ipv6(nif);
}

/* ---- mode=serve ---- */

static bool read_full(int s, void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n) {
		int r = lwip_recv(s, p, n, 0);
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

static bool write_full(int s, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n) {
		int r = lwip_send(s, p, n, 0);
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

static void serve_echo(int s, uint8_t *buf, size_t size)
{
	int n;
	while ((n = lwip_recv(s, buf, size, 0)) > 0)
		if (!write_full(s, buf, (size_t)n))
			break;
}

static void serve_sink(int s, uint8_t *buf, size_t size)
{
	uint64_t count = 0;
	uint32_t h = 2166136261u; /* FNV-1a */
	int n;
	while ((n = lwip_recv(s, buf, size, 0)) > 0) {
		for (int i = 0; i < n; i++)
			h = (h ^ buf[i]) * 16777619u;
		count += (uint64_t)n;
	}
	uint8_t out[12];
	memcpy(out, &count, 8);
	memcpy(out + 8, &h, 4);
	write_full(s, out, sizeof(out));
}

static void serve_generate(int s, uint8_t *buf, size_t size)
{
	uint8_t req[12];
	if (!read_full(s, req, sizeof(req)))
		return;
	uint64_t left;
	uint32_t x;
	memcpy(&left, req, 8);
	memcpy(&x, req + 8, 4);
	while (left) {
		size_t chunk = left < size ? (size_t)left : size;
		for (size_t i = 0; i < chunk; i++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			buf[i] = (uint8_t)x;
		}
		if (!write_full(s, buf, chunk))
			return;
		left -= chunk;
	}
	while (lwip_recv(s, buf, size, 0) > 0)
		; /* the client closes first, so no TIME_WAIT stays here */
}

static void serve_resolve(int s, uint8_t *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size && lwip_recv(s, buf + n, 1, 0) == 1 && buf[n] != '\n')
		n++;
	buf[n] = '\0';
	struct noos_addrinfo hints = {.ai_family = NOOS_AF_UNSPEC, .ai_socktype = NOOS_SOCK_STREAM};
	struct noos_addrinfo *res = NULL;
	char out[512];
	size_t len = 0;
	int err = noos_getaddrinfo((const char *)buf, NULL, &hints, &res);
	if (err)
		len = (size_t)snprintf(out, sizeof(out), "ERR %d\n", err);
	for (struct noos_addrinfo *ai = res; ai && len < sizeof(out) - 64; ai = ai->ai_next) {
		char a[NOOS_INET6_ADDRSTRLEN];
		bool v6 = ai->ai_family == NOOS_AF_INET6;
		const void *src =
		    v6 ? (const void *)&((struct noos_sockaddr_in6 *)ai->ai_addr)->sin6_addr
		       : (const void *)&((struct noos_sockaddr_in *)ai->ai_addr)->sin_addr;
		noos_inet_ntop(ai->ai_family, src, a, sizeof(a));
		len +=
		    (size_t)snprintf(out + len, sizeof(out) - len, "%s %s\n", v6 ? "AAAA" : "A", a);
	}
	noos_freeaddrinfo(res);
	write_full(s, out, len);
	while (lwip_recv(s, buf, size, 0) > 0)
		; /* the client closes first */
}

static void serve_receive(int s, uint8_t *buf, size_t size)
{
	uint64_t count = 0;
	int n;
	while ((n = lwip_recv(s, buf, size, 0)) > 0)
		count += (uint64_t)n;
	write_full(s, &count, sizeof(count));
}

static void serve_write(int s, uint8_t *buf, size_t size)
{
	uint64_t left;
	if (!read_full(s, &left, sizeof(left)))
		return;
	memset(buf, 'w', size);
	while (left) {
		size_t chunk = left < size ? (size_t)left : size;
		if (!write_full(s, buf, chunk))
			return;
		left -= chunk;
	}
	while (lwip_recv(s, buf, size, 0) > 0)
		; /* the client closes first */
}

static volatile bool quit;

static void *connection(void *arg)
{
	int s = (int)(intptr_t)arg;
	size_t size = 65536;
	uint8_t *buf = malloc(size);
	uint8_t cmd = 0;
	if (buf && read_full(s, &cmd, 1)) {
		if (cmd == 'E')
			serve_echo(s, buf, size);
		else if (cmd == 'S')
			serve_sink(s, buf, size);
		else if (cmd == 'G')
			serve_generate(s, buf, size);
		else if (cmd == 'D')
			serve_resolve(s, buf, size);
		else if (cmd == 'R')
			serve_receive(s, buf, size);
		else if (cmd == 'W')
			serve_write(s, buf, size);
		else if (cmd == 'Q')
			while (lwip_recv(s, buf, size, 0) > 0)
				; /* the client closes first: no TIME_WAIT here */
	}
	free(buf);
	lwip_close(s);
	if (cmd == 'Q')
		quit = true;
	return NULL;
}

static void *udp_echo(void *arg)
{
	int s = (int)(intptr_t)arg;
	static uint8_t buf[2048];
	for (;;) {
		struct sockaddr_in6 from;
		socklen_t len = sizeof(from);
		int n = lwip_recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len);
		if (n >= 0)
			lwip_sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
	}
	return NULL;
}

/* An IPv6 socket on :: serves IPv4 as well (lwIP's dual stack, as Linux without V6ONLY). */
static int bound(int type)
{
	int s = lwip_socket(AF_INET6, type, 0);
	struct sockaddr_in6 a = {
	    .sin6_len = sizeof(a), .sin6_family = AF_INET6, .sin6_port = PP_HTONS(PORT)};
	if (s < 0 || lwip_bind(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		return -1;
	return s;
}

/* What must return to where it was: lwIP's pools and heap, and the driver's buffers. */
struct usage {
	uint32_t pools[MEMP_MAX];
	uint32_t heap;
	unsigned held; /* receive buffers lwIP holds */
};

static void usage_now(struct usage *u)
{
	LOCK_TCPIP_CORE();
	for (int i = 0; i < MEMP_MAX; i++)
		u->pools[i] = lwip_stats.memp[i]->used;
	u->heap = (uint32_t)lwip_stats.mem.used;
	UNLOCK_TCPIP_CORE();
	u->held = 0;
	for (unsigned i = 0; i < vnet_count(); i++) {
		unsigned posted, free_;
		unsigned total = vnet_rx_buffers(vnet_at(i), &posted, &free_);
		u->held += total - posted - free_;
	}
}

/*
 * Nothing above the baseline: a leak only ever adds. Below it is no leak: the
 * baseline is taken while the stack is still settling (DHCP just done, SLAAC
 * and its neighbour discovery under way), and what it held then for a moment
 * (a 72-byte heap block, once) may be gone by the end.
 */
static bool usage_within(const struct usage *a, const struct usage *b, bool report)
{
	bool same = a->heap <= b->heap && a->held <= b->held;
	if (report && !same)
		printf("net: heap %u bytes (baseline %u), buffers held %u (baseline %u)\n", a->heap,
		       b->heap, a->held, b->held);
	for (int i = 0; i < MEMP_MAX; i++) {
		/* MLD groups follow the addresses (SLAAC may add one at any time), not traffic. */
		if (a->pools[i] <= b->pools[i] || i == MEMP_MLD6_GROUP)
			continue;
		same = false;
		if (report)
			printf("net: pool %s: %u used (baseline %u)\n", lwip_stats.memp[i]->name,
			       (unsigned)a->pools[i], (unsigned)b->pools[i]);
	}
	return same;
}

static void check_baseline(const struct usage *base)
{
	struct usage now;
	uint64_t end = noos_time_ns() + 30 * SEC; /* closes finish on timers; a flood drains */
	do {
		noos_sleep_ns(SEC / 20);
		usage_now(&now);
	} while (!usage_within(&now, base, false) && noos_time_ns() < end);
	if (usage_within(&now, base, true))
		printf("net: pools at baseline\n");
	else
		fail("lwIP's pools or the driver's buffers did not return to their baseline");
}

#define BURST 16

/*
 * BURST datagrams to gw:burst, before anything else talks to gw. They are
 * sent with lwIP's core lock held throughout, so its netif cannot take in
 * the ARP reply meanwhile: all BURST wait on the one unresolved entry,
 * however quick the peer is to answer.
 */
static void send_burst(void)
{
	unsigned port = env_uint("burst", 0);
	const char *gw = noos_getenv("gw");
	ip_addr_t to;
	if (!port)
		return;
	if (!gw || !ipaddr_aton(gw, &to)) {
		fail("burst: needs gw=");
		return;
	}
	LOCK_TCPIP_CORE();
	struct udp_pcb *pcb = udp_new();
	for (int i = 0; pcb && i < BURST; i++) {
		struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, 16, PBUF_RAM);
		if (!p || snprintf(p->payload, 16, "burst %d", i) < 0 ||
		    udp_sendto(pcb, p, &to, (u16_t)port) != ERR_OK)
			fail("burst: udp_sendto");
		if (p)
			pbuf_free(p);
	}
	if (pcb)
		udp_remove(pcb);
	UNLOCK_TCPIP_CORE();
	printf("net: sent a burst of %d datagrams to %s:%u\n", BURST, gw, port);
}

static void mode_serve(void)
{
	send_burst();
	int ls = bound(SOCK_STREAM), us = bound(SOCK_DGRAM);
	if (ls < 0 || us < 0 || lwip_listen(ls, 8) < 0) {
		fail("cannot listen");
		return;
	}
	struct noos_thread_opts o = {.name = "udp-echo", .flags = NOOS_THREAD_DETACHED};
	noos_thread_create(NULL, udp_echo, (void *)(intptr_t)us, &o);
	struct timeval tv = {.tv_usec = 200000}; /* accept returns now and then to see quit */
	lwip_setsockopt(ls, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct usage base;
	usage_now(&base);
	printf("net: serving tcp %d udp %d\n", PORT, PORT);
	while (!quit) {
		int s = lwip_accept(ls, NULL, NULL);
		if (s < 0)
			continue;
		struct noos_thread_opts c = {.name = "conn", .flags = NOOS_THREAD_DETACHED};
		if (noos_thread_create(NULL, connection, (void *)(intptr_t)s, &c) != 0)
			lwip_close(s);
	}
	net_netif_report();
	struct noos_net_stats st;
	noos_net_stats(&st);
	printf("net: lwIP dropped link %llu ip %llu ip6 %llu icmp %llu udp %llu tcp %llu; "
	       "allocations refused %llu\n",
	       (unsigned long long)st.link_drops, (unsigned long long)st.ip_drops,
	       (unsigned long long)st.ip6_drops, (unsigned long long)st.icmp_drops,
	       (unsigned long long)st.udp_drops, (unsigned long long)st.tcp_drops,
	       (unsigned long long)st.mem_errors);
	check_baseline(&base);
}

/* ---- mode=txfull ---- */

#define TXFULL_SIZE 1024

/*
 * Waits up to 10 s for lwIP to learn gw's hardware address (datagram 0
 * made it ask). The flood waits for it: lwIP's ARP queue drops its oldest
 * frame beyond ARP_QUEUE_LEN, which is not the loss this mode looks for.
 */
static void wait_resolved(void)
{
	ip4_addr_t ip;
	struct eth_addr *mac;
	const ip4_addr_t *found;
	const char *gw = noos_getenv("gw");
	for (int t = 0; gw && ip4addr_aton(gw, &ip) && t < 1000; t++) {
		LOCK_TCPIP_CORE();
		bool ok = netif_default && etharp_find_addr(netif_default, &ip, &mac, &found) >= 0;
		UNLOCK_TCPIP_CORE();
		if (ok)
			return;
		noos_sleep_ns(10000000);
	}
	fail("txfull: the peer's address was not resolved");
}

/*
 * Datagram i to the peer, sent again after a pause for as long as it is
 * refused with -ENOBUFS (the backlog is full: it was never accepted, so
 * sending it again duplicates nothing). 0, or the error once 30 s pass.
 */
static long txfull_send(int s, uint8_t *buf, unsigned i, const struct noos_sockaddr_in *to,
                        unsigned *refused)
{
	buf[0] = (uint8_t)(i >> 24), buf[1] = (uint8_t)(i >> 16);
	buf[2] = (uint8_t)(i >> 8), buf[3] = (uint8_t)i;
	uint64_t give_up = noos_time_ns() + 30 * SEC;
	for (;;) {
		long n = noos_sendto(s, buf, TXFULL_SIZE, 0, (const struct noos_sockaddr *)to,
		                     sizeof(*to));
		if (n != -ENOBUFS || noos_time_ns() > give_up)
			return n == TXFULL_SIZE ? 0 : n;
		if ((*refused)++ == 0)
			printf("net: txfull: first refusal at datagram %u\n", i);
		noos_sleep_ns(1000000);
	}
}

/* A socket on port, to and from gw:port, with receives bounded by 30 s. */
static int txfull_socket(unsigned port, struct noos_sockaddr_in *to)
{
	const char *gw = noos_getenv("gw");
	*to = (struct noos_sockaddr_in){.sin_family = NOOS_AF_INET, .sin_port = noos_htons(port)};
	struct noos_sockaddr_in me = {.sin_family = NOOS_AF_INET, .sin_port = noos_htons(port)};
	struct noos_timeval tv = {.tv_sec = 30};
	int s = noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0);
	if (!gw || noos_inet_pton(NOOS_AF_INET, gw, &to->sin_addr) != 1 || s < 0 ||
	    noos_bind(s, (const struct noos_sockaddr *)&me, sizeof(me)) < 0 ||
	    noos_setsockopt(s, NOOS_SOL_SOCKET, NOOS_SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
		fail("txfull: needs gw= and a bound UDP socket");
		return -1;
	}
	return s;
}

/*
 * count= numbered datagrams of TXFULL_SIZE bytes to gw:txfull, as fast as
 * they are taken, while tests/harness/net_txfull.py lets QEMU's socket
 * netdev back up, so the transmit ring fills and frames wait in the
 * netif's backlog (net/netif_tx.c). Then the peer's answer (how many it
 * got): waiting for it keeps frames still queued from being cut off by the
 * exit.
 */
static void mode_txfull(void)
{
	unsigned port = env_uint("txfull", 0), count = env_uint("count", 2000), refused = 0, i;
	static uint8_t buf[TXFULL_SIZE];
	struct noos_sockaddr_in to;
	int s = txfull_socket(port, &to);
	if (s < 0)
		return;
	for (i = 0; i < TXFULL_SIZE; i++)
		buf[i] = (uint8_t)(i * 7);
	for (i = 0; i < count; i++) {
		if (i == 1)
			wait_resolved();
		long e = txfull_send(s, buf, i, &to, &refused);
		if (e != 0) {
			printf("FAIL txfull: datagram %u: %ld\n", i, e);
			failures++;
			break;
		}
	}
	printf("net: txfull: sent %u datagrams, %u sends refused (-ENOBUFS) and retried\n", i,
	       refused);
	char ack[64] = "";
	long n = noos_recv(s, ack, sizeof(ack) - 1, 0);
	printf("net: txfull: peer says %s\n", n > 0 ? ack : "nothing");
	if (n <= 0)
		fail("txfull: no answer from the peer");
	net_netif_report();
	noos_close(s);
}

int main(void)
{
	int n = noos_net_start();
	printf("net: %d interface(s)\n", n);
	if (n < 1 || (noos_getenv("interfaces") && (unsigned)n != env_uint("interfaces", 0))) {
		fail("interfaces");
		return 1;
	}
	if (noos_net_wait(30 * SEC) != 0) {
		fail("no IPv4 address within 30 s");
		net_netif_report();
		return 1;
	}
	const char *mode = noos_getenv("mode");
	if (mode && strcmp(mode, "serve") == 0)
		mode_serve();
	else if (mode && strcmp(mode, "txfull") == 0)
		mode_txfull();
	else {
		mode_dhcp();
		check_further_interfaces(n);
	}
	if (!failures)
		printf("net: ok\n");
	return failures ? 1 : 0;
}
