/*
 * echo: a TCP and UDP echo server (RFC 862) on every address, IPv4 and
 * IPv6, with one worker thread per vCPU — a small example of noos's
 * sockets and its epoll-like event queue, edge-triggered.
 *
 *   ./noos run echo --net user --fwd 7007:7 --fwd udp:7007:7 --smp 2
 *   socat - TCP:127.0.0.1:7007        socat - UDP:127.0.0.1:7007
 *
 * Command line: [PORT] (default 7).
 *
 * Two sockets serve everything: AF_INET6 sockets bound to the any address
 * also take IPv4 (peers appear as ::ffff:a.b.c.d) unless IPV6_V6ONLY is
 * set. Both are in every worker's event queue, edge-triggered: a new
 * connection or datagram wakes the workers, and each takes what it can
 * until the call says -EAGAIN — the rule of edge-triggered readiness: an
 * edge is reported once, so whoever gets it drains the source, and a
 * worker that finds it already drained by another just goes back to
 * waiting. A connection is registered only in the queue of the worker
 * that accepted it, so only that worker touches it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noos.h"

#define MAX_WORKERS  64
#define EVENTS       32
#define CONN_BUF     16384
#define DATAGRAM_MAX 65536
#define DHCP_WAIT_NS (10 * 1000000000ull)

enum { TAG_TCP_LISTENER = 1, TAG_UDP = 2 }; /* epoll data of the shared sockets; else a conn */

struct conn {
	int fd;
	bool readable, writable, eof; /* what the last edge and calls said (edge-triggered) */
	size_t off, len;              /* received bytes not yet sent back: buf[off .. len) */
	char buf[CONN_BUF];
};

static int tcp_fd, udp_fd;

/* ---- TCP: receive, send back what was received, and wait on whichever stopped us ---- */

/* Send buf[off..len) while the socket takes it: 0, or -1 if the connection is gone. */
static int send_pending(struct conn *c)
{
	while (c->off < c->len && c->writable) {
		long n = noos_send(c->fd, c->buf + c->off, c->len - c->off, NOOS_MSG_DONTWAIT);
		if (n == -EAGAIN)
			c->writable = false; /* the next EPOLLOUT edge says when there is room */
		else if (n < 0)
			return -1;
		else
			c->off += (size_t)n;
	}
	return 0;
}

/* Echo until the socket has nothing more to read or no room to write: 0, or -1 to close. */
static int pump(struct conn *c)
{
	for (;;) {
		if (send_pending(c) < 0)
			return -1;
		if (c->off < c->len)
			return 0; /* stop reading until the peer takes what we owe it */
		c->off = c->len = 0;
		if (c->eof)
			return -1; /* all echoed: close, which sends our FIN */
		if (!c->readable)
			return 0;
		long n = noos_recv(c->fd, c->buf, sizeof(c->buf), NOOS_MSG_DONTWAIT);
		if (n == -EAGAIN)
			c->readable = false; /* drained: the next EPOLLIN edge brings more */
		else if (n < 0)
			return -1;
		else if (n == 0)
			c->eof = true;
		else
			c->len = (size_t)n;
	}
}

static void conn_event(struct conn *c, uint32_t events)
{
	if (events & (NOOS_EPOLLIN | NOOS_EPOLLRDHUP | NOOS_EPOLLHUP | NOOS_EPOLLERR))
		c->readable = true;
	if (events & (NOOS_EPOLLOUT | NOOS_EPOLLHUP | NOOS_EPOLLERR))
		c->writable = true;
	if (pump(c) < 0) {
		noos_close(c->fd); /* it leaves the event queue by itself */
		free(c);
	}
}

static void accept_all(int epfd)
{
	for (;;) {
		int fd = noos_accept4(tcp_fd, NULL, NULL, NOOS_SOCK_NONBLOCK);
		if (fd < 0) {
			if (fd !=
			    -EAGAIN) /* out of descriptors or memory: the next connection retries */
				printf("echo: accept failed (%d)\n", fd);
			return;
		}
		struct conn *c = calloc(1, sizeof(*c));
		if (c) { /* a new connection has room to send; what it has to read, an edge will say
			  */
			c->fd = fd;
			c->writable = true;
		}
		struct noos_epoll_event ev = {
		    .events = NOOS_EPOLLIN | NOOS_EPOLLOUT | NOOS_EPOLLRDHUP | NOOS_EPOLLET,
		    .data.ptr = c,
		};
		if (!c || noos_epoll_ctl(epfd, NOOS_EPOLL_CTL_ADD, fd, &ev) < 0) {
			noos_close(fd);
			free(c);
			continue;
		}
		/* Registered edge-triggered: the first report comes at once if it is ready. */
	}
}

/* ---- UDP: each datagram back to where it came from ---- */

static void udp_drain(char *buf)
{
	for (;;) {
		struct noos_sockaddr_storage from;
		noos_socklen_t fromlen = sizeof(from);
		long n = noos_recvfrom(udp_fd, buf, DATAGRAM_MAX, NOOS_MSG_DONTWAIT,
		                       (struct noos_sockaddr *)&from, &fromlen);
		if (n < 0) /* -EAGAIN: drained (maybe by another worker) */
			return;
		noos_sendto(udp_fd, buf, (size_t)n, 0, (struct noos_sockaddr *)&from, fromlen);
	}
}

/* ---- workers ---- */

static void *worker(void *arg)
{
	int epfd = (int)(intptr_t)arg;
	char *datagram = malloc(DATAGRAM_MAX);
	if (!datagram)
		return NULL;
	struct noos_epoll_event ev[EVENTS];
	for (;;) {
		int n = noos_epoll_wait(epfd, ev, EVENTS, NOOS_FOREVER);
		for (int i = 0; i < n; i++) {
			if (ev[i].data.u64 == TAG_TCP_LISTENER)
				accept_all(epfd);
			else if (ev[i].data.u64 == TAG_UDP)
				udp_drain(datagram);
			else
				conn_event(ev[i].data.ptr, ev[i].events);
		}
	}
}

/* An event queue with both shared sockets in it, edge-triggered. */
static int new_queue(void)
{
	int epfd = noos_epoll_create(0);
	if (epfd < 0)
		return epfd;
	struct noos_epoll_event tcp = {.events = NOOS_EPOLLIN | NOOS_EPOLLET,
	                               .data.u64 = TAG_TCP_LISTENER};
	struct noos_epoll_event udp = {.events = NOOS_EPOLLIN | NOOS_EPOLLET, .data.u64 = TAG_UDP};
	int err = noos_epoll_ctl(epfd, NOOS_EPOLL_CTL_ADD, tcp_fd, &tcp);
	if (!err)
		err = noos_epoll_ctl(epfd, NOOS_EPOLL_CTL_ADD, udp_fd, &udp);
	return err ? err : epfd;
}

/* A non-blocking socket of type on [::]:port (IPv4 too), listening if TCP. */
static int open_socket(int type, uint16_t port)
{
	int fd = noos_socket(NOOS_AF_INET6, type | NOOS_SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	int one = 1;
	noos_setsockopt(fd, NOOS_SOL_SOCKET, NOOS_SO_REUSEADDR, &one, sizeof(one));
	struct noos_sockaddr_in6 any = {.sin6_family = NOOS_AF_INET6,
	                                .sin6_port = noos_htons(port)};
	int err = noos_bind(fd, (struct noos_sockaddr *)&any, sizeof(any));
	if (!err && type == NOOS_SOCK_STREAM)
		err = noos_listen(fd, 64);
	if (err) {
		noos_close(fd);
		return err;
	}
	return fd;
}

int main(int argc, char **argv)
{
	unsigned long port = argc > 1 ? strtoul(argv[1], NULL, 10) : 7;
	if (port == 0 || port > 65535) {
		printf("echo: usage: echo [PORT]\n");
		return 2;
	}
	if (noos_net_start() <= 0) {
		printf("echo: no network card\n");
		return 1;
	}
	noos_net_wait(DHCP_WAIT_NS);
	tcp_fd = open_socket(NOOS_SOCK_STREAM, (uint16_t)port);
	udp_fd = open_socket(NOOS_SOCK_DGRAM, (uint16_t)port);
	if (tcp_fd < 0 || udp_fd < 0) {
		printf("echo: cannot open port %lu (tcp %d, udp %d)\n", port, tcp_fd, udp_fd);
		return 1;
	}
	unsigned workers = noos_cpu_count() < MAX_WORKERS ? noos_cpu_count() : MAX_WORKERS;
	for (unsigned i = 0; i < workers; i++) {
		int epfd = new_queue();
		struct noos_thread_opts opts = {
		    .name = "echo", .affinity = 1ull << i, .flags = NOOS_THREAD_DETACHED};
		if (epfd < 0 ||
		    noos_thread_create(NULL, worker, (void *)(intptr_t)epfd, &opts) < 0) {
			printf("echo: cannot start worker %u\n", i);
			return 1;
		}
	}
	printf("echo: listening on port %lu (tcp and udp, IPv4 and IPv6), %u workers\n", port,
	       workers);
	noos_thread_exit(NULL); /* the workers serve; the VM runs as long as they do */
}
