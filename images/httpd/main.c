/*
 * httpd: an HTTP/1.1 web server as a whole VM image — keep-alive,
 * pipelining, one worker thread per vCPU, static content compiled in, and
 * live counters at /stats. See httpd.h for how the files divide the work.
 *
 *   ./noos demo                                    (port 8080 on the host)
 *   ./noos run httpd --net user --fwd 8080:80 --smp 2
 *
 * Command line: [PORT] (default 80) [selftest]. It serves until the VM is
 * stopped; with "selftest" it fetches its own pages over IPv4 and IPv6 and
 * exits (selftest.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"

#define DHCP_WAIT_NS (10 * 1000000000ull)
#define BACKLOG      128

struct server server;

/* [PORT] [selftest]: -1 for anything else. */
static int parse_args(int argc, char **argv, bool *selftest)
{
	int port = 80;
	for (int i = 1; i < argc; i++) {
		char *end;
		unsigned long v = strtoul(argv[i], &end, 10);
		if (!strcmp(argv[i], "selftest"))
			*selftest = true;
		else if (*end || v == 0 || v > 65535)
			return -1;
		else
			port = (int)v;
	}
	return port;
}

/*
 * One socket for both families: an AF_INET6 socket bound to the any
 * address also takes IPv4 connections (as ::ffff:a.b.c.d), as on Linux.
 * Non-blocking, because every worker's accept must return at once when
 * another worker took the connection first.
 */
static int listen_on(uint16_t port)
{
	int fd = noos_socket(NOOS_AF_INET6, NOOS_SOCK_STREAM | NOOS_SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	int one = 1;
	noos_setsockopt(fd, NOOS_SOL_SOCKET, NOOS_SO_REUSEADDR, &one, sizeof(one));
	struct noos_sockaddr_in6 any = {.sin6_family = NOOS_AF_INET6,
	                                .sin6_port = noos_htons(port)};
	int err = noos_bind(fd, (struct noos_sockaddr *)&any, sizeof(any));
	if (!err)
		err = noos_listen(fd, BACKLOG);
	if (err) {
		noos_close(fd);
		return err;
	}
	return fd;
}

/* "httpd: en1 10.0.2.15 fe80::5054:ff:fe12:3456": the addresses the VM has (loopback aside). */
static void print_addresses(void)
{
	static const uint8_t no_mac[6];
	for (int i = 0; i < noos_if_count(); i++) {
		struct noos_ifinfo ifi;
		char a[NOOS_INET6_ADDRSTRLEN];
		if (noos_if_info((unsigned)i, &ifi) < 0 || !memcmp(ifi.mac, no_mac, 6))
			continue; /* the loopback */
		printf("httpd: %s", ifi.name);
		if (ifi.ipv4.s_addr && noos_inet_ntop(NOOS_AF_INET, &ifi.ipv4, a, sizeof(a)) > 0)
			printf(" %s", a);
		for (unsigned k = 0; k < ifi.ipv6_count && k < NOOS_IF_MAX_IPV6; k++)
			if (noos_inet_ntop(NOOS_AF_INET6, &ifi.ipv6[k], a, sizeof(a)) > 0)
				printf(" %s", a);
		printf("\n");
	}
}

/* Worker i: its event queue with the listening socket in it (level-triggered, no data). */
static int worker_init(unsigned i)
{
	struct worker *w = &server.workers[i];
	w->id = i;
	w->epfd = noos_epoll_create(0);
	if (w->epfd < 0)
		return w->epfd;
	struct noos_epoll_event ev = {.events = NOOS_EPOLLIN, .data.ptr = NULL};
	return noos_epoll_ctl(w->epfd, NOOS_EPOLL_CTL_ADD, server.listen_fd, &ev);
}

/* Workers 1.. on threads of their own, each pinned to its vCPU; worker 0 is main's. */
static int start_workers(void)
{
	for (unsigned i = 1; i < server.nworkers; i++) {
		struct noos_thread_opts opts = {
		    .name = "httpd", .affinity = 1ull << i, .flags = NOOS_THREAD_DETACHED};
		int err = noos_thread_create(NULL, worker_main, &server.workers[i], &opts);
		if (err)
			return err;
	}
	return noos_thread_set_affinity(NULL, 1);
}

int main(int argc, char **argv)
{
	server.start_ns = noos_time_ns();
	bool selftest = false;
	int port = parse_args(argc, argv, &selftest);
	if (port < 0) {
		printf("httpd: usage: httpd [PORT] [selftest]\n");
		return 2;
	}
	server.port = (uint16_t)port;
	if (noos_net_start() <= 0) {
		printf("httpd: no network card (QEMU: -netdev user,... -device virtio-net-...)\n");
		return 1;
	}
	if (noos_net_wait(DHCP_WAIT_NS) < 0)
		printf("httpd: no IPv4 address yet; serving on what there is\n");
	server.listen_fd = listen_on(server.port);
	if (server.listen_fd < 0) {
		printf("httpd: cannot listen on port %d (error %d)\n", port, server.listen_fd);
		return 1;
	}
	unsigned cpus = noos_cpu_count();
	server.nworkers = cpus < MAX_WORKERS ? cpus : MAX_WORKERS;
	for (unsigned i = 0; i < server.nworkers; i++) {
		int err = worker_init(i);
		if (err) {
			printf("httpd: cannot make an event queue (error %d)\n", err);
			return 1;
		}
	}
	if (start_workers() < 0) {
		printf("httpd: cannot start the workers\n");
		return 1;
	}
	print_addresses();
	printf("httpd: listening on port %u (IPv4 and IPv6), %u worker%s\n", server.port,
	       server.nworkers, server.nworkers == 1 ? "" : "s");
	if (selftest && selftest_start() < 0)
		return 1;
	worker_main(&server.workers[0]);
	return 0;
}
