/*
 * httpd's self-test (command line: "selftest"): once the server runs, a
 * client thread in the same VM fetches /hello over every address the VM
 * has — IPv4 and IPv6 loopback, and each interface's IPv4, IPv6 global
 * and IPv6 link-local address — with noos's client calls (getaddrinfo,
 * socket, connect, send, recv), checks each answer, and ends the VM with
 * status 0 if all were right.
 *
 * It is how IPv6 is tested where the host cannot reach the guest over
 * IPv6 (QEMU 7.2's user network forwards IPv4 ports only): the requests
 * go through lwIP's IPv6 and the server's dual-stack socket, though not
 * over the wire.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "httpd.h"

#define SLAAC_WAIT_NS (5 * 1000000000ull)
#define ANSWER        "HTTP/1.1 200 OK"
#define BODY          "Hello from noos!\n"

static int connect_to(const char *host, unsigned scope)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", server.port);
	struct noos_addrinfo hints = {.ai_flags = NOOS_AI_NUMERICHOST,
	                              .ai_socktype = NOOS_SOCK_STREAM};
	struct noos_addrinfo *res;
	int err = noos_getaddrinfo(host, port, &hints, &res);
	if (err)
		return err;
	if (res->ai_family == NOOS_AF_INET6) /* link-local addresses need their interface */
		((struct noos_sockaddr_in6 *)res->ai_addr)->sin6_scope_id = scope;
	int fd = noos_socket(res->ai_family, res->ai_socktype, 0);
	if (fd >= 0 && (err = noos_connect(fd, res->ai_addr, res->ai_addrlen)) < 0) {
		noos_close(fd);
		fd = err;
	}
	noos_freeaddrinfo(res);
	return fd;
}

/* GET /hello from host; 0 if the answer was exactly right. */
static int fetch(const char *host, unsigned scope)
{
	static const char req[] =
	    "GET /hello HTTP/1.1\r\nHost: selftest\r\nConnection: close\r\n\r\n";
	char buf[1024];
	size_t len = 0;
	int fd = connect_to(host, scope);
	if (fd < 0)
		return fd;
	long n = noos_send(fd, req, sizeof(req) - 1, 0);
	while (n > 0 && len < sizeof(buf) - 1) {
		n = noos_recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		len += n > 0 ? (size_t)n : 0;
	}
	noos_close(fd);
	buf[len] = '\0';
	size_t body = sizeof(BODY) - 1;
	if (n < 0)
		return (int)n;
	return strncmp(buf, ANSWER, sizeof(ANSWER) - 1) || len < body ||
	               strcmp(buf + len - body, BODY)
	           ? -EBADMSG
	           : 0;
}

static int check(const char *host, unsigned scope, const char *what)
{
	int err = fetch(host, scope);
	printf("httpd: self-test %s %s: %s (%d)\n", what, host, err ? "FAIL" : "ok", err);
	return err ? 1 : 0;
}

static bool link_local(const struct noos_in6_addr *a)
{
	return a->s6_u8[0] == 0xfe && (a->s6_u8[1] & 0xc0) == 0x80; /* fe80::/10 */
}

/* Each interface's IPv4 address and IPv6 addresses (a link-local one with its scope). */
static int check_interfaces(void)
{
	int failures = 0;
	for (int i = 0; i < noos_if_count(); i++) {
		struct noos_ifinfo ifi;
		char a[NOOS_INET6_ADDRSTRLEN];
		if (noos_if_info((unsigned)i, &ifi) < 0 || !strncmp(ifi.name, "lo", 2))
			continue;
		if (ifi.ipv4.s_addr && noos_inet_ntop(NOOS_AF_INET, &ifi.ipv4, a, sizeof(a)) > 0)
			failures += check(a, 0, "ipv4");
		for (unsigned k = 0; k < ifi.ipv6_count && k < NOOS_IF_MAX_IPV6; k++) {
			bool local = link_local(&ifi.ipv6[k]);
			if (noos_inet_ntop(NOOS_AF_INET6, &ifi.ipv6[k], a, sizeof(a)) > 0)
				failures +=
				    check(a, ifi.index, local ? "ipv6-link-local" : "ipv6-global");
		}
	}
	return failures;
}

/* IPv6 addresses that are not link-local, on the interfaces (SLAAC's, once it is done). */
static unsigned ipv6_global_count(void)
{
	unsigned n = 0;
	for (int i = 0; i < noos_if_count(); i++) {
		struct noos_ifinfo ifi;
		if (noos_if_info((unsigned)i, &ifi) == 0 && strncmp(ifi.name, "lo", 2))
			for (unsigned k = 0; k < ifi.ipv6_count && k < NOOS_IF_MAX_IPV6; k++)
				n += !link_local(&ifi.ipv6[k]);
	}
	return n;
}

static void *selftest(void *arg)
{
	(void)arg;
	uint64_t deadline = noos_time_ns() + SLAAC_WAIT_NS;
	while (!ipv6_global_count() && noos_time_ns() < deadline)
		noos_sleep_ns(100000000);
	int failures = check("127.0.0.1", 0, "ipv4-loopback") + check("::1", 0, "ipv6-loopback");
	failures += check_interfaces();
	printf("httpd: self-test %s\n", failures ? "FAILED" : "passed");
	noos_exit(failures ? 1 : 0);
}

int selftest_start(void)
{
	struct noos_thread_opts opts = {.name = "selftest", .flags = NOOS_THREAD_DETACHED};
	return noos_thread_create(NULL, selftest, NULL, &opts);
}
