/*
 * sockpeer: the socket API through virtio-net, against a host-side peer
 * (tests/harness/sock_peer.py) over QEMU's user network: the guest is
 * 10.0.2.15 and reaches the host's 127.0.0.1 as 10.0.2.2; the host reaches
 * the guest through ports forwarded from 127.0.0.1 (TCP 7100, UDP 7101).
 *
 * First the interface as noos_if_info reports it (slirp's DHCP lease,
 * QEMU's default MAC, the IPv6 link-local address from it). Then one
 * thread serves everything with an edge-triggered event queue, the way a
 * runtime's network poller does: each event drains its socket (until
 * -EAGAIN) in both directions.
 *   - The host connects to the dual-stack listener (its address then is
 *     ::ffff:10.0.2.2) and sends "PORTS L C".
 *   - A non-blocking connect to 10.0.2.2:C, where nothing listens: EPOLLERR
 *     and SO_ERROR ECONNREFUSED.
 *   - A non-blocking connect to 10.0.2.2:L, the host's echo server:
 *     writable, SO_ERROR 0, then 1 MiB of a pattern sent and its echo
 *     checked byte for byte; our FIN, the host's FIN (EPOLLRDHUP).
 *   - UDP datagrams from the host, each echoed to its sender.
 * Then "sockpeer: ok" (or FAIL lines), and the verdict to the host.
 */
#include "socktest.h"

#define CTL_PORT   7100
#define UDP_PORT   7101
#define BULK       (1u << 20)
#define DATAGRAMS  10
#define SLIRP_HOST 0x0a000202u /* 10.0.2.2 */

enum tag { T_LISTEN = 1, T_CTL, T_UDP, T_REFUSED, T_BULK };

static struct {
	int ep, listen, udp, ctl, refused, bulk;
	char line[64];
	size_t line_len;
	unsigned datagrams; /* bit i: "UDP i" echoed */
	bool refused_done, connected, shut, bulk_done;
	size_t sent, got;
} st = {.ctl = -1, .refused = -1, .bulk = -1};

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + i / 251); /* as sock_peer.py's */
}

static void add(int fd, uint32_t events, enum tag tag)
{
	struct noos_epoll_event ev = {events | NOOS_EPOLLET, {.u64 = tag}};
	MUST(noos_epoll_ctl(st.ep, NOOS_EPOLL_CTL_ADD, fd, &ev));
}

/* ---- the interface ---- */

static void check_interface(void)
{
	CHECK_EQ(noos_if_count(), 2);
	struct noos_ifinfo in;
	uint64_t end = noos_time_ns() + SOON;
	do { /* the link-local address is valid once duplicate address detection is done */
		MUST(noos_if_info(1, &in));
	} while (in.ipv6_count == 0 && noos_time_ns() < end && !noos_sleep_ns(50 * MS));
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
	static const uint8_t ll[16] = {0xfe, 0x80, [8] = 0x50, 0x54, 0x00,
	                               0xff, 0xfe, 0x12,       0x34, 0x56};
	CHECK(strcmp(in.name, "en1") == 0);
	CHECK(memcmp(in.mac, mac, 6) == 0);
	CHECK_EQ(in.up, 1);
	CHECK_EQ(in.link_up, 1);
	CHECK_EQ(in.mtu, 1500);
	CHECK_EQ(in.ipv4.s_addr, noos_htonl(0x0a00020f));
	CHECK_EQ(in.netmask.s_addr, noos_htonl(0xffffff00));
	CHECK_EQ(in.gateway.s_addr, noos_htonl(SLIRP_HOST));
	CHECK_EQ(in.ipv4_dhcp, 1);
	CHECK(in.ipv6_count >= 1 && memcmp(in.ipv6[0].s6_u8, ll, 16) == 0);
	char text[NOOS_INET6_ADDRSTRLEN];
	if (in.ipv6_count)
		noos_inet_ntop(NOOS_AF_INET6, in.ipv6[0].s6_u8, text, sizeof(text));
	printf("sockpeer: %s mac %02x:%02x:%02x:%02x:%02x:%02x link %s ipv6 %s\n", in.name,
	       in.mac[0], in.mac[1], in.mac[2], in.mac[3], in.mac[4], in.mac[5],
	       in.link_up ? "up" : "down", in.ipv6_count ? text : "none");
}

/* ---- the steps ---- */

static int connect_host(uint16_t port, enum tag tag)
{
	int s = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM | NOOS_SOCK_NONBLOCK, 0));
	struct noos_sockaddr_in to = sin4(SLIRP_HOST, port);
	CHECK_EQ(noos_connect(s, SA(&to), sizeof(to)), -EINPROGRESS);
	add(s, NOOS_EPOLLIN | NOOS_EPOLLOUT | NOOS_EPOLLRDHUP, tag);
	return s;
}

static void on_listen(void)
{
	struct noos_sockaddr_in6 peer;
	noos_socklen_t len = sizeof(peer);
	int fd;
	while ((fd = noos_accept4(st.listen, SA(&peer), &len, NOOS_SOCK_NONBLOCK)) >= 0) {
		static const uint8_t host[16] = {[10] = 0xff, 0xff, 10, 0, 2, 2};
		CHECK(memcmp(peer.sin6_addr.s6_u8, host, 16) == 0); /* slirp's host, IPv4-mapped */
		CHECK(st.ctl < 0);
		st.ctl = fd;
		add(fd, NOOS_EPOLLIN | NOOS_EPOLLRDHUP, T_CTL);
	}
	CHECK_EQ(fd, -EAGAIN);
}

static void on_ctl(void)
{
	long n;
	while ((n = noos_recv(st.ctl, st.line + st.line_len, sizeof(st.line) - 1 - st.line_len,
	                      0)) > 0)
		st.line_len += (size_t)n;
	CHECK_EQ(n, -EAGAIN); /* the host keeps its side open until the verdict */
	st.line[st.line_len] = '\0';
	char *nl = strchr(st.line, '\n');
	if (!nl || st.bulk >= 0)
		return;
	char *end;
	unsigned long listen_port = strtoul(st.line + 6, &end, 10);
	unsigned long closed_port = strtoul(end, NULL, 10);
	if (!CHECK(strncmp(st.line, "PORTS ", 6) == 0 && listen_port && closed_port))
		exit(1);
	st.refused = connect_host((uint16_t)closed_port, T_REFUSED);
	st.bulk = connect_host((uint16_t)listen_port, T_BULK);
}

static void on_udp(void)
{
	char buf[2048];
	struct noos_sockaddr_in from;
	noos_socklen_t len = sizeof(from);
	long n;
	while ((n = noos_recvfrom(st.udp, buf, sizeof(buf), 0, SA(&from), &len)) >= 0) {
		CHECK_EQ(from.sin_addr.s_addr, noos_htonl(SLIRP_HOST));
		CHECK_EQ(noos_sendto(st.udp, buf, (size_t)n, 0, SA(&from), len), n);
		unsigned i = n > 4 ? (unsigned)strtoul(buf + 4, NULL, 10) : 99;
		if (CHECK(strncmp(buf, "UDP ", 4) == 0 && i < DATAGRAMS))
			st.datagrams |= 1u << i;
	}
	CHECK_EQ(n, -EAGAIN);
}

static void on_refused(uint32_t events)
{
	CHECK(events & NOOS_EPOLLERR);
	CHECK(events & NOOS_EPOLLHUP);
	int e = 0;
	noos_socklen_t len = sizeof(e);
	MUST(noos_getsockopt(st.refused, NOOS_SOL_SOCKET, NOOS_SO_ERROR, &e, &len));
	CHECK_EQ(e, ECONNREFUSED);
	MUST(noos_close(st.refused)); /* leaves the queue */
	st.refused_done = true;
}

static void bulk_send(void)
{
	static uint8_t chunk[16384];
	while (st.sent < BULK) {
		size_t n = BULK - st.sent < sizeof(chunk) ? BULK - st.sent : sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern(st.sent + i);
		long r = noos_send(st.bulk, chunk, n, 0);
		if (r == -EAGAIN)
			return; /* an EPOLLOUT edge comes when there is room */
		if (!CHECK(r > 0))
			return;
		st.sent += (size_t)r;
	}
	if (!st.shut)
		MUST(noos_shutdown(st.bulk, NOOS_SHUT_WR));
	st.shut = true;
}

static void bulk_recv(void)
{
	static uint8_t buf[16384];
	long r;
	while ((r = noos_recv(st.bulk, buf, sizeof(buf), 0)) > 0) {
		for (long i = 0; i < r; i++)
			if (buf[i] != pattern(st.got + (size_t)i)) {
				printf("FAIL echo byte %zu is %u\n", st.got + (size_t)i, buf[i]);
				exit(1);
			}
		st.got += (size_t)r;
	}
	if (r == 0) { /* the host's FIN, after all of its echo */
		CHECK_EQ(st.got, BULK);
		MUST(noos_close(st.bulk));
		st.bulk_done = true;
		return;
	}
	CHECK_EQ(r, -EAGAIN);
}

static void on_bulk(uint32_t events)
{
	if (!st.connected) {
		int e = -1;
		noos_socklen_t len = sizeof(e);
		MUST(noos_getsockopt(st.bulk, NOOS_SOL_SOCKET, NOOS_SO_ERROR, &e, &len));
		if (!CHECK_EQ(e, 0) || !CHECK(events & NOOS_EPOLLOUT))
			exit(1);
		st.connected = true;
	}
	bulk_send();
	bulk_recv();
}

static void dispatch(const struct noos_epoll_event *ev)
{
	switch (ev->data.u64) {
	case T_LISTEN:
		on_listen();
		break;
	case T_CTL:
		on_ctl();
		break;
	case T_UDP:
		on_udp();
		break;
	case T_REFUSED:
		on_refused(ev->events);
		break;
	default:
		on_bulk(ev->events);
		break;
	}
}

static bool all_done(void)
{
	return st.refused_done && st.bulk_done && st.datagrams == (1u << DATAGRAMS) - 1;
}

int main(void)
{
	CHECK_EQ(noos_net_start(), 1);
	MUST(noos_net_wait(30 * SEC));
	check_interface();
	st.ep = MUST(noos_epoll_create(0));
	st.listen = MUST(noos_socket(NOOS_AF_INET6, NOOS_SOCK_STREAM | NOOS_SOCK_NONBLOCK, 0));
	struct noos_sockaddr_in6 any6 = sin6_any(CTL_PORT);
	MUST(noos_bind(st.listen, SA(&any6), sizeof(any6)));
	MUST(noos_listen(st.listen, 4));
	st.udp = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM | NOOS_SOCK_NONBLOCK, 0));
	struct noos_sockaddr_in any4 = sin4(NOOS_INADDR_ANY, UDP_PORT);
	MUST(noos_bind(st.udp, SA(&any4), sizeof(any4)));
	add(st.listen, NOOS_EPOLLIN, T_LISTEN);
	add(st.udp, NOOS_EPOLLIN, T_UDP);
	printf("READY\n");
	uint64_t end = noos_time_ns() + 90 * SEC;
	while (!all_done() && noos_time_ns() < end) {
		struct noos_epoll_event evs[8];
		int n = MUST(noos_epoll_wait(st.ep, evs, 8, SEC));
		for (int i = 0; i < n; i++)
			dispatch(&evs[i]);
	}
	CHECK(all_done());
	printf("sockpeer: bulk %zu sent %zu echoed, %u datagrams\n", st.sent, st.got,
	       (unsigned)__builtin_popcount(st.datagrams));
	int status = finish("sockpeer");
	if (st.ctl >= 0) {
		MUST(noos_set_nonblock(st.ctl, 0));
		const char *verdict = status ? "FAIL\n" : "OK\n";
		CHECK_EQ(noos_send(st.ctl, verdict, strlen(verdict), 0), (long)strlen(verdict));
		/* Stay until the host has it (its FIN), or QEMU could exit with it unsent. */
		struct noos_timeval tv = {10, 0};
		MUST(noos_setsockopt(st.ctl, NOOS_SOL_SOCKET, NOOS_SO_RCVTIMEO, &tv, sizeof(tv)));
		char c;
		noos_recv(st.ctl, &c, 1, 0);
		MUST(noos_close(st.ctl));
	}
	return status;
}
