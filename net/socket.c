/*
 * Socket objects: creation and closing, readiness, socket addresses
 * (Linux's sockaddr_in / sockaddr_in6 <-> lwIP's ip_addr_t), lwIP's errors
 * as errno values, non-blocking mode, getsockname / getpeername and the
 * counters. The calls that move data or connections are in socket_call.c,
 * the protocols in socket_tcp.c and socket_udp.c.
 *
 * Dual stack as Linux (ipv6(7)): an AF_INET6 socket without IPV6_V6ONLY
 * that binds :: takes IPv4 as well (lwIP's IPADDR_TYPE_ANY addresses), and
 * IPv4 peers appear as IPv4-mapped addresses ::ffff:a.b.c.d.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "sock.h"

struct net_sock_stats sock_stats;

/* Linux's defaults (net.core.rmem_default/wmem_default) for UDP; lwIP's buffers for TCP. */
#define UDP_BUF_DEFAULT 212992u

struct sock *sock_alloc(int family, int type)
{
	struct sock *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	nfile_init(&s->f, NF_SOCK);
	s->family = (uint8_t)family;
	s->type = (uint8_t)type;
	s->dq_tail = &s->dq;
	s->aq_tail = &s->aq;
	s->sndbuf = type == NOOS_SOCK_STREAM ? TCP_SND_BUF : UDP_BUF_DEFAULT;
	s->rcvbuf = type == NOOS_SOCK_STREAM ? TCP_WND : UDP_BUF_DEFAULT;
	sock_stats.sockets++;
	return s;
}

void sock_free(struct sock *s)
{
	free(s);
}

/* Stack lock: detach from lwIP, drop what was queued, leave every event queue. */
void sock_close(struct sock *s)
{
	if (s->type == NOOS_SOCK_STREAM)
		tcp_sock_close(s);
	else
		udp_sock_close(s);
	sock_stats.sockets--;
}

uint32_t sock_events(struct sock *s)
{
	uint32_t ev = s->type == NOOS_SOCK_STREAM ? tcp_sock_events(s) : udp_sock_events(s);
	if (s->err)
		ev |= NOOS_EPOLLERR;
	return ev;
}

struct sock *sock_get(int fd, int *err)
{
	return (struct sock *)fd_get_kind(fd, NF_SOCK, -ENOTSOCK, err);
}

/* fd -> its socket, referenced and with the stack lock held; NULL with *err. */
struct sock *sock_begin(int fd, int *err)
{
	return (struct sock *)nfile_begin(fd, NF_SOCK, -ENOTSOCK, err);
}

void sock_end(struct sock *s)
{
	nfile_end(&s->f);
}

int sock_take_err(struct sock *s)
{
	int e = s->err;
	s->err = 0;
	return -e;
}

int sock_err_from_lwip(err_t err)
{
	switch (err) {
	case ERR_OK:
		return 0;
	case ERR_MEM:
		return -ENOMEM;
	case ERR_BUF:
		return -ENOBUFS;
	case ERR_TIMEOUT:
		return -ETIMEDOUT;
	case ERR_RTE:
		return -ENETUNREACH;
	case ERR_INPROGRESS:
		return -EINPROGRESS;
	case ERR_WOULDBLOCK:
		return -EAGAIN;
	case ERR_USE:
		return -EADDRINUSE;
	case ERR_ALREADY:
		return -EALREADY;
	case ERR_ISCONN:
		return -EISCONN;
	case ERR_CONN:
	case ERR_CLSD:
		return -ENOTCONN;
	case ERR_ABRT:
		return -ECONNABORTED;
	case ERR_RST:
		return -ECONNRESET;
	case ERR_IF:
		return -EIO;
	default: /* ERR_VAL, ERR_ARG */
		return -EINVAL;
	}
}

/* ---- addresses ---- */

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int addr_in4(const struct noos_sockaddr_in *sin, ip_addr_t *ip, uint16_t *port)
{
	ip_addr_set_ip4_u32_val(*ip, sin->sin_addr.s_addr);
	*port = noos_ntohs(sin->sin_port);
	return 0;
}

static int addr_in6(const struct sock *s, const struct noos_sockaddr_in6 *sin6, noos_socklen_t len,
                    ip_addr_t *ip, uint16_t *port)
{
	const uint8_t *b = sin6->sin6_addr.s6_u8;
	*port = noos_ntohs(sin6->sin6_port);
	if (memcmp(b, v4mapped_prefix, 12) == 0) {
		if (s->v6only)
			return -ENETUNREACH; /* Linux's connect and sendto; bind says -EINVAL */
		uint32_t a;
		memcpy(&a, b + 12, 4);
		ip_addr_set_ip4_u32_val(*ip, a);
		return 0;
	}
	static const uint8_t zero[16];
	if (memcmp(b, zero, 16) == 0) {
		*ip = s->v6only ? *IP6_ADDR_ANY : *IP_ANY_TYPE;
		return 0;
	}
	uint32_t w[4];
	memcpy(w, b, 16);
	IP_ADDR6(ip, w[0], w[1], w[2], w[3]);
	/* sin6_scope_id is an interface index, as lwIP's zones are (netif_get_index). */
	uint32_t scope = len >= sizeof(*sin6) ? sin6->sin6_scope_id : 0;
	if (scope > 255)
		return -EINVAL; /* no such interface */
	/* lwIP keeps zones only on scoped (link-local) addresses; Linux ignores the rest's. */
	if (scope && ip6_addr_has_scope(ip_2_ip6(ip), IP6_UNKNOWN))
		ip6_addr_set_zone(ip_2_ip6(ip), (u8_t)scope);
	return 0;
}

int sock_addr_in(const struct sock *s, const struct noos_sockaddr *sa, noos_socklen_t len,
                 ip_addr_t *ip, uint16_t *port)
{
	/* As Linux's inet_bind / inet6_bind: the length first, then the family. */
	noos_socklen_t need = s->family == NOOS_AF_INET ? sizeof(struct noos_sockaddr_in) : 24;
	if (!sa || len < need)
		return -EINVAL;
	if (sa->sa_family != s->family)
		return -EAFNOSUPPORT;
	if (s->family == NOOS_AF_INET)
		return addr_in4((const struct noos_sockaddr_in *)sa, ip, port);
	return addr_in6(s, (const struct noos_sockaddr_in6 *)sa, len, ip, port);
}

static noos_socklen_t addr_build(const struct sock *s, const ip_addr_t *ip, uint16_t port,
                                 struct noos_sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (s->family == NOOS_AF_INET) {
		struct noos_sockaddr_in *sin = (struct noos_sockaddr_in *)ss;
		sin->sin_family = NOOS_AF_INET;
		sin->sin_port = noos_htons(port);
		sin->sin_addr.s_addr = IP_IS_V4(ip) ? ip4_addr_get_u32(ip_2_ip4(ip)) : 0;
		return sizeof(*sin);
	}
	struct noos_sockaddr_in6 *sin6 = (struct noos_sockaddr_in6 *)ss;
	sin6->sin6_family = NOOS_AF_INET6;
	sin6->sin6_port = noos_htons(port);
	if (IP_IS_V4(ip) && !ip_addr_isany(ip)) {
		uint32_t a = ip4_addr_get_u32(ip_2_ip4(ip));
		memcpy(sin6->sin6_addr.s6_u8, v4mapped_prefix, 12);
		memcpy(sin6->sin6_addr.s6_u8 + 12, &a, 4);
	} else if (IP_IS_V6(ip)) {
		memcpy(sin6->sin6_addr.s6_u8, ip_2_ip6(ip)->addr, 16);
		if (ip6_addr_has_zone(ip_2_ip6(ip)))
			sin6->sin6_scope_id = ip6_addr_zone(ip_2_ip6(ip));
	}
	return sizeof(*sin6);
}

void sock_addr_out(const struct sock *s, const ip_addr_t *ip, uint16_t port,
                   struct noos_sockaddr *sa, noos_socklen_t *len)
{
	if (!len)
		return;
	struct noos_sockaddr_storage ss;
	noos_socklen_t full = addr_build(s, ip, port, &ss);
	if (sa)
		memcpy(sa, &ss, *len < full ? *len : full);
	*len = full;
}

bool sock_addr_is_local(const ip_addr_t *ip)
{
	struct netif *n;
	NETIF_FOREACH(n)
	{
		if (IP_IS_V4(ip) && ip4_addr_cmp(netif_ip4_addr(n), ip_2_ip4(ip)))
			return true;
		if (IP_IS_V6(ip) && netif_get_ip6_addr_match(n, ip_2_ip6(ip)) >= 0)
			return true;
	}
	return false;
}

void sock_addr_any(const struct sock *s, ip_addr_t *ip)
{
	if (s->family == NOOS_AF_INET)
		ip_addr_copy(*ip, *IP4_ADDR_ANY);
	else
		*ip = s->v6only ? *IP6_ADDR_ANY : *IP_ANY_TYPE;
}

/* ---- the calls ---- */

int noos_socket(int domain, int type, int protocol)
{
	int kind = type & ~(NOOS_SOCK_NONBLOCK | NOOS_SOCK_CLOEXEC);
	if (domain != NOOS_AF_INET && domain != NOOS_AF_INET6)
		return -EAFNOSUPPORT;
	if (kind != NOOS_SOCK_STREAM && kind != NOOS_SOCK_DGRAM)
		return -EINVAL;
	int own = kind == NOOS_SOCK_STREAM ? NOOS_IPPROTO_TCP : NOOS_IPPROTO_UDP;
	if (protocol != 0 && protocol != own)
		return -EPROTONOSUPPORT;
	noos_net_start(); /* lwIP and its loopback, at least */
	net_lock();
	struct sock *s = sock_alloc(domain, kind);
	int err = s ? (kind == NOOS_SOCK_STREAM ? tcp_sock_open(s) : udp_sock_open(s)) : -ENOMEM;
	if (s && err) {
		sock_stats.sockets--;
		free(s);
	}
	net_unlock();
	if (err)
		return err;
	s->nonblock = (type & NOOS_SOCK_NONBLOCK) != 0;
	int fd = fd_install(&s->f);
	if (fd < 0) {
		net_lock();
		s->f.closed = true;
		sock_close(s);
		net_unlock();
		nfile_put(&s->f);
	}
	return fd;
}

int noos_close(int fd)
{
	struct nfile *f = fd_remove(fd);
	if (!f)
		return -EBADF;
	net_lock();
	f->closed = true;
	if (f->kind == NF_SOCK)
		sock_close((struct sock *)f);
	else if (f->kind == NF_EPOLL)
		epoll_close((struct epoll *)f);
	nfile_wake(f, EV_ALL | EV_CLOSED); /* an event counter has nothing else to let go */
	net_unlock();
	nfile_put(f);
	return 0;
}

int noos_set_nonblock(int fd, int on)
{
	struct nfile *f = fd_get(fd);
	if (!f)
		return -EBADF;
	int err = 0;
	if (f->kind == NF_SOCK)
		__atomic_store_n(&((struct sock *)f)->nonblock, on != 0, __ATOMIC_RELAXED);
	else if (f->kind == NF_EVENT)
		eventfd_set_nonblock((struct eventfd *)f, on != 0);
	else
		err = -ENOTSOCK; /* an event queue blocks only in its wait, which has a timeout */
	nfile_put(f);
	return err;
}

static void refresh_addrs(struct sock *s)
{
	if (s->type == NOOS_SOCK_STREAM)
		tcp_sock_addrs(s);
	else
		udp_sock_addrs(s);
}

int noos_getsockname(int fd, struct noos_sockaddr *addr, noos_socklen_t *addrlen)
{
	int err;
	struct sock *s = sock_get(fd, &err);
	if (!s)
		return err;
	if (!addrlen) {
		sock_put(s);
		return -EINVAL;
	}
	net_lock();
	refresh_addrs(s);
	sock_addr_out(s, &s->local_ip, s->local_port, addr, addrlen);
	net_unlock();
	sock_put(s);
	return 0;
}

int noos_getpeername(int fd, struct noos_sockaddr *addr, noos_socklen_t *addrlen)
{
	int err;
	struct sock *s = sock_get(fd, &err);
	if (!s)
		return err;
	net_lock();
	refresh_addrs(s);
	err = !addrlen ? -EINVAL : s->state != SS_CONNECTED ? -ENOTCONN : 0;
	if (!err)
		sock_addr_out(s, &s->remote_ip, s->remote_port, addr, addrlen);
	net_unlock();
	sock_put(s);
	return err;
}

int noos_socket_stats(struct noos_socket_stats *st)
{
	if (!st)
		return -EINVAL;
	net_lock();
	*st = (struct noos_socket_stats){
	    .sockets = sock_stats.sockets,
	    .tcp_open = sock_stats.tcp_open,
	    .queues = sock_stats.queues,
	    .tcp_accepted = sock_stats.tcp_accepted,
	    .tcp_connected = sock_stats.tcp_connected,
	    .tcp_reset = sock_stats.tcp_reset,
	    .udp_dropped = sock_stats.udp_dropped,
	};
	net_unlock();
	return 0;
}
