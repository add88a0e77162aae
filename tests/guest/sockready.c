/*
 * sockready: readiness (noos_poll, noos_epoll_*) checked step by step
 * against what Linux does, over lwIP's loopback (no device needed), and
 * closing a socket while other threads are blocked on it.
 *
 * The expected sequences come from Linux's documented behaviour and its
 * implementation, which the comments cite:
 *  - poll bits: tcp_poll (net/ipv4/tcp.c) and datagram_poll: a fresh TCP
 *    socket is OUT|HUP; the peer's FIN adds IN|RDHUP; both directions shut
 *    add HUP; a reset is ERR|HUP|IN|RDHUP|OUT.
 *  - epoll(7): level-triggered reports while ready; edge-triggered reports
 *    once per event (each arrival of data, even with older data unread;
 *    send space after a send found none; any state change), and
 *    EPOLL_CTL_ADD/MOD report once if ready then; EPOLLONESHOT disarms
 *    after one report until EPOLL_CTL_MOD; EPOLLERR/EPOLLHUP are always
 *    reported; a closed socket leaves every queue.
 * A check that something does not happen waits a while (NOTHING_NS) and
 * only ever fails when it does happen.
 *
 * Prints "sockready: ok" and exits 0, or FAIL lines and exits 1.
 */
#include "socktest.h"

#define NOTHING_NS (100 * MS)

/* One epoll_wait for at most one event: its events (0 on timeout), data in *data. */
static uint32_t ep_wait1(int ep, uint64_t timeout, uint64_t *data)
{
	struct noos_epoll_event ev = {0, {0}};
	int n = noos_epoll_wait(ep, &ev, 1, timeout);
	if (n < 0) {
		printf("FAIL epoll_wait: %d\n", n);
		failures++;
		return 0;
	}
	if (data)
		*data = ev.data.u64;
	return n ? ev.events : 0;
}

static int ep_ctl(int ep, int op, int fd, uint32_t events, uint64_t data)
{
	struct noos_epoll_event ev = {events, {.u64 = data}};
	return noos_epoll_ctl(ep, op, fd, &ev);
}

static void send_str(int fd, const char *s)
{
	CHECK_EQ(noos_send(fd, s, strlen(s), 0), (long)strlen(s));
}

/* ---- poll ---- */

static void test_poll_bits(void)
{
	int t = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	int u = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0));
	short all = NOOS_POLLIN | NOOS_POLLOUT | NOOS_POLLRDHUP;
	CHECK_EQ(poll1(t, all, 0), NOOS_POLLOUT | NOOS_POLLHUP); /* TCP_CLOSE: HUP, writable */
	CHECK_EQ(poll1(u, all, 0), NOOS_POLLOUT);
	CHECK_EQ(poll1(t, 0, 0), NOOS_POLLHUP); /* HUP whether asked or not */
	int l = listener(NOOS_AF_INET);
	CHECK_EQ(poll1(l, all, 0), 0);
	int c = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	struct noos_sockaddr_in to = sin4(NOOS_INADDR_LOOPBACK, local_port(l));
	MUST(noos_connect(c, SA(&to), sizeof(to)));
	CHECK(wait_for(l, NOOS_POLLIN));
	int s = MUST(noos_accept(l, NULL, NULL));
	CHECK_EQ(poll1(l, all, 0), 0);
	CHECK_EQ(poll1(s, all, 0), NOOS_POLLOUT);
	send_str(c, "x");
	CHECK(wait_for(s, NOOS_POLLIN));
	CHECK_EQ(poll1(s, all, 0), NOOS_POLLIN | NOOS_POLLOUT);
	MUST(noos_shutdown(c, NOOS_SHUT_WR));
	CHECK(wait_for(s, NOOS_POLLRDHUP));
	CHECK_EQ(poll1(s, all, 0), NOOS_POLLIN | NOOS_POLLOUT | NOOS_POLLRDHUP);
	MUST(noos_shutdown(s, NOOS_SHUT_WR));
	CHECK_EQ(poll1(s, all, 0), NOOS_POLLIN | NOOS_POLLOUT | NOOS_POLLRDHUP | NOOS_POLLHUP);
	CHECK(wait_for(c, NOOS_POLLRDHUP));
	CHECK_EQ(poll1(c, all, 0), NOOS_POLLIN | NOOS_POLLOUT | NOOS_POLLRDHUP | NOOS_POLLHUP);
	/* Several at once; a bad descriptor is POLLNVAL, a negative one is skipped. */
	struct noos_pollfd p[4] = {
	    {s, NOOS_POLLIN, 0}, {-1, NOOS_POLLIN, 7}, {999, NOOS_POLLIN, 0}, {u, NOOS_POLLIN, 0}};
	CHECK_EQ(noos_poll(p, 4, 0), 2);
	CHECK_EQ(p[0].revents, NOOS_POLLIN | NOOS_POLLHUP);
	CHECK_EQ(p[1].revents, 0);
	CHECK_EQ(p[2].revents, NOOS_POLLNVAL);
	CHECK_EQ(p[3].revents, 0);
	/* Nothing ready: the timeout, never early. */
	uint64_t t0 = noos_time_ns();
	CHECK_EQ(noos_poll(&p[3], 1, 30 * MS), 0);
	CHECK(noos_time_ns() - t0 >= 30 * MS);
	t0 = noos_time_ns();
	CHECK_EQ(noos_poll(NULL, 0, 20 * MS), 0);
	CHECK(noos_time_ns() - t0 >= 20 * MS);
	CHECK_EQ(noos_poll(NULL, 1, 0), -EINVAL);
	CHECK_EQ(noos_poll(p, 5000, 0), -EINVAL);
	int fds[] = {t, u, l, c, s};
	for (unsigned i = 0; i < 5; i++)
		MUST(noos_close(fds[i]));
}

/* ---- epoll: level-triggered ---- */

static void test_level(void)
{
	int l = listener(NOOS_AF_INET), c;
	int s = connected_pair(NOOS_AF_INET, l, &c);
	int ep = MUST(noos_epoll_create(0));
	char buf[8];
	uint64_t data;
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_ADD, s, NOOS_EPOLLIN, 42), 0);
	CHECK_EQ(ep_wait1(ep, 0, NULL), 0);
	send_str(c, "ab");
	CHECK_EQ(ep_wait1(ep, SOON, &data), NOOS_EPOLLIN);
	CHECK_EQ(data, 42);
	CHECK_EQ(ep_wait1(ep, 0, NULL), NOOS_EPOLLIN); /* still unread: again */
	CHECK_EQ(noos_recv(s, buf, 1, 0), 1);
	CHECK_EQ(ep_wait1(ep, 0, NULL), NOOS_EPOLLIN); /* one byte left */
	CHECK_EQ(noos_recv(s, buf, 1, 0), 1);
	CHECK_EQ(ep_wait1(ep, 0, NULL), 0);
	/* OUT is level too: every wait while writable. */
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_MOD, s, NOOS_EPOLLIN | NOOS_EPOLLOUT, 43), 0);
	CHECK_EQ(ep_wait1(ep, 0, &data), NOOS_EPOLLOUT);
	CHECK_EQ(data, 43);
	CHECK_EQ(ep_wait1(ep, 0, NULL), NOOS_EPOLLOUT);
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_DEL, s, 0, 0), 0);
	CHECK_EQ(ep_wait1(ep, 0, NULL), 0);
	MUST(noos_close(ep));
	MUST(noos_close(s));
	MUST(noos_close(c));
	MUST(noos_close(l));
}

/* ---- epoll: edge-triggered input ---- */

static void test_edge_in(void)
{
	int l = listener(NOOS_AF_INET6), c;
	int s = connected_pair(NOOS_AF_INET6, l, &c);
	int ep = MUST(noos_epoll_create(0));
	char buf[8];
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_ADD, s, NOOS_EPOLLIN | NOOS_EPOLLET, 1), 0);
	CHECK_EQ(ep_wait1(ep, 0, NULL), 0); /* not ready at ADD: nothing */
	send_str(c, "ab");
	CHECK_EQ(ep_wait1(ep, SOON, NULL), NOOS_EPOLLIN); /* the arrival */
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0);      /* reported once */
	CHECK_EQ(noos_recv(s, buf, 1, 0), 1);
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0); /* reading is no event, "b" left */
	send_str(c, "c");
	CHECK_EQ(ep_wait1(ep, SOON, NULL), NOOS_EPOLLIN); /* a new arrival, "b" still unread */
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0);
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_MOD, s, NOOS_EPOLLIN | NOOS_EPOLLET, 2), 0);
	CHECK_EQ(ep_wait1(ep, 0, NULL), NOOS_EPOLLIN); /* MOD looks again: ready */
	CHECK_EQ(ep_wait1(ep, 0, NULL), 0);
	CHECK_EQ(noos_recv(s, buf, sizeof(buf), 0), 2);
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0);
	/* The peer's FIN is a state change: reported once, with IN (end of stream). */
	CHECK_EQ(
	    ep_ctl(ep, NOOS_EPOLL_CTL_MOD, s, NOOS_EPOLLIN | NOOS_EPOLLRDHUP | NOOS_EPOLLET, 3), 0);
	CHECK_EQ(ep_wait1(ep, 0, NULL), 0);
	MUST(noos_shutdown(c, NOOS_SHUT_WR));
	CHECK_EQ(ep_wait1(ep, SOON, NULL), NOOS_EPOLLIN | NOOS_EPOLLRDHUP);
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0);
	/* Our FIN too: both directions shut, HUP (always reported) comes with it. */
	MUST(noos_shutdown(s, NOOS_SHUT_WR));
	CHECK_EQ(ep_wait1(ep, SOON, NULL), NOOS_EPOLLIN | NOOS_EPOLLRDHUP | NOOS_EPOLLHUP);
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0);
	MUST(noos_close(ep));
	MUST(noos_close(s));
	MUST(noos_close(c));
	MUST(noos_close(l));
}

/* UDP: every datagram's arrival is an edge. */
static void test_edge_udp(void)
{
	int a = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM | NOOS_SOCK_NONBLOCK, 0));
	int b = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0));
	struct noos_sockaddr_in at = sin4(NOOS_INADDR_LOOPBACK, 0);
	MUST(noos_bind(a, SA(&at), sizeof(at)));
	at.sin_port = noos_htons(local_port(a));
	int ep = MUST(noos_epoll_create(NOOS_EPOLL_CLOEXEC));
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_ADD, a, NOOS_EPOLLIN | NOOS_EPOLLOUT | NOOS_EPOLLET, 0),
	         0);
	CHECK_EQ(ep_wait1(ep, 0, NULL), NOOS_EPOLLOUT); /* ready at ADD: once */
	CHECK_EQ(ep_wait1(ep, 0, NULL), 0);
	CHECK_EQ(noos_sendto(b, "1", 1, 0, SA(&at), sizeof(at)), 1);
	CHECK_EQ(ep_wait1(ep, SOON, NULL), NOOS_EPOLLIN | NOOS_EPOLLOUT);
	CHECK_EQ(noos_sendto(b, "2", 1, 0, SA(&at), sizeof(at)), 1);
	CHECK_EQ(ep_wait1(ep, SOON, NULL), NOOS_EPOLLIN | NOOS_EPOLLOUT);
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0);
	char x;
	CHECK_EQ(noos_recv(a, &x, 1, 0), 1);
	CHECK_EQ(noos_recv(a, &x, 1, 0), 1);
	CHECK_EQ(x, '2');
	CHECK_EQ(noos_recv(a, &x, 1, 0), -EAGAIN);
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0);
	MUST(noos_close(ep));
	MUST(noos_close(a));
	MUST(noos_close(b));
}

/* ---- epoll: edge-triggered output ---- */

/* Send without blocking until the socket stays full (the peer reads nothing). */
static size_t fill(int s, int ep)
{
	static char chunk[4096];
	size_t total = 0;
	for (;;) {
		long n;
		while ((n = noos_send(s, chunk, sizeof(chunk), NOOS_MSG_DONTWAIT)) > 0)
			total += (size_t)n;
		CHECK_EQ(n, -EAGAIN);
		if (!ep_wait1(ep, 3 * NOTHING_NS, NULL)) /* room came back? send more */
			return total;
	}
}

static void test_edge_out(void)
{
	int l = listener(NOOS_AF_INET), c;
	int s = connected_pair(NOOS_AF_INET, l, &c);
	int small = 16384;
	MUST(noos_setsockopt(s, NOOS_SOL_SOCKET, NOOS_SO_SNDBUF, &small, sizeof(small)));
	int ep = MUST(noos_epoll_create(0));
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_ADD, s, NOOS_EPOLLOUT | NOOS_EPOLLET, 0), 0);
	CHECK_EQ(ep_wait1(ep, 0, NULL), NOOS_EPOLLOUT); /* writable at ADD: once */
	CHECK_EQ(ep_wait1(ep, 0, NULL), 0);
	size_t sent = fill(s, ep);
	CHECK(sent > 0);
	CHECK_EQ(poll1(s, NOOS_POLLOUT, 0), 0); /* full */
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0);
	/* The peer reads it all: the window opens, acknowledgements free room: one edge. */
	static char sink[8192];
	size_t got = 0;
	while (got < sent) {
		long n = noos_recv(c, sink, sizeof(sink), 0);
		if (!CHECK(n > 0))
			break;
		got += (size_t)n;
	}
	CHECK_EQ(ep_wait1(ep, SOON, NULL), NOOS_EPOLLOUT);
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0);
	MUST(noos_close(ep));
	MUST(noos_close(s));
	MUST(noos_close(c));
	MUST(noos_close(l));
}

/* ---- errors, one-shot, closing ---- */

static void test_error(void)
{
	int l = listener(NOOS_AF_INET), c;
	int s = connected_pair(NOOS_AF_INET, l, &c);
	int ep = MUST(noos_epoll_create(0));
	uint32_t want = NOOS_EPOLLIN | NOOS_EPOLLOUT | NOOS_EPOLLRDHUP;
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_ADD, s, want | NOOS_EPOLLET, 0), 0);
	CHECK_EQ(ep_wait1(ep, 0, NULL), NOOS_EPOLLOUT);
	/* The peer closes with our data unread: it resets the connection. */
	send_str(s, "unread");
	CHECK(wait_for(c, NOOS_POLLIN));
	MUST(noos_close(c));
	CHECK_EQ(ep_wait1(ep, SOON, NULL), want | NOOS_EPOLLERR | NOOS_EPOLLHUP);
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0);
	int e = 0;
	noos_socklen_t elen = sizeof(e);
	MUST(noos_getsockopt(s, NOOS_SOL_SOCKET, NOOS_SO_ERROR, &e, &elen));
	CHECK_EQ(e, ECONNRESET);
	/* Level-triggered, the error is gone once read; the hang-up stays. */
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_MOD, s, NOOS_EPOLLIN, 0), 0);
	CHECK_EQ(ep_wait1(ep, 0, NULL), NOOS_EPOLLIN | NOOS_EPOLLHUP);
	MUST(noos_close(ep));
	MUST(noos_close(s));
	MUST(noos_close(l));
}

static void test_oneshot(void)
{
	int l = listener(NOOS_AF_INET), c;
	int s = connected_pair(NOOS_AF_INET, l, &c);
	int ep = MUST(noos_epoll_create(0));
	char buf[8];
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_ADD, s, NOOS_EPOLLIN | NOOS_EPOLLONESHOT, 0), 0);
	send_str(c, "1");
	CHECK_EQ(ep_wait1(ep, SOON, NULL), NOOS_EPOLLIN);
	CHECK_EQ(ep_wait1(ep, 0, NULL), 0); /* disarmed, though level-triggered and still ready */
	send_str(c, "2");
	CHECK(wait_for(s, NOOS_POLLIN));
	CHECK_EQ(ep_wait1(ep, NOTHING_NS, NULL), 0);
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_ADD, s, NOOS_EPOLLIN, 0),
	         -EEXIST); /* still registered */
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_MOD, s, NOOS_EPOLLIN | NOOS_EPOLLONESHOT, 0), 0);
	CHECK_EQ(ep_wait1(ep, 0, NULL), NOOS_EPOLLIN); /* re-armed */
	CHECK_EQ(ep_wait1(ep, 0, NULL), 0);
	CHECK_EQ(noos_recv(s, buf, 2, NOOS_MSG_WAITALL), 2);
	MUST(noos_close(ep));
	MUST(noos_close(s));
	MUST(noos_close(c));
	MUST(noos_close(l));
}

static void test_close_removes(void)
{
	int l = listener(NOOS_AF_INET), c;
	int s = connected_pair(NOOS_AF_INET, l, &c);
	int ep = MUST(noos_epoll_create(0));
	uint64_t data = 0;
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_ADD, s, NOOS_EPOLLIN, 7), 0);
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_ADD, c, NOOS_EPOLLIN, 8), 0);
	send_str(c, "x");
	CHECK_EQ(ep_wait1(ep, SOON, &data), NOOS_EPOLLIN); /* s is ready, and queued */
	CHECK_EQ(data, 7);
	/* Closed with "x" unread: s leaves the queue, c is reset and reports that. */
	MUST(noos_close(s));
	CHECK_EQ(ep_wait1(ep, SOON, &data), NOOS_EPOLLIN | NOOS_EPOLLERR | NOOS_EPOLLHUP);
	CHECK_EQ(data, 8);
	CHECK_EQ(ep_wait1(ep, 0, &data), NOOS_EPOLLIN | NOOS_EPOLLERR | NOOS_EPOLLHUP); /* level */
	CHECK_EQ(data, 8);
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_DEL, s, 0, 0), -EBADF);
	int again = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	CHECK_EQ(again, s); /* the number is free again... */
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_MOD, again, NOOS_EPOLLIN, 0),
	         -ENOENT); /* ...unregistered */
	MUST(noos_close(c));
	CHECK_EQ(ep_wait1(ep, 0, NULL), 0); /* c left too */
	MUST(noos_close(again));
	MUST(noos_close(ep));
	MUST(noos_close(l));
}

static void test_listener_and_round_robin(void)
{
	int l = listener(NOOS_AF_INET);
	int ep = MUST(noos_epoll_create(0));
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_ADD, l, NOOS_EPOLLIN | NOOS_EPOLLET, 100), 0);
	int c[3], s[3];
	struct noos_sockaddr_in to = sin4(NOOS_INADDR_LOOPBACK, local_port(l));
	for (int i = 0; i < 3; i++) {
		c[i] = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
		MUST(noos_connect(c[i], SA(&to), sizeof(to)));
	}
	CHECK_EQ(ep_wait1(ep, SOON, NULL), NOOS_EPOLLIN);
	for (int i = 0; i < 3; i++)
		s[i] = MUST(noos_accept(l, NULL, NULL));
	MUST(noos_set_nonblock(l, 1));
	CHECK_EQ(noos_accept(l, NULL, NULL), -EAGAIN);
	MUST(noos_set_nonblock(l, 0));
	while (ep_wait1(ep, 0, NULL))
		; /* edges of the second and third connection, if they came apart */
	CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_DEL, l, 0, 0), 0);
	/* Three ready level-triggered sockets, one event per wait: each in turn. */
	for (int i = 0; i < 3; i++) {
		send_str(c[i], "r");
		CHECK(wait_for(s[i], NOOS_POLLIN));
		CHECK_EQ(ep_ctl(ep, NOOS_EPOLL_CTL_ADD, s[i], NOOS_EPOLLIN, (uint64_t)i), 0);
	}
	unsigned seen = 0;
	uint64_t first = 9, d;
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(ep_wait1(ep, 0, &d), NOOS_EPOLLIN);
		if (i == 0)
			first = d;
		seen |= 1u << (d & 7);
	}
	CHECK_EQ(seen, 7);
	CHECK_EQ(ep_wait1(ep, 0, &d), NOOS_EPOLLIN);
	CHECK_EQ(d, first);
	/* maxevents 3 gets all of them at once. */
	struct noos_epoll_event evs[4];
	CHECK_EQ(noos_epoll_wait(ep, evs, 4, 0), 3);
	for (int i = 0; i < 3; i++) {
		MUST(noos_close(s[i]));
		MUST(noos_close(c[i]));
	}
	MUST(noos_close(ep));
	MUST(noos_close(l));
}

static void test_ctl_errors(void)
{
	int ep = MUST(noos_epoll_create(0));
	int ep2 = MUST(noos_epoll_create(0));
	int s = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
	struct noos_epoll_event ev = {NOOS_EPOLLIN, {0}}, out[2];
	CHECK_EQ(noos_epoll_create(1), -EINVAL);
	CHECK_EQ(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_ADD, s, NULL), -EINVAL);
	CHECK_EQ(noos_epoll_ctl(ep, 4, s, &ev), -EINVAL);
	CHECK_EQ(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_ADD, ep, &ev), -EINVAL);
	CHECK_EQ(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_ADD, ep2, &ev), -EPERM);
	CHECK_EQ(noos_epoll_ctl(s, NOOS_EPOLL_CTL_ADD, ep, &ev), -EINVAL); /* s is no queue */
	CHECK_EQ(noos_epoll_ctl(-1, NOOS_EPOLL_CTL_ADD, s, &ev), -EBADF);
	CHECK_EQ(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_ADD, 777, &ev), -EBADF);
	CHECK_EQ(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_MOD, s, &ev), -ENOENT);
	CHECK_EQ(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_DEL, s, NULL), -ENOENT);
	CHECK_EQ(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_ADD, s, &ev), 0);
	CHECK_EQ(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_ADD, s, &ev), -EEXIST);
	CHECK_EQ(noos_epoll_ctl(ep2, NOOS_EPOLL_CTL_ADD, s, &ev), 0); /* in two queues */
	CHECK_EQ(noos_epoll_wait(ep, out, 0, 0), -EINVAL);
	CHECK_EQ(noos_epoll_wait(ep, NULL, 1, 0), -EINVAL);
	CHECK_EQ(noos_epoll_wait(s, out, 1, 0), -EINVAL);
	CHECK_EQ(noos_epoll_wait(99, out, 1, 0), -EBADF);
	/* A fresh TCP socket is HUP (TCP_CLOSE): reported though only IN was asked. */
	CHECK_EQ(noos_epoll_wait(ep, out, 2, 0), 1);
	CHECK_EQ(out[0].events, NOOS_EPOLLHUP);
	CHECK_EQ(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_DEL, s, NULL), 0);
	uint64_t t0 = noos_time_ns();
	CHECK_EQ(noos_epoll_wait(ep, out, 2, 30 * MS), 0);
	CHECK(noos_time_ns() - t0 >= 30 * MS);
	/* poll on a queue: readable while a wait would report something. */
	CHECK_EQ(poll1(ep2, NOOS_POLLIN, 0), NOOS_POLLIN);
	CHECK_EQ(poll1(ep, NOOS_POLLIN, 0), 0);
	MUST(noos_close(s));
	CHECK_EQ(poll1(ep2, NOOS_POLLIN, 0), 0); /* s left ep2 too */
	MUST(noos_close(ep));
	MUST(noos_close(ep2));
}

/* ---- closing what other threads are blocked on ---- */

struct blocked {
	int fd;
	int what; /* 0 recv, 1 accept, 2 send, 3 epoll_wait, 4 poll */
	long result;
	short revents;
	uint64_t returned;
};

static void *block_in(void *arg)
{
	struct blocked *b = arg;
	static char big[1 << 20];
	char buf[8];
	struct noos_epoll_event ev;
	struct noos_pollfd p = {b->fd, NOOS_POLLIN, 0};
	switch (b->what) {
	case 0:
		b->result = noos_recv(b->fd, buf, sizeof(buf), 0);
		break;
	case 1:
		b->result = noos_accept(b->fd, NULL, NULL);
		break;
	case 2:
		b->result = noos_send(b->fd, big, sizeof(big), 0);
		break;
	case 3:
		b->result = noos_epoll_wait(b->fd, &ev, 1, NOOS_FOREVER);
		break;
	default:
		b->result = noos_poll(&p, 1, NOOS_FOREVER);
		b->revents = p.revents;
		break;
	}
	b->returned = noos_time_ns();
	return NULL;
}

/* Start a thread blocking on fd, let it block, close fd: the thread returns. */
static struct blocked close_under(int fd, int what, bool surely_blocked)
{
	struct blocked b = {fd, what, 12345, 0, 0};
	noos_thread_t *t;
	struct noos_thread_opts o = {.name = "blocked"};
	MUST(noos_thread_create(&t, block_in, &b, &o));
	noos_sleep_ns(100 * MS);
	uint64_t closed_at = noos_time_ns();
	if (surely_blocked)
		CHECK_EQ(b.returned, 0); /* still blocked */
	MUST(noos_close(fd));
	noos_thread_join(t, NULL);
	CHECK(b.returned >= closed_at);
	return b;
}

static void test_close_while_blocked(void)
{
	int l = listener(NOOS_AF_INET), c;
	int s = connected_pair(NOOS_AF_INET, l, &c);
	CHECK_EQ(close_under(s, 0, true).result, -EBADF); /* recv */
	MUST(noos_close(c));
	CHECK_EQ(close_under(l, 1, true).result, -EBADF); /* accept */
	l = listener(NOOS_AF_INET);
	s = connected_pair(NOOS_AF_INET, l, &c);
	int small = 8192;
	MUST(noos_setsockopt(s, NOOS_SOL_SOCKET, NOOS_SO_SNDBUF, &small, sizeof(small)));
	long r = close_under(s, 2, false).result;       /* send, the peer reading nothing */
	CHECK(r == -EBADF || (r > 0 && r < (1 << 20))); /* what was queued before, or the error */
	MUST(noos_close(c));
	int ep = MUST(noos_epoll_create(0));
	CHECK_EQ(close_under(ep, 3, true).result, -EBADF); /* epoll_wait */
	s = connected_pair(NOOS_AF_INET, l, &c);
	struct blocked b = close_under(s, 4, true); /* poll */
	CHECK_EQ(b.result, 1);
	CHECK_EQ(b.revents, NOOS_POLLNVAL);
	MUST(noos_close(c));
	/* shutdown(SHUT_RD) of a listener wakes accept with -EINVAL (Linux). */
	struct blocked a = {l, 1, 12345, 0, 0};
	noos_thread_t *t;
	struct noos_thread_opts o = {.name = "accept"};
	MUST(noos_thread_create(&t, block_in, &a, &o));
	noos_sleep_ns(100 * MS);
	MUST(noos_shutdown(l, NOOS_SHUT_RD));
	noos_thread_join(t, NULL);
	CHECK_EQ(a.result, -EINVAL);
	MUST(noos_close(l));
}

int main(void)
{
	noos_net_start();
	test_poll_bits();
	test_level();
	test_edge_in();
	test_edge_udp();
	test_edge_out();
	test_error();
	test_oneshot();
	test_close_removes();
	test_listener_and_round_robin();
	test_ctl_errors();
	test_close_while_blocked();
	struct noos_socket_stats st;
	MUST(noos_socket_stats(&st));
	CHECK_EQ(st.sockets, 0);
	CHECK_EQ(st.queues, 0);
	return finish("sockready");
}
