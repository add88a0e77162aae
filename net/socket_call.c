/*
 * The socket calls that move connections and data (noos.h "sockets"):
 * argument checks, then the protocol's step (socket_tcp.c, socket_udp.c)
 * in a loop that sleeps on the socket (nfile_sleep) while the step says
 * -EAGAIN and the call may block. A sleeper wakes on every change of the
 * socket and on its close (then -EBADF), and gives up at the socket's
 * receive or send timeout (NOOS_SO_RCVTIMEO / SNDTIMEO: -EAGAIN, as Linux;
 * connect: -EINPROGRESS, as Linux).
 */
#include <errno.h>
#include <string.h>

#include "lwip/tcp.h"

#include "sock.h"

#define RECV_FLAGS                                                                                 \
	(NOOS_MSG_PEEK | NOOS_MSG_TRUNC | NOOS_MSG_DONTWAIT | NOOS_MSG_WAITALL | NOOS_MSG_NOSIGNAL)
#define SEND_FLAGS (NOOS_MSG_DONTWAIT | NOOS_MSG_NOSIGNAL)

static bool may_block(const struct sock *s, int flags)
{
	return !s->nonblock && !(flags & NOOS_MSG_DONTWAIT);
}

static uint64_t deadline_of(uint64_t timeout_ns)
{
	return timeout_ns ? deadline_after(timeout_ns) : NOOS_FOREVER;
}

int noos_bind(int fd, const struct noos_sockaddr *addr, noos_socklen_t addrlen)
{
	int err;
	struct sock *s = sock_begin(fd, &err);
	if (!s)
		return err;
	ip_addr_t ip;
	uint16_t port;
	err = sock_addr_in(s, addr, addrlen, &ip, &port);
	if (err == -ENETUNREACH)
		err = -EINVAL; /* IPv4-mapped on an IPv6-only socket (Linux's inet6_bind) */
	if (!err && !ip_addr_isany(&ip) && !sock_addr_is_local(&ip))
		err = -EADDRNOTAVAIL;
	if (!err)
		err = s->type == NOOS_SOCK_STREAM ? tcp_sock_bind(s, &ip, port)
		                                  : udp_sock_bind(s, &ip, port);
	sock_end(s);
	return err;
}

int noos_listen(int fd, int backlog)
{
	int err;
	struct sock *s = sock_begin(fd, &err);
	if (!s)
		return err;
	err = s->type == NOOS_SOCK_STREAM ? tcp_sock_listen(s, backlog) : -EOPNOTSUPP;
	sock_end(s);
	return err;
}

int noos_accept4(int fd, struct noos_sockaddr *addr, noos_socklen_t *addrlen, int flags)
{
	if (flags & ~(NOOS_SOCK_NONBLOCK | NOOS_SOCK_CLOEXEC))
		return -EINVAL;
	int err;
	struct sock *s = sock_begin(fd, &err);
	if (!s)
		return err;
	if (s->type != NOOS_SOCK_STREAM) {
		sock_end(s);
		return -EOPNOTSUPP;
	}
	uint64_t deadline = deadline_of(s->rcvtimeo);
	struct sock *c;
	int r;
	while ((r = tcp_sock_accept(s, flags & NOOS_SOCK_NONBLOCK, &c)) == -EAGAIN &&
	       may_block(s, 0)) {
		int e = nfile_sleep(&s->f, deadline);
		if (e) {
			r = e == -ETIMEDOUT ? -EAGAIN : e;
			break;
		}
	}
	if (r >= 0 && addrlen)
		sock_addr_out(c, &c->remote_ip, c->remote_port, addr, addrlen);
	sock_end(s);
	return r;
}

int noos_accept(int fd, struct noos_sockaddr *addr, noos_socklen_t *addrlen)
{
	return noos_accept4(fd, addr, addrlen, 0);
}

/* A connect already under way or finished: what Linux's inet_stream_connect says then. */
static int connect_again(struct sock *s)
{
	if (!s->conn_wait)
		return 1; /* not that case */
	if (s->state == SS_CONNECTING)
		return -EALREADY;
	s->conn_wait = false;
	if (s->state == SS_CONNECTED)
		return 0;
	return s->err ? sock_take_err(s) : -ECONNABORTED;
}

static int tcp_connect_wait(struct sock *s)
{
	uint64_t deadline = deadline_of(s->sndtimeo);
	while (s->state == SS_CONNECTING) {
		int e = nfile_sleep(&s->f, deadline);
		if (e == -ETIMEDOUT) {
			s->conn_wait = true;
			return -EINPROGRESS;
		}
		if (e)
			return e;
	}
	if (s->state == SS_CONNECTED)
		return 0;
	return s->err ? sock_take_err(s) : -ECONNABORTED;
}

static int do_connect(struct sock *s, const struct noos_sockaddr *addr, noos_socklen_t addrlen)
{
	ip_addr_t ip;
	uint16_t port;
	if (s->type == NOOS_SOCK_DGRAM && addr && addrlen >= sizeof(addr->sa_family) &&
	    addr->sa_family == NOOS_AF_UNSPEC)
		return udp_sock_connect(s, NULL, 0);
	int err = sock_addr_in(s, addr, addrlen, &ip, &port);
	if (err)
		return err;
	if (s->type == NOOS_SOCK_DGRAM)
		return udp_sock_connect(s, &ip, port);
	err = connect_again(s);
	if (err <= 0)
		return err;
	err = tcp_sock_connect(s, &ip, port);
	if (err != -EINPROGRESS)
		return err;
	if (!may_block(s, 0)) {
		s->conn_wait = true;
		return err;
	}
	return tcp_connect_wait(s);
}

int noos_connect(int fd, const struct noos_sockaddr *addr, noos_socklen_t addrlen)
{
	int err;
	struct sock *s = sock_begin(fd, &err);
	if (!s)
		return err;
	err = do_connect(s, addr, addrlen);
	sock_end(s);
	return err;
}

/* TCP: queue all of buf, sleeping for room unless the call may not block. */
static long tcp_send_all(struct sock *s, const uint8_t *buf, size_t len, int flags)
{
	uint64_t deadline = deadline_of(s->sndtimeo);
	size_t done = 0;
	long n = 0;
	while (done < len || len == 0) {
		n = tcp_sock_send(s, buf + done, len - done, false);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n != -EAGAIN || !may_block(s, flags))
			break;
		int e = nfile_sleep(&s->f, deadline);
		if (e) {
			n = e == -ETIMEDOUT ? -EAGAIN : e;
			break;
		}
	}
	return done ? (long)done : n;
}

long noos_sendto(int fd, const void *buf, size_t len, int flags, const struct noos_sockaddr *addr,
                 noos_socklen_t addrlen)
{
	if ((flags & ~SEND_FLAGS) || (!buf && len))
		return -EINVAL;
	int err;
	struct sock *s = sock_begin(fd, &err);
	if (!s)
		return err;
	long n;
	if (s->type == NOOS_SOCK_STREAM) {
		n = tcp_send_all(s, buf, len,
		                 flags); /* addr ignored, as Linux does when connected */
	} else if (addr) {
		ip_addr_t ip;
		uint16_t port;
		n = sock_addr_in(s, addr, addrlen, &ip, &port);
		if (!n)
			n = udp_sock_sendto(s, buf, len, &ip, port);
	} else {
		n = udp_sock_sendto(s, buf, len, NULL, 0);
	}
	sock_end(s);
	return n;
}

long noos_send(int fd, const void *buf, size_t len, int flags)
{
	return noos_sendto(fd, buf, len, flags, NULL, 0);
}

/* TCP: up to len bytes (all of them with MSG_WAITALL), sleeping while there are none. */
static long tcp_recv_loop(struct sock *s, uint8_t *buf, size_t len, int flags)
{
	uint64_t deadline = deadline_of(s->rcvtimeo);
	bool peek = flags & NOOS_MSG_PEEK, all = (flags & NOOS_MSG_WAITALL) && !peek;
	size_t got = 0;
	long n = 0;
	while (got < len) {
		n = tcp_sock_recv(s, buf + got, len - got, peek);
		if (n > 0) {
			got += (size_t)n;
			if (!all)
				break;
			continue;
		}
		if (n == 0 || n != -EAGAIN || !may_block(s, flags))
			break;
		int e = nfile_sleep(&s->f, deadline);
		if (e) {
			n = e == -ETIMEDOUT ? -EAGAIN : e;
			break;
		}
	}
	if (got && n < 0 && n != -EAGAIN && n != -EBADF)
		s->err = (int)-n; /* report the error on the next call, after these bytes */
	return got ? (long)got : n;
}

static long udp_recv_loop(struct sock *s, void *buf, size_t len, int flags, ip_addr_t *from,
                          uint16_t *port)
{
	uint64_t deadline = deadline_of(s->rcvtimeo);
	for (;;) {
		long n = udp_sock_recv(s, buf, len, flags & NOOS_MSG_PEEK, flags & NOOS_MSG_TRUNC,
		                       from, port);
		if (n != -EAGAIN || !may_block(s, flags))
			return n;
		int e = nfile_sleep(&s->f, deadline);
		if (e)
			return e == -ETIMEDOUT ? -EAGAIN : e;
	}
}

long noos_recvfrom(int fd, void *buf, size_t len, int flags, struct noos_sockaddr *addr,
                   noos_socklen_t *addrlen)
{
	if ((flags & ~RECV_FLAGS) || (!buf && len))
		return -EINVAL;
	int err;
	struct sock *s = sock_begin(fd, &err);
	if (!s)
		return err;
	long n;
	if (s->type == NOOS_SOCK_STREAM) {
		n = len ? tcp_recv_loop(s, buf, len, flags) : 0;
		if (addrlen)
			*addrlen = 0; /* Linux gives no address for a stream */
	} else {
		ip_addr_t from;
		uint16_t port;
		n = udp_recv_loop(s, buf, len, flags, &from, &port);
		if (n >= 0 && addrlen)
			sock_addr_out(s, &from, port, addr, addrlen);
	}
	sock_end(s);
	return n;
}

long noos_recv(int fd, void *buf, size_t len, int flags)
{
	return noos_recvfrom(fd, buf, len, flags, NULL, NULL);
}

int noos_shutdown(int fd, int how)
{
	if (how != NOOS_SHUT_RD && how != NOOS_SHUT_WR && how != NOOS_SHUT_RDWR)
		return -EINVAL;
	int err;
	struct sock *s = sock_begin(fd, &err);
	if (!s)
		return err;
	err = s->type == NOOS_SOCK_STREAM ? tcp_sock_shutdown(s, how) : udp_sock_shutdown(s, how);
	nfile_wake(&s->f, EV_ALL);
	sock_end(s);
	return err;
}
