/*
 * bench-iperf: the noos side of ./noos bench's TCP bulk rows, lwIP's lwiperf
 * (lwIP 2.1.3 src/apps/lwiperf) on the network noos_net_start brings up
 * (DHCP, or ip=ADDR/PREFIX gw=ADDR on the command line):
 *
 *   - an iperf 2 server on TCP port 5001, for host -> guest (the host runs
 *     `iperf -c`);
 *   - with iperf_client=ADDR:PORT, an iperf 2 client to an `iperf -s` there,
 *     for guest -> host. lwiperf's client sends for 10 s (its fixed
 *     duration); the host measures what it received in its first seconds.
 *
 * The Linux guest does the same with Debian's iperf (tests/bench/linux.py).
 * lwiperf is raw API: its calls run with lwIP's core lock held (noos runs
 * lwIP with NO_SYS=0 and LWIP_TCPIP_CORE_LOCKING), and its reports come
 * from lwIP's thread. Prints "bench-iperf: ready" once the server listens,
 * one line per finished session followed by the netif's counters, and runs
 * until QEMU is stopped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/apps/lwiperf.h"
#include "lwip/ip_addr.h"
#include "lwip/tcpip.h"
#include "noos.h"
#include "../../net/net.h"

#define SEC 1000000000ull

static const char *report_name(enum lwiperf_report_type t)
{
	switch (t) {
	case LWIPERF_TCP_DONE_SERVER:
		return "server done";
	case LWIPERF_TCP_DONE_CLIENT:
		return "client done";
	case LWIPERF_TCP_ABORTED_LOCAL:
		return "aborted here";
	case LWIPERF_TCP_ABORTED_LOCAL_DATAERROR:
		return "aborted here: data error";
	case LWIPERF_TCP_ABORTED_LOCAL_TXERROR:
		return "aborted here: send error";
	case LWIPERF_TCP_ABORTED_REMOTE:
		return "closed by the peer";
	}
	return "?";
}

/* lwiperf's report, from lwIP's thread: what one session moved. */
static void report(void *arg, enum lwiperf_report_type type, const ip_addr_t *local_addr,
                   u16_t local_port, const ip_addr_t *remote_addr, u16_t remote_port, u32_t bytes,
                   u32_t ms, u32_t kbits)
{
	(void)arg;
	(void)local_addr;
	(void)local_port;
	printf("bench-iperf: %s, %s:%u, %lu bytes in %lu ms, %lu kbit/s\n", report_name(type),
	       ipaddr_ntoa(remote_addr), remote_port, (unsigned long)bytes, (unsigned long)ms,
	       (unsigned long)kbits);
	net_netif_report(); /* where the session's frames went: merged, copied, dropped */
}

/* "ADDR:PORT" -> addr, *port; 0 or -1. */
static int parse_peer(const char *s, ip_addr_t *addr, u16_t *port)
{
	char buf[64];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, colon - s);
	buf[colon - s] = '\0';
	char *end;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || p == 0 || p > 65535 || !ipaddr_aton(buf, addr))
		return -1;
	*port = (u16_t)p;
	return 0;
}

static int start_client(const char *peer)
{
	ip_addr_t addr;
	u16_t port;
	if (parse_peer(peer, &addr, &port) != 0) {
		printf("bench-iperf: iperf_client=%s is not ADDR:PORT\n", peer);
		return -1;
	}
	LOCK_TCPIP_CORE();
	void *c = lwiperf_start_tcp_client(&addr, port, LWIPERF_CLIENT, report, NULL);
	UNLOCK_TCPIP_CORE();
	if (!c) {
		printf("bench-iperf: cannot start the client to %s\n", peer);
		return -1;
	}
	printf("bench-iperf: client to %s\n", peer);
	return 0;
}

int main(void)
{
	if (noos_net_start() < 1 || noos_net_wait(30 * SEC) != 0) {
		printf("bench-iperf: no network\n");
		return 1;
	}
	LOCK_TCPIP_CORE();
	void *server = lwiperf_start_tcp_server_default(report, NULL);
	UNLOCK_TCPIP_CORE();
	if (!server) {
		printf("bench-iperf: cannot listen on port %d\n", LWIPERF_TCP_PORT_DEFAULT);
		return 1;
	}
	printf("bench-iperf: ready, port %d\n", LWIPERF_TCP_PORT_DEFAULT);
	const char *peer = noos_getenv("iperf_client");
	if (peer && start_client(peer) != 0)
		return 1;
	for (;;)
		noos_sleep_ns(3600 * SEC);
}
