/*
 * Helpers shared by the socket guest tests (tests/guest/sockapi.c,
 * sockready.c, sockpeer.c): checks that print what was expected and what
 * came, loopback addresses, connected pairs over lwIP's loopback interface,
 * and waiting for readiness. Only noos.h and the C subset noos provides.
 */
#ifndef NOOS_TEST_SOCKTEST_H
#define NOOS_TEST_SOCKTEST_H

#include <errno.h>
#include <noos.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#define MS  1000000ull
#define SEC 1000000000ull

/* A generous bound for things that must happen (TCG may be slow); never a pass condition. */
#define SOON (10 * SEC)

/* got == want, else a FAIL line naming the expression; evaluates to whether it held. */
#define CHECK_EQ(got, want) check_eq((long long)(got), (long long)(want), #got, __LINE__)
#define CHECK(cond)         check_true((cond), #cond, __LINE__)

static inline bool check_eq(long long got, long long want, const char *what, int line)
{
	if (got == want)
		return true;
	printf("FAIL line %d: %s = %lld, expected %lld\n", line, what, got, want);
	__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	return false;
}

static inline bool check_true(bool cond, const char *what, int line)
{
	if (!cond) {
		printf("FAIL line %d: %s\n", line, what);
		__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	}
	return cond;
}

/* A result that must not be an error: the test cannot go on without it. */
static inline int must(long v, const char *what, int line)
{
	if (v < 0) {
		printf("FAIL line %d: %s = %ld\n", line, what, v);
		exit(1);
	}
	return (int)v;
}
#define MUST(x) must((long)(x), #x, __LINE__)

static inline struct noos_sockaddr_in sin4(uint32_t host_order_addr, uint16_t port)
{
	struct noos_sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = NOOS_AF_INET;
	a.sin_port = noos_htons(port);
	a.sin_addr.s_addr = noos_htonl(host_order_addr);
	return a;
}

static inline struct noos_sockaddr_in6 sin6_any(uint16_t port)
{
	struct noos_sockaddr_in6 a;
	memset(&a, 0, sizeof(a));
	a.sin6_family = NOOS_AF_INET6;
	a.sin6_port = noos_htons(port);
	return a;
}

static inline struct noos_sockaddr_in6 sin6_loopback(uint16_t port)
{
	struct noos_sockaddr_in6 a = sin6_any(port);
	a.sin6_addr.s6_u8[15] = 1;
	return a;
}

#define SA(p) ((struct noos_sockaddr *)(p))

/* The port a socket is bound to (host order). */
static inline uint16_t local_port(int fd)
{
	struct noos_sockaddr_storage ss;
	noos_socklen_t len = sizeof(ss);
	MUST(noos_getsockname(fd, SA(&ss), &len));
	return noos_ntohs(((struct noos_sockaddr_in *)&ss)->sin_port); /* same offset in _in6 */
}

/* A TCP listener on 127.0.0.1 (or ::1), any port. */
static inline int listener(int family)
{
	int l = MUST(noos_socket(family, NOOS_SOCK_STREAM, 0));
	if (family == NOOS_AF_INET) {
		struct noos_sockaddr_in a = sin4(NOOS_INADDR_LOOPBACK, 0);
		MUST(noos_bind(l, SA(&a), sizeof(a)));
	} else {
		struct noos_sockaddr_in6 a = sin6_loopback(0);
		MUST(noos_bind(l, SA(&a), sizeof(a)));
	}
	MUST(noos_listen(l, 16));
	return l;
}

/* Connect a new socket (blocking) to the listener l, accept it: *client, returns the server end. */
static inline int connected_pair(int family, int l, int *client)
{
	int c = MUST(noos_socket(family, NOOS_SOCK_STREAM, 0));
	if (family == NOOS_AF_INET) {
		struct noos_sockaddr_in a = sin4(NOOS_INADDR_LOOPBACK, local_port(l));
		MUST(noos_connect(c, SA(&a), sizeof(a)));
	} else {
		struct noos_sockaddr_in6 a = sin6_loopback(local_port(l));
		MUST(noos_connect(c, SA(&a), sizeof(a)));
	}
	*client = c;
	return MUST(noos_accept(l, NULL, NULL));
}

/* poll one descriptor; its revents (0 on timeout). */
static inline int poll1(int fd, short events, uint64_t timeout_ns)
{
	struct noos_pollfd p = {fd, events, 0};
	int n = noos_poll(&p, 1, timeout_ns);
	return n < 0 ? n : p.revents;
}

/* Wait (bounded) until fd has all of events. */
static inline bool wait_for(int fd, short events)
{
	uint64_t end = noos_time_ns() + SOON;
	while (noos_time_ns() < end)
		if ((poll1(fd, events, 100 * MS) & events) == events)
			return true;
	return false;
}

static inline int finish(const char *name)
{
	if (failures) {
		printf("%s: %d failures\n", name, failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

#endif
