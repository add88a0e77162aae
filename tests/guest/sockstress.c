/*
 * sockstress: the socket layer under concurrency, on several vCPUs, over
 * lwIP's loopback. What it checks is that nothing crashes, hangs or leaks,
 * and that every call's result is one of those its documentation allows:
 *  - close racing a blocked (or about to block) recv, at many delays: the
 *    recv returns -EBADF every time;
 *  - epoll_ctl racing close of the same descriptor: 0, -EBADF, -ENOENT or
 *    -EEXIST, and the queue reports nothing of a closed socket;
 *  - several threads in epoll_wait on one queue, one edge-triggered event:
 *    exactly one of them gets it;
 *  - client threads making many short connections to an edge-triggered echo
 *    server thread; every byte comes back;
 * and that afterwards no socket or queue is left open.
 *
 * Prints "sockstress: ok" and exits 0, or FAIL lines and exits 1.
 */
#include "socktest.h"

#define CLIENTS     4
#define CONNECTIONS 40 /* per client; lwIP has 64 TCP control blocks */
#define MESSAGE     1000

static noos_thread_t *start(void *(*fn)(void *), void *arg, const char *name)
{
	noos_thread_t *t;
	struct noos_thread_opts o = {.name = name};
	MUST(noos_thread_create(&t, fn, arg, &o));
	return t;
}

/* ---- close racing recv ---- */

struct racer {
	int fd;
	long result;
};

static void *racer_recv(void *arg)
{
	struct racer *r = arg;
	char c;
	r->result = noos_recv(r->fd, &c, 1, 0);
	return NULL;
}

static void test_close_races_recv(void)
{
	int l = listener(NOOS_AF_INET);
	for (unsigned i = 0; i < 60; i++) {
		int c;
		int s = connected_pair(NOOS_AF_INET, l, &c);
		struct racer r = {s, 12345};
		noos_thread_t *t = start(racer_recv, &r, "racer");
		noos_sleep_ns((i % 20) * 50000); /* 0 .. 1 ms: before, while and after it blocks */
		MUST(noos_close(s));
		noos_thread_join(t, NULL);
		CHECK_EQ(r.result, -EBADF);
		MUST(noos_close(c));
	}
	MUST(noos_close(l));
}

/* ---- epoll_ctl racing close ---- */

struct ctl_racer {
	int ep;
	volatile int fd;
	volatile bool stop;
	unsigned bad;
};

static void *ctl_loop(void *arg)
{
	struct ctl_racer *r = arg;
	while (!r->stop) {
		struct noos_epoll_event ev = {NOOS_EPOLLIN, {.u64 = 1}};
		int a = noos_epoll_ctl(r->ep, NOOS_EPOLL_CTL_ADD, r->fd, &ev);
		int d = noos_epoll_ctl(r->ep, NOOS_EPOLL_CTL_DEL, r->fd, NULL);
		if ((a && a != -EBADF && a != -EEXIST) || (d && d != -EBADF && d != -ENOENT))
			r->bad++;
	}
	return NULL;
}

static void test_ctl_races_close(void)
{
	struct ctl_racer r = {MUST(noos_epoll_create(0)), -1, false, 0};
	r.fd = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0));
	noos_thread_t *t = start(ctl_loop, &r, "ctl");
	for (unsigned i = 0; i < 300; i++) {
		MUST(noos_close(r.fd));
		r.fd = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0));
	}
	r.stop = true;
	noos_thread_join(t, NULL);
	CHECK_EQ(r.bad, 0);
	MUST(noos_close(r.fd));
	struct noos_epoll_event ev;
	CHECK_EQ(noos_epoll_wait(r.ep, &ev, 1, 0), 0); /* nothing of the closed ones */
	MUST(noos_close(r.ep));
}

/* ---- several waiters, one event ---- */

struct waiter {
	int ep;
	int got;
};

static void *wait_once(void *arg)
{
	struct waiter *w = arg;
	struct noos_epoll_event ev;
	w->got = noos_epoll_wait(w->ep, &ev, 1, 2 * SEC);
	return NULL;
}

static void test_one_event_one_waiter(void)
{
	int ep = MUST(noos_epoll_create(0));
	int u = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_DGRAM, 0));
	struct noos_sockaddr_in a = sin4(NOOS_INADDR_LOOPBACK, 0);
	MUST(noos_bind(u, SA(&a), sizeof(a)));
	a.sin_port = noos_htons(local_port(u));
	struct noos_epoll_event ev = {NOOS_EPOLLIN | NOOS_EPOLLET, {0}};
	MUST(noos_epoll_ctl(ep, NOOS_EPOLL_CTL_ADD, u, &ev));
	struct waiter w[3] = {{ep, -1}, {ep, -1}, {ep, -1}};
	noos_thread_t *t[3];
	for (int i = 0; i < 3; i++)
		t[i] = start(wait_once, &w[i], "waiter");
	noos_sleep_ns(100 * MS);
	CHECK_EQ(noos_sendto(u, "x", 1, 0, SA(&a), sizeof(a)), 1);
	int total = 0;
	for (int i = 0; i < 3; i++) {
		noos_thread_join(t[i], NULL);
		CHECK(w[i].got == 0 || w[i].got == 1);
		total += w[i].got;
	}
	CHECK_EQ(total, 1);
	MUST(noos_close(u));
	MUST(noos_close(ep));
}

/* ---- many short connections to an edge-triggered echo server ---- */

static struct {
	int listen, ep;
	volatile bool stop;
} srv;

static void serve_conn(int fd)
{
	char buf[2048];
	long n;
	while ((n = noos_recv(fd, buf, sizeof(buf), 0)) > 0)
		if (noos_send(fd, buf, (size_t)n, 0) != n) /* blocking: small echoes fit */
			CHECK(false);
	if (n == 0 || n == -ECONNRESET)
		MUST(noos_close(fd)); /* leaves the queue */
	else
		CHECK_EQ(n, -EAGAIN);
}

static void *server(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		struct noos_epoll_event evs[16];
		int n = MUST(noos_epoll_wait(srv.ep, evs, 16, 50 * MS));
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd != srv.listen) {
				serve_conn(fd);
				continue;
			}
			int c;
			while ((c = noos_accept4(srv.listen, NULL, NULL, NOOS_SOCK_NONBLOCK)) >=
			       0) {
				struct noos_epoll_event ev = {
				    NOOS_EPOLLIN | NOOS_EPOLLRDHUP | NOOS_EPOLLET, {.fd = c}};
				MUST(noos_epoll_ctl(srv.ep, NOOS_EPOLL_CTL_ADD, c, &ev));
			}
			CHECK_EQ(c, -EAGAIN);
		}
	}
	return NULL;
}

static void *client(void *arg)
{
	uint16_t port = (uint16_t)(uintptr_t)arg;
	static const char msg[MESSAGE] = "echo";
	for (unsigned i = 0; i < CONNECTIONS; i++) {
		int c = MUST(noos_socket(NOOS_AF_INET, NOOS_SOCK_STREAM, 0));
		struct noos_sockaddr_in to = sin4(NOOS_INADDR_LOOPBACK, port);
		if (!CHECK_EQ(noos_connect(c, SA(&to), sizeof(to)), 0)) {
			noos_close(c);
			continue;
		}
		char back[MESSAGE];
		CHECK_EQ(noos_send(c, msg, sizeof(msg), 0), MESSAGE);
		CHECK_EQ(noos_recv(c, back, sizeof(back), NOOS_MSG_WAITALL), MESSAGE);
		CHECK(memcmp(back, msg, MESSAGE) == 0);
		MUST(noos_close(c));
	}
	return NULL;
}

static void test_many_connections(void)
{
	srv.listen = listener(NOOS_AF_INET);
	MUST(noos_set_nonblock(srv.listen, 1));
	srv.ep = MUST(noos_epoll_create(0));
	struct noos_epoll_event ev = {NOOS_EPOLLIN | NOOS_EPOLLET, {.fd = srv.listen}};
	MUST(noos_epoll_ctl(srv.ep, NOOS_EPOLL_CTL_ADD, srv.listen, &ev));
	noos_thread_t *s = start(server, NULL, "server");
	noos_thread_t *c[CLIENTS];
	uint64_t t0 = noos_time_ns();
	for (int i = 0; i < CLIENTS; i++)
		c[i] = start(client, (void *)(uintptr_t)local_port(srv.listen), "client");
	for (int i = 0; i < CLIENTS; i++)
		noos_thread_join(c[i], NULL);
	printf("sockstress: %d connections in %llu ms\n", CLIENTS * CONNECTIONS,
	       (unsigned long long)((noos_time_ns() - t0) / MS));
	/* The server closes each connection at the client's FIN; give it the last ones. */
	struct noos_socket_stats st;
	uint64_t end = noos_time_ns() + SOON;
	while (noos_socket_stats(&st) == 0 && st.sockets > 1 && noos_time_ns() < end)
		noos_sleep_ns(10 * MS);
	CHECK_EQ(st.sockets, 1); /* the listener */
	srv.stop = true;
	noos_thread_join(s, NULL);
	MUST(noos_close(srv.ep));
	MUST(noos_close(srv.listen));
}

int main(void)
{
	noos_net_start();
	test_close_races_recv();
	test_ctl_races_close();
	test_one_event_one_waiter();
	test_many_connections();
	struct noos_socket_stats st;
	MUST(noos_socket_stats(&st));
	CHECK_EQ(st.sockets, 0);
	CHECK_EQ(st.queues, 0);
	CHECK_EQ(st.tcp_open, 0);
	return finish("sockstress");
}
