/*
 * sockapi: every socket call of noos.h and its error cases, over lwIP's
 * loopback interface (127.0.0.1, ::1), so it needs no network device: bad
 * and closed descriptors, descriptors of the wrong kind, wrong address
 * families, short buffers and lengths, timeouts, TCP and UDP over IPv4 and
 * IPv6, dual stack, options, non-blocking connect with SO_ERROR, address
 * text, getaddrinfo (without a network device: against a DNS server this
 * test runs itself on 127.0.0.1:53), interface information.
 * The expected values are Linux's (the man pages of socket(2), bind(2),
 * accept(2), connect(2), send(2), recv(2), shutdown(2), getsockopt(2),
 * socket(7), tcp(7), udp(7), ipv6(7), inet_pton(3), getaddrinfo(3)).
 *
 * Prints "sockapi: ok" and exits 0, or FAIL lines and exits 1.
 */
#include "socktest.h"

#include "lwip/dns.h"
#include "lwip/tcpip.h"

/* ---- descriptors ---- */

static void test_bad_descriptors(void)
{
	char buf[4];
	noos_socklen_t len = sizeof(buf);
	struct noos_sockaddr_in a = sin4(NOOS_INADDR_LOOPBACK, 1);
	int ep = MUST(noos_epoll_create(0));
	int closed = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	MUST(noos_close(closed));
	int bad[] = {-1, 4096, closed};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = bad[i];
		CHECK_EQ(noos_bind(fd, SA(&a), sizeof(a)), -EBADF);
		CHECK_EQ(noos_listen(fd, 1), -EBADF);
		CHECK_EQ(noos_accept(fd, NULL, NULL), -EBADF);
		CHECK_EQ(noos_connect(fd, SA(&a), sizeof(a)), -EBADF);
		CHECK_EQ(noos_send(fd, buf, 1, 0), -EBADF);
		CHECK_EQ(noos_recv(fd, buf, 1, 0), -EBADF);
		CHECK_EQ(noos_sendto(fd, buf, 1, 0, SA(&a), sizeof(a)), -EBADF);
		CHECK_EQ(noos_recvfrom(fd, buf, 1, 0, NULL, NULL), -EBADF);
		CHECK_EQ(noos_shutdown(fd, NOOS_SHUT_RDWR), -EBADF);
		CHECK_EQ(noos_setsockopt(fd, NOOS_SOL_SOCKET, NOOS_SO_REUSEADDR, &len, 4), -EBADF);
		CHECK_EQ(noos_getsockopt(fd, NOOS_SOL_SOCKET, NOOS_SO_TYPE, buf, &len), -EBADF);
		CHECK_EQ(noos_getsockname(fd, SA(&a), &len), -EBADF);
		CHECK_EQ(noos_getpeername(fd, SA(&a), &len), -EBADF);
		CHECK_EQ(noos_set_nonblock(fd, 1), -EBADF);
		CHECK_EQ(noos_close(fd), -EBADF);
		CHECK_EQ(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_DEL, fd, NULL), -EBADF);
	}
	/* An event queue is not a socket. */
	CHECK_EQ(noos_bind(ep, SA(&a), sizeof(a)), -ENOTSOCK);
	CHECK_EQ(noos_listen(ep, 1), -ENOTSOCK);
	CHECK_EQ(noos_accept(ep, NULL, NULL), -ENOTSOCK);
	CHECK_EQ(noos_connect(ep, SA(&a), sizeof(a)), -ENOTSOCK);
	CHECK_EQ(noos_send(ep, buf, 1, 0), -ENOTSOCK);
	CHECK_EQ(noos_recv(ep, buf, 1, 0), -ENOTSOCK);
	CHECK_EQ(noos_shutdown(ep, NOOS_SHUT_RD), -ENOTSOCK);
	CHECK_EQ(noos_getsockopt(ep, NOOS_SOL_SOCKET, NOOS_SO_TYPE, buf, &len), -ENOTSOCK);
	CHECK_EQ(noos_set_nonblock(ep, 1), -ENOTSOCK);
	CHECK_EQ(noos_close(ep), 0);
	CHECK_EQ(noos_close(ep), -EBADF);
}

static void test_socket_args(void)
{
	CHECK_EQ(noos_socket(1 /* AF_UNIX */, NOOS_SOCK_STREAM, 0), -EAFNOSUPPORT);
	CHECK_EQ(noos_socket(NOOS_AF_INET, 3 /* SOCK_RAW */, 0), -EINVAL);
	CHECK_EQ(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM | 0x10, 0), -EINVAL);
	CHECK_EQ(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, NOOS_IPPROTO_UDP), -EPROTONOSUPPORT);
	CHECK_EQ(noos_socket(NOOS_AF_INET6, NOOS_SOCK_DGRAM, NOOS_IPPROTO_TCP), -EPROTONOSUPPORT);
	/* Descriptors are the lowest free numbers, as POSIX. */
	int a = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, NOOS_IPPROTO_TCP));
	int b = MUST(
	    noos_socket(NOOS_AF_INET6, NOOS_SOCK_DGRAM | NOOS_SOCK_NONBLOCK, NOOS_IPPROTO_UDP));
	CHECK_EQ(b, a + 1);
	MUST(noos_close(a));
	int c = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM | NOOS_SOCK_CLOEXEC, 0));
	CHECK_EQ(c, a);
	char x;
	CHECK_EQ(noos_recv(b, &x, 1, 0), -EAGAIN); /* SOCK_NONBLOCK took */
	MUST(noos_close(b));
	MUST(noos_close(c));
	struct noos_socket_stats st;
	CHECK_EQ(noos_socket_stats(NULL), -EINVAL);
	CHECK_EQ(noos_socket_stats(&st), 0);
}

/* ---- bind, listen, accept, connect ---- */

static void test_bind(void)
{
	int s = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	struct noos_sockaddr_in a = sin4(NOOS_INADDR_LOOPBACK, 0);
	struct noos_sockaddr_in6 a6 = sin6_loopback(0);
	CHECK_EQ(noos_bind(s, NULL, sizeof(a)), -EINVAL);
	CHECK_EQ(noos_bind(s, SA(&a), sizeof(a) - 1), -EINVAL);
	CHECK_EQ(noos_bind(s, SA(&a6), sizeof(a6)), -EAFNOSUPPORT);
	struct noos_sockaddr_in far = sin4(0xc0000201 /* 192.0.2.1, TEST-NET-1 */, 0);
	CHECK_EQ(noos_bind(s, SA(&far), sizeof(far)), -EADDRNOTAVAIL);
	CHECK_EQ(noos_bind(s, SA(&a), sizeof(a)), 0);
	CHECK(local_port(s) != 0);                          /* port 0: an ephemeral one */
	CHECK_EQ(noos_bind(s, SA(&a), sizeof(a)), -EINVAL); /* bound already */
	MUST(noos_listen(s, 4));
	/* The same port again: in use, with or without SO_REUSEADDR (it is listening). */
	int t = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	struct noos_sockaddr_in same = sin4(NOOS_INADDR_LOOPBACK, local_port(s));
	CHECK_EQ(noos_bind(t, SA(&same), sizeof(same)), -EADDRINUSE);
	struct noos_sockaddr_in any = sin4(NOOS_INADDR_ANY, local_port(s));
	CHECK_EQ(noos_bind(t, SA(&any), sizeof(any)), -EADDRINUSE);
	/* UDP has ports of its own. */
	int u = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0));
	CHECK_EQ(noos_bind(u, SA(&same), sizeof(same)), 0);
	CHECK_EQ(local_port(u), local_port(s));
	int u2 = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0));
	CHECK_EQ(noos_bind(u2, SA(&same), sizeof(same)), -EADDRINUSE);
	/* A TIME_WAIT-free restart: a listener closed, its port bound again. */
	uint16_t port = local_port(s);
	MUST(noos_close(s));
	struct noos_sockaddr_in again = sin4(NOOS_INADDR_LOOPBACK, port);
	CHECK_EQ(noos_bind(t, SA(&again), sizeof(again)), 0);
	MUST(noos_close(t));
	MUST(noos_close(u));
	MUST(noos_close(u2));
}

static void test_listen_accept(void)
{
	int u = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0));
	CHECK_EQ(noos_listen(u, 1), -EOPNOTSUPP);
	CHECK_EQ(noos_accept(u, NULL, NULL), -EOPNOTSUPP);
	MUST(noos_close(u));
	int s = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	CHECK_EQ(noos_accept(s, NULL, NULL), -EINVAL); /* not listening */
	CHECK_EQ(noos_listen(s, 0), 0);                /* unbound: an ephemeral port, as Linux */
	CHECK(local_port(s) != 0);
	CHECK_EQ(noos_listen(s, 8), 0); /* again: a new backlog */
	CHECK_EQ(noos_accept4(s, NULL, NULL, 0x1), -EINVAL);
	MUST(noos_set_nonblock(s, 1));
	CHECK_EQ(noos_accept(s, NULL, NULL), -EAGAIN);
	MUST(noos_set_nonblock(s, 0));
	struct noos_timeval tv = {0, 50000};
	MUST(noos_setsockopt(s, NOOS_SOL_SOCKET, NOOS_SO_RCVTIMEO, &tv, sizeof(tv)));
	uint64_t t0 = noos_time_ns();
	CHECK_EQ(noos_accept(s, NULL, NULL), -EAGAIN); /* SO_RCVTIMEO bounds accept, as Linux */
	CHECK(noos_time_ns() - t0 >= 50 * MS);
	/* A connection: the accepted peer address is the client's own name. */
	int c = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	struct noos_sockaddr_in to = sin4(NOOS_INADDR_LOOPBACK, local_port(s));
	CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), 0);
	struct noos_sockaddr_in peer, name;
	noos_socklen_t plen = sizeof(peer), nlen = sizeof(name);
	int a = noos_accept4(s, SA(&peer), &plen, NOOS_SOCK_NONBLOCK);
	CHECK(a >= 0);
	CHECK_EQ(plen, sizeof(peer));
	MUST(noos_getsockname(c, SA(&name), &nlen));
	CHECK_EQ(peer.sin_family, NOOS_AF_INET);
	CHECK_EQ(peer.sin_port, name.sin_port);
	CHECK_EQ(peer.sin_addr.s_addr, noos_htonl(NOOS_INADDR_LOOPBACK));
	char x;
	CHECK_EQ(noos_recv(a, &x, 1, 0), -EAGAIN); /* accept4's SOCK_NONBLOCK */
	/* A short address buffer: truncated, the length says the full size. */
	uint8_t small[4];
	noos_socklen_t slen = sizeof(small);
	CHECK_EQ(noos_getpeername(a, SA(small), &slen), 0);
	CHECK_EQ(slen, sizeof(struct noos_sockaddr_in));
	CHECK_EQ(small[0] | small[1] << 8, NOOS_AF_INET);
	CHECK_EQ(noos_getpeername(s, SA(&peer), &plen), -ENOTCONN);
	int v = 0;
	noos_socklen_t vlen = sizeof(v);
	MUST(noos_getsockopt(s, NOOS_SOL_SOCKET, NOOS_SO_ACCEPTCONN, &v, &vlen));
	CHECK_EQ(v, 1);
	MUST(noos_getsockopt(a, NOOS_SOL_SOCKET, NOOS_SO_ACCEPTCONN, &v, &vlen));
	CHECK_EQ(v, 0);
	MUST(noos_close(a));
	MUST(noos_close(c));
	MUST(noos_close(s));
}

static void test_connect(void)
{
	/* A port nobody listens on: lwIP's loopback answers the SYN with a reset. */
	int l = listener(NOOS_AF_INET);
	uint16_t dead = local_port(l);
	MUST(noos_close(l));
	int c = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	struct noos_sockaddr_in to = sin4(NOOS_INADDR_LOOPBACK, dead);
	struct noos_sockaddr_in6 to6 = sin6_loopback(dead);
	CHECK_EQ(noos_connect(c, SA(&to6), sizeof(to6)), -EAFNOSUPPORT);
	CHECK_EQ(noos_connect(c, SA(&to), 8), -EINVAL);
	CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), -ECONNREFUSED);
	int e = -1;
	noos_socklen_t elen = sizeof(e);
	MUST(noos_getsockopt(c, NOOS_SOL_SOCKET, NOOS_SO_ERROR, &e, &elen));
	CHECK_EQ(e, 0); /* a blocking connect reported it already */
	/* The same socket may try again (Linux allows it after a failure). */
	l = listener(NOOS_AF_INET);
	to = sin4(NOOS_INADDR_LOOPBACK, local_port(l));
	CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), 0);
	CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), -EISCONN);
	int a = MUST(noos_accept(l, NULL, NULL));
	CHECK_EQ(noos_connect(l, SA(&to), sizeof(to)), -EISCONN); /* a listener, as Linux */
	MUST(noos_close(a));
	MUST(noos_close(c));
	MUST(noos_close(l));
}

/* Non-blocking connect: -EINPROGRESS, writable when done, SO_ERROR says how it went. */
static void test_connect_nonblocking(void)
{
	int l = listener(NOOS_AF_INET);
	int c = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM | NOOS_SOCK_NONBLOCK, 0));
	struct noos_sockaddr_in to = sin4(NOOS_INADDR_LOOPBACK, local_port(l));
	CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), -EINPROGRESS);
	int r = noos_connect(c, SA(&to), sizeof(to));
	CHECK(r == -EALREADY || r == 0); /* still under way, or done */
	CHECK(wait_for(c, NOOS_POLLOUT));
	int e = -1;
	noos_socklen_t elen = sizeof(e);
	MUST(noos_getsockopt(c, NOOS_SOL_SOCKET, NOOS_SO_ERROR, &e, &elen));
	CHECK_EQ(e, 0);
	if (r == -EALREADY)
		CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), 0); /* the first call after: 0 */
	CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), -EISCONN);
	MUST(noos_close(c));
	/* Refused: POLLOUT|POLLERR|POLLHUP, SO_ERROR ECONNREFUSED once, then 0. */
	uint16_t dead = local_port(l);
	MUST(noos_close(l));
	c = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM | NOOS_SOCK_NONBLOCK, 0));
	to = sin4(NOOS_INADDR_LOOPBACK, dead);
	CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), -EINPROGRESS);
	CHECK(wait_for(c, NOOS_POLLERR));
	int rev = poll1(c, NOOS_POLLIN | NOOS_POLLOUT, 0);
	CHECK_EQ(rev, NOOS_POLLIN | NOOS_POLLOUT | NOOS_POLLERR | NOOS_POLLHUP);
	elen = sizeof(e);
	MUST(noos_getsockopt(c, NOOS_SOL_SOCKET, NOOS_SO_ERROR, &e, &elen));
	CHECK_EQ(e, ECONNREFUSED);
	MUST(noos_getsockopt(c, NOOS_SOL_SOCKET, NOOS_SO_ERROR, &e, &elen));
	CHECK_EQ(e, 0);
	CHECK_EQ(poll1(c, NOOS_POLLIN | NOOS_POLLOUT, 0),
	         NOOS_POLLIN | NOOS_POLLOUT | NOOS_POLLHUP);
	CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), -ECONNABORTED); /* error already taken */
	MUST(noos_close(c));
}

/* ---- TCP data ---- */

static void test_tcp_data(int family)
{
	int l = listener(family), c;
	int s = connected_pair(family, l, &c);
	char buf[64];
	CHECK_EQ(noos_send(c, "hello", 5, 0), 5);
	CHECK(wait_for(s, NOOS_POLLIN));
	CHECK_EQ(noos_recv(s, buf, 2, NOOS_MSG_PEEK), 2);
	CHECK(memcmp(buf, "he", 2) == 0);
	CHECK_EQ(noos_recv(s, buf, sizeof(buf), 0), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_EQ(noos_recv(s, buf, sizeof(buf), NOOS_MSG_DONTWAIT), -EAGAIN);
	CHECK_EQ(noos_recv(s, buf, 0, 0), 0);
	CHECK_EQ(noos_recv(s, NULL, 1, 0), -EINVAL);
	CHECK_EQ(noos_recv(s, buf, 1, 0x1 /* MSG_OOB */), -EINVAL);
	CHECK_EQ(noos_send(s, buf, 1, 0x1), -EINVAL);
	/* SO_RCVTIMEO: a blocking recv gives up with -EAGAIN, not early. */
	struct noos_timeval tv = {0, 30000};
	MUST(noos_setsockopt(s, NOOS_SOL_SOCKET, NOOS_SO_RCVTIMEO, &tv, sizeof(tv)));
	uint64_t t0 = noos_time_ns();
	CHECK_EQ(noos_recv(s, buf, 1, 0), -EAGAIN);
	CHECK(noos_time_ns() - t0 >= 30 * MS);
	/* MSG_WAITALL gathers two sends. */
	CHECK_EQ(noos_send(c, "abc", 3, 0), 3);
	CHECK_EQ(noos_send(c, "def", 3, NOOS_MSG_NOSIGNAL), 3);
	tv.tv_sec = 10;
	MUST(noos_setsockopt(s, NOOS_SOL_SOCKET, NOOS_SO_RCVTIMEO, &tv, sizeof(tv)));
	CHECK_EQ(noos_recv(s, buf, 6, NOOS_MSG_WAITALL), 6);
	CHECK(memcmp(buf, "abcdef", 6) == 0);
	/* The peer's FIN: recv gives 0 (and keeps giving it); we may still send. */
	MUST(noos_shutdown(c, NOOS_SHUT_WR));
	CHECK_EQ(noos_send(c, "x", 1, 0), -EPIPE);
	CHECK_EQ(noos_recv(s, buf, sizeof(buf), 0), 0);
	CHECK_EQ(noos_recv(s, buf, sizeof(buf), 0), 0);
	CHECK_EQ(noos_send(s, "bye", 3, 0), 3);
	CHECK_EQ(noos_recv(c, buf, 3, NOOS_MSG_WAITALL), 3);
	CHECK_EQ(noos_shutdown(s, 7), -EINVAL);
	MUST(noos_shutdown(s, NOOS_SHUT_WR));
	CHECK_EQ(noos_recv(c, buf, sizeof(buf), 0), 0);
	MUST(noos_close(s));
	MUST(noos_close(c));
	MUST(noos_close(l));
}

/* A megabyte each way at once, through the window and the send buffer. */
struct bulk {
	int fd;
	size_t len;
	uint32_t sum;
};

static void *bulk_sender(void *arg)
{
	struct bulk *b = arg;
	static uint8_t chunk[8192];
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)(i * 7 + 1);
	for (size_t done = 0; done < b->len;) {
		size_t n = b->len - done < sizeof(chunk) ? b->len - done : sizeof(chunk);
		long r = noos_send(b->fd, chunk, n, 0);
		if (r <= 0) {
			printf("FAIL bulk send: %ld\n", r);
			__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
			return NULL;
		}
		for (long i = 0; i < r; i++)
			b->sum = b->sum * 31 + chunk[i];
		done += (size_t)r;
		if ((size_t)r < n) { /* a blocking send queues all of it */
			printf("FAIL bulk send: short %ld of %zu\n", r, n);
			__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

static void test_tcp_bulk(void)
{
	int l = listener(NOOS_AF_INET), c;
	int s = connected_pair(NOOS_AF_INET, l, &c);
	struct bulk b = {c, 1 << 20, 0};
	noos_thread_t *t;
	struct noos_thread_opts o = {.name = "bulk"};
	MUST(noos_thread_create(&t, bulk_sender, &b, &o));
	static uint8_t buf[5000];
	uint64_t t0 = noos_time_ns();
	uint32_t sum = 0;
	size_t got = 0;
	for (long n; got < b.len && (n = noos_recv(s, buf, sizeof(buf), 0)) > 0; got += (size_t)n)
		for (long i = 0; i < n; i++)
			sum = sum * 31 + buf[i];
	noos_thread_join(t, NULL);
	printf("sockapi: tcp 1 MiB over loopback in %llu ms\n",
	       (unsigned long long)((noos_time_ns() - t0) / MS));
	CHECK_EQ(got, b.len);
	CHECK_EQ(sum, b.sum);
	MUST(noos_close(c));
	CHECK_EQ(noos_recv(s, buf, sizeof(buf), 0), 0);
	MUST(noos_close(s));
	MUST(noos_close(l));
}

/* Closing with unread data resets the connection (Linux, RFC 2525 §2.17). */
static void test_tcp_reset(void)
{
	int l = listener(NOOS_AF_INET), c;
	int s = connected_pair(NOOS_AF_INET, l, &c);
	CHECK_EQ(noos_send(c, "unread", 6, 0), 6);
	CHECK(wait_for(s, NOOS_POLLIN));
	MUST(noos_close(s));
	CHECK(wait_for(c, NOOS_POLLERR));
	char buf[8];
	CHECK_EQ(noos_recv(c, buf, sizeof(buf), 0), -ECONNRESET);
	CHECK_EQ(noos_recv(c, buf, sizeof(buf), 0), 0);
	CHECK_EQ(noos_send(c, "x", 1, 0), -EPIPE);
	MUST(noos_close(c));
	/* Not connected at all. */
	c = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	CHECK_EQ(noos_send(c, "x", 1, 0), -ENOTCONN);
	CHECK_EQ(noos_recv(c, buf, 1, 0), -ENOTCONN);
	CHECK_EQ(noos_shutdown(c, NOOS_SHUT_RDWR), -ENOTCONN);
	MUST(noos_close(c));
	MUST(noos_close(l));
}

/* ---- UDP ---- */

static void test_udp(int family)
{
	int a = MUST(noos_socket(family, NOOS_SOCK_DGRAM, 0));
	int b = MUST(noos_socket(family, NOOS_SOCK_DGRAM, 0));
	struct noos_sockaddr_storage to, from;
	noos_socklen_t tolen;
	if (family == NOOS_AF_INET) {
		struct noos_sockaddr_in x = sin4(NOOS_INADDR_LOOPBACK, 0);
		MUST(noos_bind(a, SA(&x), sizeof(x)));
		x.sin_port = noos_htons(local_port(a));
		memcpy(&to, &x, tolen = sizeof(x));
	} else {
		struct noos_sockaddr_in6 x = sin6_loopback(0);
		MUST(noos_bind(a, SA(&x), sizeof(x)));
		x.sin6_port = noos_htons(local_port(a));
		memcpy(&to, &x, tolen = sizeof(x));
	}
	char buf[16];
	CHECK_EQ(noos_send(b, "x", 1, 0), -EDESTADDRREQ);
	CHECK_EQ(noos_sendto(b, "0123456789", 10, 0, SA(&to), tolen), 10);
	CHECK_EQ(noos_sendto(b, "", 0, 0, SA(&to), tolen), 0);
	CHECK(wait_for(a, NOOS_POLLIN));
	noos_socklen_t flen = sizeof(from);
	/* Too small a buffer: the rest of the datagram is gone; MSG_TRUNC tells its size. */
	CHECK_EQ(noos_recvfrom(a, buf, 4, NOOS_MSG_PEEK | NOOS_MSG_TRUNC, SA(&from), &flen), 10);
	CHECK_EQ(flen, tolen);
	CHECK_EQ(((struct noos_sockaddr_in *)&from)->sin_port, noos_htons(local_port(b)));
	CHECK_EQ(noos_recvfrom(a, buf, 4, 0, NULL, NULL), 4);
	CHECK(memcmp(buf, "0123", 4) == 0);
	CHECK(wait_for(a, NOOS_POLLIN));
	CHECK_EQ(noos_recv(a, buf, sizeof(buf), 0), 0); /* the empty datagram */
	CHECK_EQ(noos_recv(a, buf, sizeof(buf), NOOS_MSG_DONTWAIT), -EAGAIN);
	/* Connected: a default destination, and only its datagrams arrive. */
	MUST(noos_connect(b, SA(&to), tolen));
	CHECK_EQ(noos_send(b, "c", 1, 0), 1);
	CHECK(wait_for(a, NOOS_POLLIN));
	CHECK_EQ(noos_recv(a, buf, sizeof(buf), 0), 1);
	static char big[70000];
	CHECK_EQ(noos_send(b, big, sizeof(big), 0), -EMSGSIZE);
	struct noos_sockaddr unspec = {.sa_family = NOOS_AF_UNSPEC};
	CHECK_EQ(noos_connect(b, &unspec, sizeof(unspec)), 0);
	CHECK_EQ(noos_send(b, "x", 1, 0), -EDESTADDRREQ);
	CHECK_EQ(noos_listen(b, 1), -EOPNOTSUPP);
	CHECK_EQ(noos_shutdown(a, NOOS_SHUT_RD), -ENOTCONN); /* Linux: unconnected, but it took */
	CHECK_EQ(noos_recv(a, buf, sizeof(buf), 0), 0);
	MUST(noos_close(a));
	MUST(noos_close(b));
	if (family == NOOS_AF_INET) {
		int c = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0));
		struct noos_sockaddr_in bc = sin4(0xffffffff, 9);
		CHECK_EQ(noos_sendto(c, "x", 1, 0, SA(&bc), sizeof(bc)),
		         -EACCES); /* no SO_BROADCAST */
		MUST(noos_close(c));
	}
}

/* ---- IPv6 dual stack ---- */

static void test_dual_stack(void)
{
	int l = MUST(noos_socket(NOOS_AF_INET6, NOOS_SOCK_STREAM, 0));
	struct noos_sockaddr_in6 any = sin6_any(0);
	MUST(noos_bind(l, SA(&any), sizeof(any)));
	MUST(noos_listen(l, 4));
	int v = 0;
	noos_socklen_t vlen = sizeof(v);
	CHECK_EQ(noos_setsockopt(l, NOOS_IPPROTO_IPV6, NOOS_IPV6_V6ONLY, &v, sizeof(v)), -EINVAL);
	/* An IPv4 client reaches the IPv6 listener; it sees ::ffff:127.0.0.1. */
	int c = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	struct noos_sockaddr_in to = sin4(NOOS_INADDR_LOOPBACK, local_port(l));
	CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), 0);
	struct noos_sockaddr_in6 peer;
	noos_socklen_t plen = sizeof(peer);
	int a = MUST(noos_accept(l, SA(&peer), &plen));
	CHECK_EQ(plen, sizeof(peer));
	CHECK_EQ(peer.sin6_family, NOOS_AF_INET6);
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
	CHECK(memcmp(peer.sin6_addr.s6_u8, mapped, 16) == 0);
	MUST(noos_close(a));
	MUST(noos_close(c));
	/* And an IPv6 client, to ::1. */
	c = MUST(noos_socket(NOOS_AF_INET6, NOOS_SOCK_STREAM, 0));
	struct noos_sockaddr_in6 to6 = sin6_loopback(local_port(l));
	CHECK_EQ(noos_connect(c, SA(&to6), sizeof(to6)), 0);
	a = MUST(noos_accept(l, SA(&peer), &plen));
	CHECK_EQ(peer.sin6_addr.s6_u8[15], 1);
	MUST(noos_close(a));
	MUST(noos_close(c));
	MUST(noos_close(l));
	/* IPV6_V6ONLY before bind: IPv4 is refused. */
	l = MUST(noos_socket(NOOS_AF_INET6, NOOS_SOCK_STREAM, 0));
	v = 1;
	MUST(noos_setsockopt(l, NOOS_IPPROTO_IPV6, NOOS_IPV6_V6ONLY, &v, sizeof(v)));
	v = 0;
	MUST(noos_getsockopt(l, NOOS_IPPROTO_IPV6, NOOS_IPV6_V6ONLY, &v, &vlen));
	CHECK_EQ(v, 1);
	MUST(noos_bind(l, SA(&any), sizeof(any)));
	MUST(noos_listen(l, 4));
	c = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	to = sin4(NOOS_INADDR_LOOPBACK, local_port(l));
	CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), -ECONNREFUSED);
	MUST(noos_close(c));
	struct noos_sockaddr_in6 m = sin6_any(local_port(l));
	memcpy(m.sin6_addr.s6_u8, mapped, 16);
	c = MUST(noos_socket(NOOS_AF_INET6, NOOS_SOCK_STREAM, 0));
	CHECK_EQ(noos_connect(c, SA(&m), sizeof(m)), -ECONNREFUSED); /* mapped: IPv4, refused */
	MUST(noos_close(c));
	c = MUST(noos_socket(NOOS_AF_INET6, NOOS_SOCK_STREAM, 0));
	MUST(noos_setsockopt(c, NOOS_IPPROTO_IPV6, NOOS_IPV6_V6ONLY, &v, sizeof(v)));
	CHECK_EQ(noos_connect(c, SA(&m), sizeof(m)), -ENETUNREACH); /* v6only: no IPv4 (Linux) */
	CHECK_EQ(noos_bind(c, SA(&m), sizeof(m)), -EINVAL);
	MUST(noos_close(c));
	MUST(noos_close(l));
}

/* ---- options ---- */

static int get_int(int fd, int level, int name)
{
	int v = -12345;
	noos_socklen_t len = sizeof(v);
	int r = noos_getsockopt(fd, level, name, &v, &len);
	if (r)
		return r;
	CHECK_EQ(len, sizeof(int));
	return v;
}

static void test_options(void)
{
	int t = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	int u = MUST(noos_socket(NOOS_AF_INET6, NOOS_SOCK_DGRAM, 0));
	int one = 1, big = 100000, v;
	CHECK_EQ(get_int(t, NOOS_SOL_SOCKET, NOOS_SO_TYPE), NOOS_SOCK_STREAM);
	CHECK_EQ(get_int(u, NOOS_SOL_SOCKET, NOOS_SO_TYPE), NOOS_SOCK_DGRAM);
	CHECK_EQ(get_int(t, NOOS_SOL_SOCKET, NOOS_SO_DOMAIN), NOOS_AF_INET);
	CHECK_EQ(get_int(u, NOOS_SOL_SOCKET, NOOS_SO_DOMAIN), NOOS_AF_INET6);
	CHECK_EQ(get_int(t, NOOS_SOL_SOCKET, NOOS_SO_PROTOCOL), NOOS_IPPROTO_TCP);
	CHECK_EQ(get_int(u, NOOS_SOL_SOCKET, NOOS_SO_PROTOCOL), NOOS_IPPROTO_UDP);
	CHECK_EQ(get_int(t, NOOS_SOL_SOCKET, NOOS_SO_REUSEADDR), 0);
	CHECK_EQ(noos_setsockopt(t, NOOS_SOL_SOCKET, NOOS_SO_REUSEADDR, &one, sizeof(one)), 0);
	CHECK_EQ(get_int(t, NOOS_SOL_SOCKET, NOOS_SO_REUSEADDR), 1);
	CHECK_EQ(noos_setsockopt(t, NOOS_SOL_SOCKET, NOOS_SO_KEEPALIVE, &one, sizeof(one)), 0);
	CHECK_EQ(get_int(t, NOOS_SOL_SOCKET, NOOS_SO_KEEPALIVE), 1);
	CHECK_EQ(noos_setsockopt(t, NOOS_IPPROTO_TCP, NOOS_TCP_NODELAY, &one, sizeof(one)), 0);
	CHECK_EQ(get_int(t, NOOS_IPPROTO_TCP, NOOS_TCP_NODELAY), 1);
	CHECK_EQ(get_int(t, NOOS_IPPROTO_TCP, NOOS_TCP_KEEPIDLE), 7200); /* Linux's defaults */
	CHECK_EQ(get_int(t, NOOS_IPPROTO_TCP, NOOS_TCP_KEEPINTVL), 75);
	CHECK_EQ(get_int(t, NOOS_IPPROTO_TCP, NOOS_TCP_KEEPCNT), 9);
	v = 30;
	CHECK_EQ(noos_setsockopt(t, NOOS_IPPROTO_TCP, NOOS_TCP_KEEPIDLE, &v, sizeof(v)), 0);
	CHECK_EQ(get_int(t, NOOS_IPPROTO_TCP, NOOS_TCP_KEEPIDLE), 30);
	v = 0;
	CHECK_EQ(noos_setsockopt(t, NOOS_IPPROTO_TCP, NOOS_TCP_KEEPCNT, &v, sizeof(v)), -EINVAL);
	/* Buffer sizes: doubled, as Linux; the minimum applies. */
	CHECK_EQ(noos_setsockopt(u, NOOS_SOL_SOCKET, NOOS_SO_RCVBUF, &big, sizeof(big)), 0);
	CHECK_EQ(get_int(u, NOOS_SOL_SOCKET, NOOS_SO_RCVBUF), 2 * big);
	CHECK_EQ(noos_setsockopt(t, NOOS_SOL_SOCKET, NOOS_SO_SNDBUF, &one, sizeof(one)), 0);
	CHECK_EQ(get_int(t, NOOS_SOL_SOCKET, NOOS_SO_SNDBUF), 4608);
	/* Unknown options, wrong levels, short values. */
	CHECK_EQ(noos_setsockopt(t, NOOS_SOL_SOCKET, 999, &one, sizeof(one)), -ENOPROTOOPT);
	CHECK_EQ(get_int(t, NOOS_SOL_SOCKET, 999), -ENOPROTOOPT);
	CHECK_EQ(noos_setsockopt(t, 12345, NOOS_SO_REUSEADDR, &one, sizeof(one)), -ENOPROTOOPT);
	CHECK_EQ(noos_setsockopt(u, NOOS_IPPROTO_TCP, NOOS_TCP_NODELAY, &one, sizeof(one)),
	         -ENOPROTOOPT);
	CHECK_EQ(noos_setsockopt(t, NOOS_IPPROTO_IPV6, NOOS_IPV6_V6ONLY, &one, sizeof(one)),
	         -ENOPROTOOPT);
	CHECK_EQ(noos_setsockopt(t, NOOS_SOL_SOCKET, NOOS_SO_REUSEADDR, &one, 2), -EINVAL);
	CHECK_EQ(noos_setsockopt(t, NOOS_SOL_SOCKET, NOOS_SO_REUSEADDR, NULL, 4), -EINVAL);
	CHECK_EQ(noos_setsockopt(t, NOOS_SOL_SOCKET, NOOS_SO_TYPE, &one, sizeof(one)),
	         -ENOPROTOOPT);
	/* A short buffer for a value: truncated, length set to what was copied. */
	uint16_t half = 0;
	noos_socklen_t hlen = sizeof(half);
	CHECK_EQ(noos_getsockopt(t, NOOS_SOL_SOCKET, NOOS_SO_TYPE, &half, &hlen), 0);
	CHECK_EQ(hlen, 2);
	CHECK_EQ(half, NOOS_SOCK_STREAM);
	CHECK_EQ(noos_getsockopt(t, NOOS_SOL_SOCKET, NOOS_SO_TYPE, NULL, &hlen), -EINVAL);
	/* Timeouts as struct timeval. */
	struct noos_timeval tv = {1, 500000}, back = {0, 0};
	noos_socklen_t tlen = sizeof(back);
	CHECK_EQ(noos_setsockopt(u, NOOS_SOL_SOCKET, NOOS_SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	CHECK_EQ(noos_getsockopt(u, NOOS_SOL_SOCKET, NOOS_SO_SNDTIMEO, &back, &tlen), 0);
	CHECK_EQ(tlen, sizeof(back));
	CHECK_EQ(back.tv_sec, 1);
	CHECK_EQ(back.tv_usec, 500000);
	tv.tv_usec = 1000000;
	CHECK_EQ(noos_setsockopt(u, NOOS_SOL_SOCKET, NOOS_SO_SNDTIMEO, &tv, sizeof(tv)), -EDOM);
	CHECK_EQ(noos_setsockopt(u, NOOS_SOL_SOCKET, NOOS_SO_SNDTIMEO, &tv, 8), -EINVAL);
	MUST(noos_close(t));
	MUST(noos_close(u));
}

/* ---- address text ---- */

static void test_inet_text(void)
{
	static const struct {
		int af;
		const char *text, *canon; /* canon NULL: does not parse */
	} cases[] = {
	    {NOOS_AF_INET, "127.0.0.1", "127.0.0.1"},
	    {NOOS_AF_INET, "255.255.255.255", "255.255.255.255"},
	    {NOOS_AF_INET, "1.2.3", NULL},
	    {NOOS_AF_INET, "1.2.3.4.5", NULL},
	    {NOOS_AF_INET, "256.1.1.1", NULL},
	    {NOOS_AF_INET, "01.2.3.4", NULL},
	    {NOOS_AF_INET, "1.2.3.4 ", NULL},
	    {NOOS_AF_INET, "", NULL},
	    {NOOS_AF_INET6, "::", "::"},
	    {NOOS_AF_INET6, "::1", "::1"},
	    {NOOS_AF_INET6, "2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
	    {NOOS_AF_INET6, "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
	    {NOOS_AF_INET6, "fe80::5054:ff:fe12:3456", "fe80::5054:ff:fe12:3456"},
	    {NOOS_AF_INET6, "::ffff:10.0.2.15", "::ffff:10.0.2.15"},
	    {NOOS_AF_INET6, "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
	    {NOOS_AF_INET6, "1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"},
	    {NOOS_AF_INET6, "1::", "1::"},
	    {NOOS_AF_INET6, "1:::2", NULL},
	    {NOOS_AF_INET6, "1::2::3", NULL},
	    {NOOS_AF_INET6, ":1::2", NULL},
	    {NOOS_AF_INET6, "1:2:3:4:5:6:7", NULL},
	    {NOOS_AF_INET6, "1:2:3:4:5:6:7:8:9", NULL},
	    {NOOS_AF_INET6, "12345::", NULL},
	    {NOOS_AF_INET6, "1:", NULL},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t addr[16];
		char out[NOOS_INET6_ADDRSTRLEN];
		int r = noos_inet_pton(cases[i].af, cases[i].text, addr);
		if (!CHECK_EQ(r, cases[i].canon != NULL))
			printf("  (for \"%s\")\n", cases[i].text);
		if (r != 1)
			continue;
		CHECK_EQ(noos_inet_ntop(cases[i].af, addr, out, sizeof(out)),
		         strlen(cases[i].canon));
		if (!CHECK(strcmp(out, cases[i].canon) == 0))
			printf("  (\"%s\" came out as \"%s\")\n", cases[i].text, out);
	}
	uint8_t a[4] = {10, 0, 2, 15};
	char small[8];
	CHECK_EQ(noos_inet_ntop(NOOS_AF_INET, a, small, sizeof(small)), -ENOSPC);
	CHECK_EQ(noos_inet_pton(1, "1.2.3.4", a), -EAFNOSUPPORT);
	CHECK_EQ(noos_inet_ntop(1, a, small, sizeof(small)), -EAFNOSUPPORT);
}

/* ---- getaddrinfo, and a DNS server to answer it ---- */

static int count_ai(const struct noos_addrinfo *ai, int family, int socktype)
{
	int n = 0;
	for (; ai; ai = ai->ai_next)
		n += ai->ai_family == family && ai->ai_socktype == socktype;
	return n;
}

static void test_getaddrinfo_local(void)
{
	struct noos_addrinfo *res = NULL, hints = {0};
	CHECK_EQ(noos_getaddrinfo(NULL, NULL, NULL, &res), -EINVAL);
	CHECK_EQ(noos_getaddrinfo("1.2.3.4", "http", NULL, &res), -EINVAL);
	CHECK_EQ(noos_getaddrinfo("1.2.3.4", "70000", NULL, &res), -EINVAL);
	hints.ai_family = 1;
	CHECK_EQ(noos_getaddrinfo("1.2.3.4", NULL, &hints, &res), -EAFNOSUPPORT);
	hints = (struct noos_addrinfo){.ai_socktype = 3};
	CHECK_EQ(noos_getaddrinfo("1.2.3.4", NULL, &hints, &res), -ESOCKTNOSUPPORT);
	hints = (struct noos_addrinfo){.ai_flags = NOOS_AI_NUMERICHOST};
	CHECK_EQ(noos_getaddrinfo("example.test", NULL, &hints, &res), -ENOENT);
	hints = (struct noos_addrinfo){.ai_family = NOOS_AF_INET6};
	CHECK_EQ(noos_getaddrinfo("1.2.3.4", NULL, &hints, &res), -ENOENT);
	/* Numeric: one address, a stream and a datagram entry; the port in place. */
	CHECK_EQ(noos_getaddrinfo("10.0.2.15", "8080", NULL, &res), 0);
	CHECK_EQ(count_ai(res, NOOS_AF_INET, NOOS_SOCK_STREAM), 1);
	CHECK_EQ(count_ai(res, NOOS_AF_INET, NOOS_SOCK_DGRAM), 1);
	struct noos_sockaddr_in *sin = (struct noos_sockaddr_in *)res->ai_addr;
	CHECK_EQ(res->ai_addrlen, sizeof(*sin));
	CHECK_EQ(sin->sin_port, noos_htons(8080));
	CHECK_EQ(sin->sin_addr.s_addr, noos_htonl(0x0a00020f));
	CHECK_EQ(res->ai_protocol, NOOS_IPPROTO_TCP);
	noos_freeaddrinfo(res);
	hints =
	    (struct noos_addrinfo){.ai_socktype = NOOS_SOCK_STREAM, .ai_flags = NOOS_AI_CANONNAME};
	CHECK_EQ(noos_getaddrinfo("fe80::1%1", "7", &hints, &res), 0);
	CHECK_EQ(count_ai(res, NOOS_AF_INET6, NOOS_SOCK_STREAM), 1);
	CHECK_EQ(((struct noos_sockaddr_in6 *)res->ai_addr)->sin6_scope_id, 1);
	CHECK(res->ai_canonname && strcmp(res->ai_canonname, "fe80::1%1") == 0);
	noos_freeaddrinfo(res);
	CHECK_EQ(noos_getaddrinfo("fe80::2%lo0", "7", &hints, &res), 0); /* an interface name */
	CHECK_EQ(((struct noos_sockaddr_in6 *)res->ai_addr)->sin6_scope_id, 1);
	noos_freeaddrinfo(res);
	CHECK_EQ(noos_getaddrinfo("fe80::2%xx9", "7", &hints, &res), -ENOENT);
	/* No node: the any addresses to bind with AI_PASSIVE, else loopback; both families. */
	hints = (struct noos_addrinfo){.ai_socktype = NOOS_SOCK_DGRAM, .ai_flags = NOOS_AI_PASSIVE};
	CHECK_EQ(noos_getaddrinfo(NULL, "53", &hints, &res), 0);
	CHECK_EQ(count_ai(res, NOOS_AF_INET, NOOS_SOCK_DGRAM), 1);
	CHECK_EQ(count_ai(res, NOOS_AF_INET6, NOOS_SOCK_DGRAM), 1);
	CHECK_EQ(((struct noos_sockaddr_in *)res->ai_addr)->sin_addr.s_addr, 0);
	noos_freeaddrinfo(res);
	hints.ai_flags = 0;
	CHECK_EQ(noos_getaddrinfo("localhost", "53", &hints, &res), 0);
	CHECK_EQ(((struct noos_sockaddr_in *)res->ai_addr)->sin_addr.s_addr,
	         noos_htonl(NOOS_INADDR_LOOPBACK));
	CHECK(res->ai_next && res->ai_next->ai_family == NOOS_AF_INET6);
	noos_freeaddrinfo(res);
	noos_freeaddrinfo(NULL);
}

/*
 * A DNS server (RFC 1035 §4.1) on 127.0.0.1:53 for lwIP's resolver, which
 * the command line's dns=127.0.0.1 points at: test.noos has A 192.0.2.7 and
 * AAAA 2001:db8::7, v4only.noos only an A record, anything else is NXDOMAIN.
 */
static int dns_fd = -1;

static size_t dns_answer(const uint8_t *q, size_t qlen, uint8_t *out)
{
	size_t name_end = 12;
	while (name_end < qlen && q[name_end])
		name_end += q[name_end] + 1u;
	if (name_end + 5 > qlen)
		return 0;
	unsigned qtype = q[name_end + 1] << 8 | q[name_end + 2];
	const char *name = (const char *)q + 12;
	bool test = strncmp(name, "\4test\4noos", 10) == 0 && name_end == 22;
	bool v4only = strncmp(name, "\6v4only\4noos", 12) == 0 && name_end == 24;
	static const uint8_t a[4] = {192, 0, 2, 7};
	static const uint8_t aaaa[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7};
	const uint8_t *rdata = NULL;
	size_t rlen = 0;
	if ((test || v4only) && qtype == 1)
		rdata = a, rlen = 4;
	else if (test && qtype == 28)
		rdata = aaaa, rlen = 16;
	size_t len = name_end + 5;
	memcpy(out, q, len);
	out[2] = 0x84 | (q[2] & 1);        /* QR, AA, RD as asked */
	out[3] = (test || v4only) ? 0 : 3; /* NOERROR (maybe without answers) or NXDOMAIN */
	out[6] = 0;
	out[7] = rdata ? 1 : 0;
	if (!rdata)
		return len;
	static const uint8_t rr[] = {0xc0, 12, 0, 0, 0, 1, 0, 0, 0, 60, 0, 0};
	memcpy(out + len, rr, sizeof(rr));
	out[len + 3] = (uint8_t)qtype;
	out[len + 11] = (uint8_t)rlen;
	memcpy(out + len + sizeof(rr), rdata, rlen);
	return len + sizeof(rr) + rlen;
}

static void *dns_server(void *arg)
{
	(void)arg;
	uint8_t q[512], r[600];
	for (;;) {
		struct noos_sockaddr_in from;
		noos_socklen_t flen = sizeof(from);
		long n = noos_recvfrom(dns_fd, q, sizeof(q), 0, SA(&from), &flen);
		if (n == -EBADF)
			return NULL; /* closed: the test is over */
		if (n < 12)
			continue;
		size_t len = dns_answer(q, (size_t)n, r);
		if (len)
			noos_sendto(dns_fd, r, len, 0, SA(&from), flen);
	}
}

static void test_getaddrinfo_dns(void)
{
	struct noos_addrinfo *res = NULL, hints = {.ai_socktype = NOOS_SOCK_STREAM};
	if (noos_if_count() > 1) {
		/* DHCP would name slirp's forwarding resolver: tests ask no server beyond loopback.
		 */
		printf("sockapi: DNS not tested with a network device\n");
		return;
	}
	/* No server configured at all (no device, so no DHCP). */
	CHECK_EQ(noos_getaddrinfo("test.noos", "80", &hints, &res), -EAGAIN);
	/* Ours, on loopback. (noos.h has no call to set servers: dns= applies to a device.) */
	ip_addr_t lo;
	ip_addr_set_loopback(0, &lo);
	LOCK_TCPIP_CORE();
	dns_setserver(0, &lo);
	UNLOCK_TCPIP_CORE();
	dns_fd = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0));
	struct noos_sockaddr_in a = sin4(NOOS_INADDR_LOOPBACK, 53);
	MUST(noos_bind(dns_fd, SA(&a), sizeof(a)));
	noos_thread_t *t;
	struct noos_thread_opts o = {.name = "dns"};
	MUST(noos_thread_create(&t, dns_server, NULL, &o));
	CHECK_EQ(noos_getaddrinfo("test.noos", "80", &hints, &res), 0);
	CHECK_EQ(count_ai(res, NOOS_AF_INET, NOOS_SOCK_STREAM), 1);
	CHECK_EQ(count_ai(res, NOOS_AF_INET6, NOOS_SOCK_STREAM), 1);
	if (res) {
		CHECK_EQ(res->ai_family, NOOS_AF_INET); /* IPv4 first */
		CHECK_EQ(((struct noos_sockaddr_in *)res->ai_addr)->sin_addr.s_addr,
		         noos_htonl(0xc0000207));
		struct noos_sockaddr_in6 *s6 = (struct noos_sockaddr_in6 *)res->ai_next->ai_addr;
		CHECK_EQ(s6->sin6_addr.s6_u8[0], 0x20);
		CHECK_EQ(s6->sin6_addr.s6_u8[15], 7);
		CHECK_EQ(s6->sin6_port, noos_htons(80));
	}
	noos_freeaddrinfo(res);
	hints.ai_family = NOOS_AF_INET6;
	CHECK_EQ(noos_getaddrinfo("v4only.noos", NULL, &hints, &res), -ENOENT);
	hints.ai_family = NOOS_AF_UNSPEC;
	CHECK_EQ(noos_getaddrinfo("v4only.noos", NULL, &hints, &res), 0);
	CHECK_EQ(count_ai(res, NOOS_AF_INET, NOOS_SOCK_STREAM), 1);
	CHECK_EQ(count_ai(res, NOOS_AF_INET6, NOOS_SOCK_STREAM), 0);
	noos_freeaddrinfo(res);
	CHECK_EQ(noos_getaddrinfo("missing.noos", NULL, &hints, &res), -ENOENT);
	MUST(noos_close(dns_fd)); /* wakes the server's recvfrom with -EBADF */
	noos_thread_join(t, NULL);
}

/* ---- interfaces ---- */

static void test_interfaces(void)
{
	int n = noos_if_count();
	CHECK(n >= 1);
	struct noos_ifinfo info;
	CHECK_EQ(noos_if_info(0, NULL), -EINVAL);
	CHECK_EQ(noos_if_info((unsigned)n, &info), -ENODEV);
	MUST(noos_if_info(0, &info));
	CHECK(strcmp(info.name, "lo0") == 0);
	CHECK_EQ(info.ipv4.s_addr, noos_htonl(NOOS_INADDR_LOOPBACK));
	CHECK_EQ(info.netmask.s_addr, noos_htonl(0xff000000));
	CHECK_EQ(info.up, 1);
	CHECK_EQ(info.ipv6_count, 1);
	CHECK_EQ(info.ipv6[0].s6_u8[15], 1);
	for (int i = 1; i < n; i++) {
		MUST(noos_if_info((unsigned)i, &info));
		char want[8];
		snprintf(want, sizeof(want), "en%d", i);
		CHECK(strcmp(info.name, want) == 0);
		CHECK(info.index > 1);
	}
}

static void tcp_data4(void)
{
	test_tcp_data(NOOS_AF_INET);
}

static void tcp_data6(void)
{
	test_tcp_data(NOOS_AF_INET6);
}

static void udp4(void)
{
	test_udp(NOOS_AF_INET);
}

static void udp6(void)
{
	test_udp(NOOS_AF_INET6);
}

/* only=NAME on the command line runs one test (when hunting a failure). */
static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
    {"socket_args", test_socket_args},
    {"bad_descriptors", test_bad_descriptors},
    {"bind", test_bind},
    {"listen_accept", test_listen_accept},
    {"connect", test_connect},
    {"connect_nonblocking", test_connect_nonblocking},
    {"tcp_data4", tcp_data4},
    {"tcp_data6", tcp_data6},
    {"tcp_bulk", test_tcp_bulk},
    {"tcp_reset", test_tcp_reset},
    {"udp4", udp4},
    {"udp6", udp6},
    {"dual_stack", test_dual_stack},
    {"options", test_options},
    {"inet_text", test_inet_text},
    {"getaddrinfo_local", test_getaddrinfo_local},
    {"getaddrinfo_dns", test_getaddrinfo_dns},
    {"interfaces", test_interfaces},
};

int main(void)
{
	const char *only = noos_getenv("only");
	noos_net_start();
	for (unsigned i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!only || strcmp(only, tests[i].name) == 0)
			tests[i].fn();
	struct noos_socket_stats st;
	MUST(noos_socket_stats(&st));
	CHECK_EQ(st.sockets, 0); /* every test closed what it opened */
	CHECK_EQ(st.queues, 0);
	return finish("sockapi");
}
