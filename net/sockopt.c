/*
 * Socket options (noos_setsockopt / noos_getsockopt) with Linux's levels,
 * names, value types and checks (socket(7), tcp(7), ipv6(7)): an option
 * unknown at its level is -ENOPROTOOPT, a value shorter than its type
 * -EINVAL, and a value read back is truncated to the caller's length,
 * which is then set to what was copied.
 *
 * Where lwIP has the mechanism the option drives it: SO_REUSEADDR and
 * SO_KEEPALIVE are lwIP's SOF_ flags, TCP_NODELAY its Nagle switch,
 * TCP_KEEP* its keepalive timers. SO_SNDBUF bounds what a TCP socket queues
 * (at most lwIP's TCP_SND_BUF); SO_RCVBUF bounds a UDP socket's queue (a TCP
 * receive window is lwIP's TCP_WND: it is reported, not changed). As on
 * Linux, a buffer size set is doubled for bookkeeping and that is what is
 * read back.
 */
#include <errno.h>
#include <string.h>

#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "sock.h"

#define BUF_SET_MAX   (4u << 20) /* Linux's net.core.[rw]mem_max plays this part */
#define SNDBUF_MIN    4608u      /* Linux's SOCK_MIN_SNDBUF on 64-bit */
#define RCVBUF_MIN    2304u      /* SOCK_MIN_RCVBUF */
#define KEEP_TIME_MAX 32767      /* Linux's MAX_TCP_KEEPIDLE / MAX_TCP_KEEPINTVL (s) */
#define KEEP_CNT_MAX  127        /* MAX_TCP_KEEPCNT */
#define NS_PER_US     1000ull
#define NS_PER_S      1000000000ull

/* ---- set ---- */

static void apply_flags(struct sock *s)
{
	if (s->type == NOOS_SOCK_STREAM) {
		tcp_sock_apply_opts(s);
	} else if (s->pcb.udp) {
		if (s->reuseaddr)
			ip_set_option(s->pcb.udp, SOF_REUSEADDR);
		else
			ip_reset_option(s->pcb.udp, SOF_REUSEADDR);
	}
}

static uint32_t buf_size(int v, uint32_t min)
{
	uint32_t u = v < 0 ? 0 : (uint32_t)v;
	if (u > BUF_SET_MAX)
		u = BUF_SET_MAX;
	return u * 2 < min ? min : u * 2;
}

static int set_timeout(uint64_t *out, const void *val, noos_socklen_t len)
{
	struct noos_timeval tv;
	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	*out = (uint64_t)tv.tv_sec * NS_PER_S + (uint64_t)tv.tv_usec * NS_PER_US;
	return 0;
}

static int set_socket(struct sock *s, int name, int v, const void *val, noos_socklen_t len)
{
	switch (name) {
	case NOOS_SO_REUSEADDR:
		s->reuseaddr = v != 0;
		apply_flags(s);
		return 0;
	case NOOS_SO_BROADCAST:
		s->broadcast = v != 0;
		return 0;
	case NOOS_SO_KEEPALIVE:
		s->keepalive = v != 0;
		apply_flags(s);
		return 0;
	case NOOS_SO_SNDBUF:
		s->sndbuf = buf_size(v, SNDBUF_MIN);
		return 0;
	case NOOS_SO_RCVBUF:
		s->rcvbuf = buf_size(v, RCVBUF_MIN);
		return 0;
	case NOOS_SO_RCVTIMEO:
		return set_timeout(&s->rcvtimeo, val, len);
	case NOOS_SO_SNDTIMEO:
		return set_timeout(&s->sndtimeo, val, len);
	default:
		return -ENOPROTOOPT;
	}
}

static int set_tcp(struct sock *s, int name, int v)
{
	switch (name) {
	case NOOS_TCP_NODELAY:
		s->nodelay = v != 0;
		break;
	case NOOS_TCP_KEEPIDLE:
	case NOOS_TCP_KEEPINTVL:
		if (v < 1 || v > KEEP_TIME_MAX)
			return -EINVAL;
		if (name == NOOS_TCP_KEEPIDLE)
			s->keepidle = (uint32_t)v;
		else
			s->keepintvl = (uint32_t)v;
		break;
	case NOOS_TCP_KEEPCNT:
		if (v < 1 || v > KEEP_CNT_MAX)
			return -EINVAL;
		s->keepcnt = (uint32_t)v;
		break;
	default:
		return -ENOPROTOOPT;
	}
	tcp_sock_apply_opts(s);
	return 0;
}

static int set_opt(struct sock *s, int level, int name, const void *val, noos_socklen_t len)
{
	bool timeval =
	    level == NOOS_SOL_SOCKET && (name == NOOS_SO_RCVTIMEO || name == NOOS_SO_SNDTIMEO);
	int v = 0;
	if (!val || (!timeval && len < sizeof(int)))
		return -EINVAL;
	if (!timeval)
		memcpy(&v, val, sizeof(v));
	if (level == NOOS_SOL_SOCKET)
		return set_socket(s, name, v, val, len);
	if (level == NOOS_IPPROTO_TCP && s->type == NOOS_SOCK_STREAM)
		return set_tcp(s, name, v);
	if (level == NOOS_IPPROTO_IPV6 && s->family == NOOS_AF_INET6 && name == NOOS_IPV6_V6ONLY) {
		if (s->bound)
			return -EINVAL; /* as Linux: only before bind */
		s->v6only = v != 0;
		return 0;
	}
	return -ENOPROTOOPT;
}

int noos_setsockopt(int fd, int level, int name, const void *val, noos_socklen_t optlen)
{
	int err;
	struct sock *s = sock_begin(fd, &err);
	if (!s)
		return err;
	err = set_opt(s, level, name, val, optlen);
	sock_end(s);
	return err;
}

/* ---- get ---- */

static void get_timeout(uint64_t ns, struct noos_timeval *tv)
{
	tv->tv_sec = (long)(ns / NS_PER_S);
	tv->tv_usec = (long)(ns % NS_PER_S / NS_PER_US);
}

static int get_socket(struct sock *s, int name, int *v, struct noos_timeval *tv)
{
	switch (name) {
	case NOOS_SO_REUSEADDR:
		*v = s->reuseaddr;
		return 0;
	case NOOS_SO_TYPE:
		*v = s->type;
		return 0;
	case NOOS_SO_ERROR:
		*v = -sock_take_err(s);
		return 0;
	case NOOS_SO_BROADCAST:
		*v = s->broadcast;
		return 0;
	case NOOS_SO_SNDBUF:
		*v = (int)s->sndbuf;
		return 0;
	case NOOS_SO_RCVBUF:
		*v = (int)s->rcvbuf;
		return 0;
	case NOOS_SO_KEEPALIVE:
		*v = s->keepalive;
		return 0;
	case NOOS_SO_ACCEPTCONN:
		*v = s->state == SS_LISTEN;
		return 0;
	case NOOS_SO_PROTOCOL:
		*v = s->type == NOOS_SOCK_STREAM ? NOOS_IPPROTO_TCP : NOOS_IPPROTO_UDP;
		return 0;
	case NOOS_SO_DOMAIN:
		*v = s->family;
		return 0;
	case NOOS_SO_RCVTIMEO:
	case NOOS_SO_SNDTIMEO:
		get_timeout(name == NOOS_SO_RCVTIMEO ? s->rcvtimeo : s->sndtimeo, tv);
		return 1; /* the value is tv */
	default:
		return -ENOPROTOOPT;
	}
}

static int get_tcp(struct sock *s, int name, int *v)
{
	switch (name) {
	case NOOS_TCP_NODELAY:
		*v = s->nodelay;
		return 0;
	case NOOS_TCP_KEEPIDLE:
		*v = (int)s->keepidle;
		return 0;
	case NOOS_TCP_KEEPINTVL:
		*v = (int)s->keepintvl;
		return 0;
	case NOOS_TCP_KEEPCNT:
		*v = (int)s->keepcnt;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* 0: *v is the value; 1: *tv is; or -ENOPROTOOPT. */
static int get_opt(struct sock *s, int level, int name, int *v, struct noos_timeval *tv)
{
	if (level == NOOS_SOL_SOCKET)
		return get_socket(s, name, v, tv);
	if (level == NOOS_IPPROTO_TCP && s->type == NOOS_SOCK_STREAM)
		return get_tcp(s, name, v);
	if (level == NOOS_IPPROTO_IPV6 && s->family == NOOS_AF_INET6 && name == NOOS_IPV6_V6ONLY) {
		*v = s->v6only;
		return 0;
	}
	return -ENOPROTOOPT;
}

int noos_getsockopt(int fd, int level, int name, void *val, noos_socklen_t *optlen)
{
	if (!val || !optlen)
		return -EINVAL;
	int err;
	struct sock *s = sock_begin(fd, &err);
	if (!s)
		return err;
	int v = 0;
	struct noos_timeval tv;
	err = get_opt(s, level, name, &v, &tv);
	sock_end(s);
	if (err < 0)
		return err;
	const void *src = err ? (const void *)&tv : (const void *)&v;
	noos_socklen_t size = err ? sizeof(tv) : sizeof(v);
	if (*optlen < size)
		size = *optlen;
	memcpy(val, src, size);
	*optlen = size;
	return 0;
}
