/*
 * TCP sockets on lwIP's raw API (lwIP 2.1 doc/rawapi.txt, src/core/tcp.c),
 * every call and callback under the stack lock (sock.h).
 *
 * Receive: lwIP hands each segment's pbufs to on_recv, which queues them
 * unread; lwIP's advertised window shrinks by what is queued and opens
 * again (tcp_recved) as the application reads, so the queue is bounded by
 * the window (TCP_WND) and a slow reader slows the peer down.
 *
 * Send: data is copied into lwIP's send buffer (tcp_write with
 * TCP_WRITE_FLAG_COPY) up to NOOS_SO_SNDBUF, and lwIP frees it as it is
 * acknowledged (on_sent). A send that finds no room marks the socket
 * "nospace"; the next time room appears is an EPOLLOUT edge, as Linux's
 * SOCK_NOSPACE / sk_write_space.
 *
 * Lifetime of the pcb (lwIP's control block): lwIP frees it on its own
 * after a reset or a timeout (on_err, the pcb is gone when it runs), and
 * after a connection closed in both directions (TIME_WAIT, LAST_ACK): so
 * once our FIN is out and the peer's is in, the socket lets the pcb go
 * (finish) and lwIP completes the close alone. noos_close detaches the
 * callbacks and hands the pcb to tcp_close (graceful: queued data, then
 * FIN), or resets the connection when unread data would be lost, as Linux
 * does (RFC 2525 §2.17).
 *
 * Readiness follows Linux's tcp_poll (net/ipv4/tcp.c) bit by bit, so an
 * unconnected socket is writable and hung up, a failed one is all of
 * ERR|HUP|IN|RDHUP|OUT, and a listener is readable only with a connection
 * waiting.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/priv/tcp_priv.h" /* TCP_KEEP*_DEFAULT */
#include "lwip/tcp.h"

#include "sock.h"

#define POLL_INTERVAL 2   /* lwIP's coarse timer ticks (500 ms): retry a send that found no memory \
	                   */
#define WRITE_MAX 0xffffu /* tcp_write takes a u16_t length */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len);
static void on_err(void *arg, err_t err);
static err_t on_poll(void *arg, struct tcp_pcb *pcb);

/* ---- state, counters ---- */

static void set_state(struct sock *s, enum sock_state st)
{
	bool open = st == SS_CONNECTING || st == SS_CONNECTED;
	if (open != s->counted) {
		if (open)
			sock_stats.tcp_open++;
		else
			sock_stats.tcp_open--;
		s->counted = open;
	}
	s->state = (uint8_t)st;
}

static void attach(struct sock *s, struct tcp_pcb *pcb)
{
	s->pcb.tcp = pcb;
	tcp_arg(pcb, s);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	tcp_poll(pcb, on_poll, POLL_INTERVAL);
}

/* lwIP keeps the pcb; nothing of it calls us any more. */
static struct tcp_pcb *detach(struct sock *s)
{
	struct tcp_pcb *pcb = s->pcb.tcp;
	s->pcb.tcp = NULL;
	if (pcb && s->state != SS_LISTEN) {
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL); /* lwIP's tcp_recv_null: acknowledges, frees, closes on FIN */
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_poll(pcb, NULL, 0);
	}
	return pcb;
}

void tcp_sock_apply_opts(struct sock *s)
{
	struct tcp_pcb *pcb = s->pcb.tcp;
	if (!pcb)
		return;
	if (s->reuseaddr)
		ip_set_option(pcb, SOF_REUSEADDR);
	else
		ip_reset_option(pcb, SOF_REUSEADDR);
	if (s->keepalive)
		ip_set_option(pcb, SOF_KEEPALIVE);
	else
		ip_reset_option(pcb, SOF_KEEPALIVE);
	if (s->state == SS_LISTEN)
		return; /* a listening pcb has no more than that: children get the rest */
	if (s->nodelay)
		tcp_nagle_disable(pcb);
	else
		tcp_nagle_enable(pcb);
	pcb->keep_idle = s->keepidle * 1000u;
	pcb->keep_intvl = s->keepintvl * 1000u;
	pcb->keep_cnt = s->keepcnt;
}

int tcp_sock_open(struct sock *s)
{
	struct tcp_pcb *pcb =
	    tcp_new_ip_type(s->family == NOOS_AF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_ANY);
	if (!pcb)
		return -ENOMEM;
	if (!s->keepidle) { /* lwIP's defaults are Linux's: 7200 s, 75 s, 9 probes */
		s->keepidle = TCP_KEEPIDLE_DEFAULT / 1000;
		s->keepintvl = TCP_KEEPINTVL_DEFAULT / 1000;
		s->keepcnt = TCP_KEEPCNT_DEFAULT;
	}
	attach(s, pcb);
	tcp_sock_apply_opts(s);
	return 0;
}

void tcp_sock_addrs(struct sock *s)
{
	struct tcp_pcb *pcb = s->pcb.tcp;
	if (!pcb)
		return;
	ip_addr_copy(s->local_ip, pcb->local_ip);
	s->local_port = pcb->local_port;
	if (s->state == SS_LISTEN)
		return; /* a listening pcb has no remote fields */
	ip_addr_copy(s->remote_ip, pcb->remote_ip);
	s->remote_port = pcb->remote_port;
}

/* ---- receive queue ---- */

static void rx_drop(struct sock *s)
{
	for (struct pbuf *p = s->rx, *next; p; p = next) {
		next = p->next;
		p->next = NULL;
		pbuf_free(p);
	}
	s->rx = s->rx_last = NULL;
	s->rx_off = 0;
	s->rx_bytes = 0;
}

/* Append p's pieces one by one: the queue may exceed a pbuf chain's 64 KiB tot_len. */
static void rx_append(struct sock *s, struct pbuf *p)
{
	s->rx_bytes += p->tot_len;
	if (s->rx_last)
		s->rx_last->next = p;
	else
		s->rx = p;
	while (p->next)
		p = p->next;
	s->rx_last = p;
}

/* Copy up to len queued bytes; consume them unless peek. */
static size_t rx_copy(struct sock *s, uint8_t *buf, size_t len, bool peek)
{
	size_t done = 0;
	uint32_t off = s->rx_off;
	for (struct pbuf *p = s->rx; p && done < len; p = p->next) {
		size_t n = p->len - off;
		if (n > len - done)
			n = len - done;
		memcpy(buf + done, (uint8_t *)p->payload + off, n);
		done += n;
		off = (off + n == p->len) ? 0 : off + (uint32_t)n;
	}
	if (peek)
		return done;
	s->rx_bytes -= done;
	size_t left = done + s->rx_off;
	while (s->rx && left >= s->rx->len) {
		struct pbuf *p = s->rx;
		left -= p->len;
		s->rx = p->next;
		p->next = NULL;
		pbuf_free(p);
	}
	if (!s->rx)
		s->rx_last = NULL;
	s->rx_off = (uint32_t)left;
	return done;
}

/* The application took n bytes: open the window by as much. */
static void window_open(struct sock *s, size_t n)
{
	while (s->pcb.tcp && n) {
		u16_t chunk = n > 0xffff ? 0xffff : (u16_t)n;
		tcp_recved(s->pcb.tcp, chunk);
		n -= chunk;
	}
}

/* ---- callbacks (lwIP, stack lock held) ---- */

/* Our FIN is out and the peer's is in: lwIP finishes the close (and frees the pcb) alone. */
static void finish(struct sock *s)
{
	tcp_sock_addrs(s);
	detach(s);
	set_state(s, SS_CLOSED);
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sock *s = arg;
	(void)err; /* always ERR_OK in lwIP 2.1 */
	if (!p) {
		s->fin = true;
		s->shut |= SHUT_RCV;
		if (s->shut & SHUT_SEND)
			finish(s);
		nfile_wake(&s->f, EV_ALL);
		return ERR_OK;
	}
	if (s->shut & SHUT_RCV) { /* our SHUT_RD: read and thrown away, not reset (Linux) */
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	rx_append(s, p);
	nfile_wake(&s->f, EV_IN);
	return ERR_OK;
}

static bool writable(struct sock *s);

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct sock *s = arg;
	(void)pcb;
	(void)len;
	if (s->nospace && writable(s)) {
		s->nospace = false;
		nfile_wake(&s->f, EV_OUT);
	}
	return ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
	(void)pcb;
	return on_sent(arg, pcb, 0);
}

/* lwIP freed the pcb: a reset (refused, if connecting), or a timeout. */
static void on_err(void *arg, err_t err)
{
	struct sock *s = arg;
	bool connecting = s->state == SS_CONNECTING;
	s->pcb.tcp = NULL;
	if (err == ERR_RST)
		s->err = connecting ? ECONNREFUSED : ECONNRESET;
	else /* ERR_ABRT: lwIP's retransmission, SYN or keepalive timer gave up */
		s->err = ETIMEDOUT;
	s->shut = SHUT_RCV | SHUT_SEND;
	set_state(s, SS_CLOSED);
	sock_stats.tcp_reset++;
	nfile_wake(&s->f, EV_ALL);
}

static void on_connected_state(struct sock *s)
{
	set_state(s, SS_CONNECTED);
	tcp_sock_addrs(s);
	sock_stats.tcp_connected++;
	nfile_wake(&s->f, EV_ALL);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)pcb;
	(void)err; /* always ERR_OK: failures come through on_err */
	on_connected_state(arg);
	return ERR_OK;
}

/* A connection completed its handshake on a listener: queue it for accept. */
static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *l = arg;
	if (err != ERR_OK || !pcb || !l)
		return ERR_VAL;
	struct sock *c = sock_alloc(l->family, NOOS_SOCK_STREAM);
	if (!c)
		return ERR_MEM; /* lwIP resets the connection */
	c->v6only = l->v6only;
	c->bound = true;
	c->nodelay = l->nodelay;
	c->keepalive = l->keepalive;
	c->keepidle = l->keepidle;
	c->keepintvl = l->keepintvl;
	c->keepcnt = l->keepcnt;
	c->sndbuf = l->sndbuf;
	c->rcvbuf = l->rcvbuf;
	c->rcvtimeo = l->rcvtimeo;
	c->sndtimeo = l->sndtimeo;
	attach(c, pcb);
	set_state(c, SS_CONNECTED);
	tcp_sock_apply_opts(c);
	tcp_sock_addrs(c);
	tcp_backlog_delayed(pcb); /* counts against the backlog until accepted */
	*l->aq_tail = c;
	l->aq_tail = &c->aq_next;
	l->aq_len++;
	nfile_wake(&l->f, EV_IN);
	return ERR_OK;
}

/* ---- calls ---- */

int tcp_sock_bind(struct sock *s, const ip_addr_t *ip, uint16_t port)
{
	if (s->bound || s->state != SS_NEW || !s->pcb.tcp)
		return -EINVAL;
	tcp_sock_apply_opts(s);
	err_t err = tcp_bind(s->pcb.tcp, ip, port);
	if (err != ERR_OK)
		return sock_err_from_lwip(err);
	s->bound = true;
	tcp_sock_addrs(s);
	return 0;
}

int tcp_sock_listen(struct sock *s, int backlog)
{
	u8_t bl = backlog < 1 ? 1 : backlog > 255 ? 255 : (u8_t)backlog;
	if (s->state == SS_LISTEN) { /* Linux: listen again changes the backlog */
		tcp_backlog_set(s->pcb.tcp, bl);
		s->backlog = bl;
		return 0;
	}
	if (s->state != SS_NEW || !s->pcb.tcp)
		return -EINVAL;
	if (!s->bound) {
		ip_addr_t any;
		sock_addr_any(s, &any);
		int e = tcp_sock_bind(s, &any, 0);
		if (e)
			return e;
	}
	err_t err;
	struct tcp_pcb *l = tcp_listen_with_backlog_and_err(s->pcb.tcp, bl, &err);
	if (!l)
		return sock_err_from_lwip(err); /* the old pcb is still ours */
	s->pcb.tcp = l;                         /* lwIP freed the old one */
	s->backlog = bl;
	s->state = SS_LISTEN;
	tcp_arg(l, s);
	tcp_accept(l, on_accept);
	return 0;
}

int tcp_sock_accept(struct sock *s, bool nonblock, struct sock **child)
{
	if (s->state != SS_LISTEN)
		return -EINVAL;
	struct sock *c = s->aq;
	if (!c)
		return -EAGAIN;
	c->nonblock = nonblock;
	int fd = fd_install(&c->f);
	if (fd < 0)
		return fd; /* -EMFILE: it stays queued, as on Linux */
	s->aq = c->aq_next;
	if (!s->aq)
		s->aq_tail = &s->aq;
	s->aq_len--;
	c->aq_next = NULL;
	if (c->pcb.tcp)
		tcp_backlog_accepted(c->pcb.tcp);
	sock_stats.tcp_accepted++;
	*child = c;
	return fd;
}

int tcp_sock_connect(struct sock *s, const ip_addr_t *ip, uint16_t port)
{
	switch (s->state) {
	case SS_CONNECTING:
		return -EALREADY;
	case SS_CONNECTED:
	case SS_LISTEN:
		return -EISCONN;
	case SS_CLOSED: /* the last connection is over: start afresh, as Linux allows */
		if (s->pcb.tcp)
			return -EISCONN;
		rx_drop(s);
		s->shut = 0;
		s->fin = false;
		s->bound = false;
		s->state = SS_NEW;
		if (tcp_sock_open(s))
			return -ENOMEM;
		break;
	default:
		break;
	}
	tcp_sock_apply_opts(s);
	err_t err = tcp_connect(s->pcb.tcp, ip, port, on_connected);
	if (err != ERR_OK)
		return sock_err_from_lwip(err);
	s->bound = true;
	s->err = 0;
	set_state(s, SS_CONNECTING);
	tcp_sock_addrs(s);
	return -EINPROGRESS;
}

/* Bytes we may still queue, and whether that is enough to call the socket writable. */
static uint32_t send_room(struct sock *s, uint32_t *limit)
{
	/* pcb->snd_buf, not tcp_sndbuf(): that one is capped at 64 KiB for window scaling */
	uint32_t free_ = s->pcb.tcp->snd_buf;
	*limit = s->sndbuf < TCP_SND_BUF ? s->sndbuf : TCP_SND_BUF;
	uint32_t queued = TCP_SND_BUF - free_;
	uint32_t room = *limit > queued ? *limit - queued : 0;
	return room < free_ ? room : free_;
}

/* Linux's sk_stream_is_writeable: a third of the buffer free (and segments to carry it). */
static bool writable(struct sock *s)
{
	if (!s->pcb.tcp || s->state != SS_CONNECTED)
		return true; /* nothing queued: Linux's CLOSE state counts as writable */
	uint32_t limit, room = send_room(s, &limit);
	return room >= limit / 3 && tcp_sndqueuelen(s->pcb.tcp) < TCP_SND_QUEUELEN * 2 / 3;
}

static long send_error(struct sock *s)
{
	return s->err ? sock_take_err(s) : -EPIPE;
}

long tcp_sock_send(struct sock *s, const void *buf, size_t len, bool more)
{
	if (s->err || (s->shut & SHUT_SEND) || s->state == SS_CLOSED)
		return send_error(s);
	if (s->state == SS_CONNECTING)
		return -EAGAIN; /* Linux waits for the connection (sk_stream_wait_connect) */
	if (s->state != SS_CONNECTED || !s->pcb.tcp)
		return -ENOTCONN;
	uint32_t limit, room = send_room(s, &limit);
	size_t done = 0;
	while (done < len && room) {
		size_t n = len - done;
		if (n > room)
			n = room;
		if (n > WRITE_MAX)
			n = WRITE_MAX;
		u8_t flags = TCP_WRITE_FLAG_COPY;
		if (more || done + n < len)
			flags |= TCP_WRITE_FLAG_MORE;
		if (tcp_write(s->pcb.tcp, (const uint8_t *)buf + done, (u16_t)n, flags) != ERR_OK)
			break; /* ERR_MEM: out of segments or pbufs; on_poll looks again */
		done += n;
		room -= (uint32_t)n;
	}
	if (done < len)
		s->nospace = true;
	if (!done)
		return len ? -EAGAIN : 0;
	tcp_output(s->pcb.tcp);
	return (long)done;
}

long tcp_sock_recv(struct sock *s, void *buf, size_t len, bool peek)
{
	if (s->state == SS_LISTEN)
		return -ENOTCONN;
	if (s->rx_bytes) {
		size_t n = rx_copy(s, buf, len, peek);
		if (!peek)
			window_open(s, n);
		return (long)n;
	}
	if (s->err)
		return sock_take_err(s);
	if ((s->shut & SHUT_RCV) || s->state == SS_CLOSED)
		return 0;
	if (s->state == SS_NEW)
		return -ENOTCONN;
	return -EAGAIN; /* connected or connecting: data may come */
}

int tcp_sock_shutdown(struct sock *s, int how)
{
	int shut = how == NOOS_SHUT_RD   ? SHUT_RCV
	           : how == NOOS_SHUT_WR ? SHUT_SEND
	                                 : SHUT_RCV | SHUT_SEND;
	switch (s->state) {
	case SS_LISTEN: /* Linux: SHUT_RD stops listening; accept then fails with -EINVAL */
		if (!(shut & SHUT_RCV))
			return 0;
		tcp_sock_close(s);
		s->state = SS_NEW;
		s->bound = false;
		return tcp_sock_open(s);
	case SS_CONNECTING: /* Linux disconnects */
		tcp_abort(detach(s));
		set_state(s, SS_CLOSED);
		s->shut = SHUT_RCV | SHUT_SEND;
		return 0;
	case SS_CONNECTED:
		break;
	default:
		s->shut |= (uint8_t)shut;
		return -ENOTCONN;
	}
	bool fin_now = (shut & SHUT_SEND) && !(s->shut & SHUT_SEND) && s->pcb.tcp;
	s->shut |= (uint8_t)shut;
	if (fin_now) {
		err_t err = tcp_shutdown(s->pcb.tcp, 0, 1);
		if (err != ERR_OK)
			return sock_err_from_lwip(err);
		if (s->fin)
			finish(s);
	}
	return 0;
}

static void drop_queued(struct sock *l)
{
	for (struct sock *c = l->aq, *next; c; c = next) {
		next = c->aq_next;
		struct tcp_pcb *pcb = detach(c);
		if (pcb)
			tcp_abort(pcb);
		rx_drop(c);
		set_state(c, SS_CLOSED);
		sock_stats.sockets--;
		c->f.closed = true;
		nfile_put(&c->f);
	}
	l->aq = NULL;
	l->aq_tail = &l->aq;
	l->aq_len = 0;
}

void tcp_sock_close(struct sock *s)
{
	if (s->state == SS_LISTEN) {
		struct tcp_pcb *l = s->pcb.tcp;
		s->pcb.tcp = NULL;
		tcp_arg(l, NULL);
		tcp_accept(l, NULL);
		tcp_close(l); /* a listening pcb closes at once */
		drop_queued(s);
		return;
	}
	bool unread = s->rx_bytes != 0;
	struct tcp_pcb *pcb = detach(s);
	rx_drop(s);
	if (pcb && (unread || tcp_close(pcb) != ERR_OK))
		tcp_abort(pcb); /* unread data: a reset tells the peer it was lost */
	set_state(s, SS_CLOSED);
}

uint32_t tcp_sock_events(struct sock *s)
{
	if (s->state == SS_LISTEN)
		return s->aq ? EV_IN : 0;
	uint32_t ev = 0;
	if (s->shut == (SHUT_RCV | SHUT_SEND) || s->state == SS_NEW || s->state == SS_CLOSED)
		ev |= NOOS_EPOLLHUP;
	if (s->shut & SHUT_RCV)
		ev |= EV_IN | NOOS_EPOLLRDHUP;
	if (s->state == SS_CONNECTING)
		return ev;
	if (s->rx_bytes)
		ev |= EV_IN;
	if (s->shut & SHUT_SEND || writable(s))
		ev |= EV_OUT;
	else
		s->nospace = true; /* Linux's tcp_poll sets SOCK_NOSPACE: room will be an edge */
	return ev;
}
