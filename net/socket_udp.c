/*
 * UDP sockets on lwIP's raw API (src/core/udp.c), under the stack lock.
 *
 * Received datagrams wait in a queue of their own (each pbuf with its
 * sender) bounded by NOOS_SO_RCVBUF bytes of payload; past that they are
 * dropped and counted, as Linux drops when sk_rcvbuf is full. Sending
 * copies the datagram into one pbuf and hands it to lwIP at once, so a
 * UDP socket is always writable.
 *
 * A connected socket (noos_connect) sends to its peer by default and, as
 * lwIP matches connected pcbs by remote address and port (udp_input),
 * receives only from it. Readiness follows Linux's datagram_poll.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/udp.h"

#include "sock.h"

#define UDP_MAX_V4 65507u /* 65535 - 20 (IPv4 header) - 8 (UDP header) */
#define UDP_MAX_V6 65527u /* 65535 - 8: the IPv6 payload length excludes its own header */

struct dgram {
	struct dgram *next;
	struct pbuf *p;
	ip_addr_t from;
	uint16_t port;
};

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                    u16_t port)
{
	struct sock *s = arg;
	(void)pcb;
	struct dgram *d = NULL;
	if (!(s->shut & SHUT_RCV) && s->rx_bytes + p->tot_len <= s->rcvbuf)
		d = malloc(sizeof(*d));
	if (!d) {
		sock_stats.udp_dropped++;
		pbuf_free(p);
		return;
	}
	*d = (struct dgram){NULL, p, *addr, port};
	*s->dq_tail = d;
	s->dq_tail = &d->next;
	s->rx_bytes += p->tot_len;
	nfile_wake(&s->f, EV_IN);
}

int udp_sock_open(struct sock *s)
{
	struct udp_pcb *pcb =
	    udp_new_ip_type(s->family == NOOS_AF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_ANY);
	if (!pcb)
		return -ENOMEM;
	s->pcb.udp = pcb;
	udp_recv(pcb, on_recv, s);
	return 0;
}

void udp_sock_addrs(struct sock *s)
{
	struct udp_pcb *pcb = s->pcb.udp;
	if (!pcb)
		return; /* closed meanwhile */
	ip_addr_copy(s->local_ip, pcb->local_ip);
	s->local_port = pcb->local_port;
	ip_addr_copy(s->remote_ip, pcb->remote_ip);
	s->remote_port = pcb->remote_port;
}

int udp_sock_bind(struct sock *s, const ip_addr_t *ip, uint16_t port)
{
	if (s->bound)
		return -EINVAL;
	if (s->reuseaddr)
		ip_set_option(s->pcb.udp, SOF_REUSEADDR);
	err_t err = udp_bind(s->pcb.udp, ip, port);
	if (err != ERR_OK)
		return sock_err_from_lwip(err);
	s->bound = true;
	return 0;
}

int udp_sock_connect(struct sock *s, const ip_addr_t *ip, uint16_t port)
{
	if (!ip) {
		udp_disconnect(s->pcb.udp);
		s->state = SS_NEW;
		return 0;
	}
	err_t err = udp_connect(s->pcb.udp, ip, port); /* binds a port first if need be */
	if (err != ERR_OK)
		return sock_err_from_lwip(err);
	s->bound = true;
	s->state = SS_CONNECTED;
	return 0;
}

static int send_check(struct sock *s, size_t len, const ip_addr_t *ip)
{
	if (s->shut & SHUT_SEND)
		return -EPIPE;
	if (len > (IP_IS_V6(ip) ? UDP_MAX_V6 : UDP_MAX_V4))
		return -EMSGSIZE;
	/* Linux wants SO_BROADCAST for the limited broadcast address (udp(7): EACCES). */
	if (IP_IS_V4(ip) && ip4_addr_get_u32(ip_2_ip4(ip)) == IPADDR_BROADCAST && !s->broadcast)
		return -EACCES;
	return 0;
}

long udp_sock_sendto(struct sock *s, const void *buf, size_t len, const ip_addr_t *ip,
                     uint16_t port)
{
	if (!ip) {
		if (s->state != SS_CONNECTED)
			return -EDESTADDRREQ;
		ip = &s->pcb.udp->remote_ip;
		port = s->pcb.udp->remote_port;
	}
	int e = send_check(s, len, ip);
	if (e)
		return e;
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return -ENOBUFS;
	if (len)
		memcpy(p->payload, buf, len);
	err_t err = udp_sendto(s->pcb.udp, p, ip, port);
	pbuf_free(p);
	if (err == ERR_MEM)
		return -ENOBUFS;
	if (err != ERR_OK)
		return sock_err_from_lwip(err);
	s->bound = true;
	return (long)len;
}

long udp_sock_recv(struct sock *s, void *buf, size_t len, bool peek, bool trunc, ip_addr_t *from,
                   uint16_t *port)
{
	struct dgram *d = s->dq;
	if (!d) {
		if (s->err)
			return sock_take_err(s);
		return (s->shut & SHUT_RCV) ? 0 : -EAGAIN;
	}
	u16_t size = d->p->tot_len;
	u16_t n = len < size ? (u16_t)len : size;
	if (n)
		pbuf_copy_partial(d->p, buf, n, 0);
	if (from)
		ip_addr_copy(*from, d->from);
	if (port)
		*port = d->port;
	if (!peek) {
		s->dq = d->next;
		if (!s->dq)
			s->dq_tail = &s->dq;
		s->rx_bytes -= size;
		pbuf_free(d->p);
		free(d);
	}
	return trunc ? size : n;
}

int udp_sock_shutdown(struct sock *s, int how)
{
	s->shut |= how == NOOS_SHUT_RD   ? SHUT_RCV
	           : how == NOOS_SHUT_WR ? SHUT_SEND
	                                 : SHUT_RCV | SHUT_SEND;
	/* Linux sets the bits (and wakes pollers) even when it then says -ENOTCONN. */
	return s->state == SS_CONNECTED ? 0 : -ENOTCONN;
}

void udp_sock_close(struct sock *s)
{
	udp_remove(s->pcb.udp);
	s->pcb.udp = NULL;
	for (struct dgram *d = s->dq, *next; d; d = next) {
		next = d->next;
		pbuf_free(d->p);
		free(d);
	}
	s->dq = NULL;
	s->dq_tail = &s->dq;
	s->rx_bytes = 0;
}

uint32_t udp_sock_events(struct sock *s)
{
	uint32_t ev = EV_OUT;
	if (s->shut & SHUT_RCV)
		ev |= EV_IN | NOOS_EPOLLRDHUP;
	if (s->shut == (SHUT_RCV | SHUT_SEND))
		ev |= NOOS_EPOLLHUP;
	if (s->dq)
		ev |= EV_IN;
	return ev;
}
