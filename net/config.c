/*
 * Bringing the network up (noos_net_start) and each interface's addresses.
 *
 * IPv4: DHCP by default. The boot command line may instead give the first
 * interface a static configuration (noos_getenv):
 *   ip=ADDR[/PREFIX]   address and prefix length (default /24); ip=dhcp is
 *                      the default, ip=off leaves IPv4 unconfigured
 *   gw=ADDR            default gateway
 *   dns=ADDR[,ADDR]    DNS servers, IPv4 or IPv6; ADDR:PORT or [ADDR]:PORT
 *                      asks on that port instead of 53 (all servers share
 *                      it: lwIP has one), as a test's own server may need.
 *                      With DHCP, the lease's servers replace these.
 * A value that does not parse is reported and ignored (DHCP then).
 * Other interfaces always use DHCP.
 *
 * IPv6: a link-local address from the MAC (RFC 4862 §5.3, modified EUI-64),
 * then SLAAC from router advertisements (LWIP_IPV6_AUTOCONFIG); DNS servers
 * from RDNSS options (RFC 8106).
 *
 * Link down and up: lwIP's netif_set_link_up restarts DHCP (INIT-REBOOT,
 * RFC 2131 §3.2) and IPv6 router solicitation; netif.c calls it when the
 * device's link status changes.
 *
 * Interfaces are lwIP's netifs, named en1, en2, ... (lwIP numbers them all,
 * and its loopback lo0 came first).
 *
 * Address changes are printed ("net: en1 ipv4 10.0.2.15/24 gw 10.0.2.2
 * (dhcp)") and wake noos_net_wait (a futex on a generation count, so every
 * waiter sees them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/netif.h"
#include "lwip/tcpip.h"

#include "noos.h"
#include "net.h"
#include "../virtio/virtio.h"

static noos_mutex_t start_lock = NOOS_MUTEX_INIT; /* guards started, started_count */
static bool started;
static int started_count;
static uint32_t addr_gen; /* bumped (and futex-woken) when an interface's addresses change */
static netif_ext_callback_t ext_cb;

/* ---- the command line ---- */

static bool parse_prefix(const char *s, unsigned *prefix)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (end == s || *end || v > 32)
		return false;
	*prefix = (unsigned)v;
	return true;
}

/* "ADDR[/PREFIX]": false when it does not parse. */
static bool parse_ip(const char *v, ip4_addr_t *addr, ip4_addr_t *mask)
{
	char buf[32];
	unsigned prefix = 24;
	if (strlen(v) >= sizeof(buf))
		return false;
	strlcpy(buf, v, sizeof(buf));
	char *slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (!parse_prefix(slash + 1, &prefix))
			return false;
	}
	if (!ip4addr_aton(buf, addr))
		return false;
	ip4_addr_set_u32(mask, prefix ? lwip_htonl(~0u << (32 - prefix)) : 0);
	return true;
}

static void bad(const char *key, const char *value)
{
	printf("net: %s=%s is not understood, ignored\n", key, value);
}

unsigned short net_dns_port = 53; /* lwIP's DNS_SERVER_PORT (lwipopts.h) */

/* "ADDR", "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6); false when it does not parse. */
static bool parse_server(char *s, ip_addr_t *a, unsigned *port)
{
	char *end = NULL, *colon = strrchr(s, ':');
	if (*s == '[') {
		char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return false;
		*close = '\0';
		colon = close + 1;
		s++;
	} else if (!colon || strchr(s, ':') != colon) {
		colon = NULL; /* no port, or a bare IPv6 address */
	}
	if (colon) {
		*colon = '\0';
		unsigned long p = strtoul(colon + 1, &end, 10);
		if (end == colon + 1 || *end || p == 0 || p > 65535)
			return false;
		*port = (unsigned)p;
	}
	return ipaddr_aton(s, a);
}

/* dns=SERVER[,SERVER]: up to DNS_MAX_SERVERS. */
static void config_dns(void)
{
	const char *v = noos_getenv("dns");
	char buf[128];
	if (!v)
		return;
	if (strlen(v) >= sizeof(buf)) {
		bad("dns", v);
		return;
	}
	strlcpy(buf, v, sizeof(buf));
	u8_t n = 0;
	for (char *s = buf, *comma; s && n < DNS_MAX_SERVERS; s = comma) {
		comma = strchr(s, ',');
		if (comma)
			*comma++ = '\0';
		char item[64];
		strlcpy(item, s, sizeof(item));
		ip_addr_t a;
		unsigned port = net_dns_port;
		if (parse_server(s, &a, &port)) {
			dns_setserver(n++, &a);
			net_dns_port = (unsigned short)port;
		} else {
			bad("dns", item);
		}
	}
}

/* The first interface: ip=, gw= from the command line. true: IPv4 is configured (or off). */
static bool config_static(struct netif *nif)
{
	const char *ip = noos_getenv("ip"), *gw = noos_getenv("gw");
	ip4_addr_t addr, mask, gateway;
	ip4_addr_set_zero(&gateway);
	if (!ip || strcmp(ip, "dhcp") == 0)
		return false;
	if (strcmp(ip, "off") == 0)
		return true;
	if (!parse_ip(ip, &addr, &mask)) {
		bad("ip", ip);
		return false;
	}
	if (gw && !ip4addr_aton(gw, &gateway))
		bad("gw", gw);
	netif_set_addr(nif, &addr, &mask, &gateway);
	return true;
}

/* Core lock held: addresses for interface number index (0 is the first). */
void net_config_netif(struct netif *nif, unsigned index)
{
	netif_set_up(nif); /* before dhcp_start, which wants it up */
	if (!netif_default)
		netif_set_default(nif);
	if (index == 0)
		config_dns();
	if ((index != 0 || !config_static(nif)) && dhcp_start(nif) != ERR_OK)
		printf("net: %c%c%u: DHCP could not start\n", nif->name[0], nif->name[1], nif->num);
	netif_create_ip6_linklocal_address(nif, 1);
	netif_set_ip6_autoconfig_enabled(nif, 1);
}

/* ---- reporting address changes ---- */

/* how: "dhcp", "static", or "dhcp, renewed" (netif.c, after a link flap). */
void net_config_print_v4(struct netif *nif, const char *how)
{
	char a[16], g[16];
	ip4addr_ntoa_r(netif_ip4_addr(nif), a, sizeof(a));
	ip4addr_ntoa_r(netif_ip4_gw(nif), g, sizeof(g));
	unsigned prefix = 0;
	for (uint32_t v = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(nif))); v & 0x80000000u;
	     v <<= 1)
		prefix++;
	printf("net: %c%c%u ipv4 %s/%u gw %s (%s)\n", nif->name[0], nif->name[1], nif->num, a,
	       prefix, g, how);
}

static void print_v6(struct netif *nif, s8_t i)
{
	char a[48];
	ip6addr_ntoa_r(netif_ip6_addr(nif, i), a, sizeof(a));
	printf("net: %c%c%u ipv6 %s\n", nif->name[0], nif->name[1], nif->num, a);
}

/* tcpip_thread (or whoever holds the core lock): an interface changed. */
static void on_change(struct netif *nif, netif_nsc_reason_t reason,
                      const netif_ext_callback_args_t *args)
{
	if ((reason & LWIP_NSC_IPV4_SETTINGS_CHANGED) && !ip4_addr_isany_val(*netif_ip4_addr(nif)))
		net_config_print_v4(nif, dhcp_supplied_address(nif) ? "dhcp" : "static");
	if (reason & LWIP_NSC_IPV6_ADDR_STATE_CHANGED) {
		s8_t i = args->ipv6_addr_state_changed.addr_index;
		u8_t st = netif_ip6_addr_state(nif, i);
		if (ip6_addr_ispreferred(st) &&
		    !ip6_addr_ispreferred(args->ipv6_addr_state_changed.old_state))
			print_v6(nif, i);
	}
	if (reason & (LWIP_NSC_IPV4_SETTINGS_CHANGED | LWIP_NSC_IPV6_ADDR_STATE_CHANGED)) {
		__atomic_fetch_add(&addr_gen, 1, __ATOMIC_RELEASE);
		noos_futex_wake(&addr_gen, 1 << 30);
	}
}

/* ---- starting ---- */

static void tcpip_ready(void *arg)
{
	noos_sem_post(arg);
}

static int start_locked(void)
{
	noos_sem_t ready;
	noos_sem_init(&ready, 0);
	tcpip_init(tcpip_ready, &ready);
	noos_sem_wait(&ready);
	LOCK_TCPIP_CORE();
	netif_add_ext_callback(&ext_cb, on_change);
	UNLOCK_TCPIP_CORE();
	int count = 0;
	for (unsigned i = 0; i < vnet_count(); i++) {
		struct netif *nif;
		int err = net_netif_add(vnet_at(i), i, &nif);
		if (err)
			printf("net: %s not used (error %d)\n", vnet_name(vnet_at(i)), err);
		else
			count++;
	}
	return count;
}

int noos_net_start(void)
{
	noos_mutex_lock(&start_lock);
	if (!started) {
		started_count = start_locked();
		__atomic_store_n(&started, true, __ATOMIC_RELEASE);
	}
	int n = started_count;
	noos_mutex_unlock(&start_lock);
	return n;
}

static bool has_ipv4(void)
{
	bool found = false;
	LOCK_TCPIP_CORE();
	for (unsigned i = 0; i < net_netif_count() && !found; i++) {
		struct netif *nif = net_netif_at(i);
		found = netif_is_up(nif) && !ip4_addr_isany_val(*netif_ip4_addr(nif));
	}
	UNLOCK_TCPIP_CORE();
	return found;
}

int noos_net_wait(uint64_t timeout_ns)
{
	if (!__atomic_load_n(&started, __ATOMIC_ACQUIRE))
		return -ENODEV;
	uint64_t deadline = timeout_ns == NOOS_FOREVER ? NOOS_FOREVER : noos_time_ns() + timeout_ns;
	for (;;) {
		uint32_t gen = __atomic_load_n(&addr_gen, __ATOMIC_ACQUIRE);
		if (has_ipv4())
			return 0;
		uint64_t now = noos_time_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		noos_futex_wait(&addr_gen, gen,
		                deadline == NOOS_FOREVER ? NOOS_FOREVER : deadline - now);
	}
}
