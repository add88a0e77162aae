/*
 * lwIP's TCP initial sequence number hook (LWIP_HOOK_TCP_ISN, lwip_hooks.h):
 * the connection's addresses and ports go to rand.c's RFC 6528 generator
 * (kept apart because rt.h and lwIP's headers both name a mem_init).
 */
#include <string.h>

#include "lwip/ip_addr.h"

#include "lwip_hooks.h"
#include "net.h"

/* An address's bytes: 16 for IPv6, 4 for IPv4. */
static size_t put_addr(uint8_t *out, const ip_addr_t *a)
{
	if (IP_IS_V6(a)) {
		memcpy(out, ip_2_ip6(a)->addr, 16);
		return 16;
	}
	memcpy(out, &ip_2_ip4(a)->addr, 4);
	return 4;
}

u32_t net_tcp_isn(const ip_addr_t *local_ip, u16_t local_port, const ip_addr_t *remote_ip,
                  u16_t remote_port)
{
	uint8_t conn[2 * 16 + 2 * 2];
	size_t n = put_addr(conn, local_ip);
	memcpy(conn + n, &local_port, 2);
	n += 2;
	n += put_addr(conn + n, remote_ip);
	memcpy(conn + n, &remote_port, 2);
	return net_isn(conn, n + 2);
}
