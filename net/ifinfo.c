/*
 * Interface information (noos_if_count, noos_if_info): lwIP's netifs, the
 * loopback lo0 first and then en1, en2, ... in the order they were added
 * (lwIP's netif_list is newest first, so it is sorted by number here).
 * Read under the stack lock, so one call sees one consistent state of an
 * interface even while DHCP or SLAAC change it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lwip/dhcp.h"
#include "lwip/netif.h"

#include "sock.h"

#define MAX_IFS 16

_Static_assert(NOOS_IF_MAX_IPV6 >= LWIP_IPV6_NUM_ADDRESSES, "room for every lwIP IPv6 address");

/* Stack lock: the netifs in number order; how many. */
static unsigned collect(struct netif **out)
{
	unsigned n = 0;
	struct netif *nif;
	NETIF_FOREACH(nif)
	{
		if (n == MAX_IFS)
			break;
		unsigned i = n++;
		for (; i > 0 && out[i - 1]->num > nif->num; i--)
			out[i] = out[i - 1];
		out[i] = nif;
	}
	return n;
}

int noos_if_count(void)
{
	struct netif *all[MAX_IFS];
	noos_net_start();
	net_lock();
	unsigned n = collect(all);
	net_unlock();
	return (int)n;
}

static void fill_ipv6(struct netif *nif, struct noos_ifinfo *info)
{
	for (s8_t j = 0; j < LWIP_IPV6_NUM_ADDRESSES; j++) {
		u8_t st = netif_ip6_addr_state(nif, j);
		if (!ip6_addr_isvalid(st))
			continue;
		unsigned k = info->ipv6_count++;
		memcpy(info->ipv6[k].s6_u8, netif_ip6_addr(nif, j)->addr, 16);
		if (ip6_addr_ispreferred(st))
			info->ipv6_preferred |= (uint8_t)(1u << k);
	}
}

static void fill(struct netif *nif, struct noos_ifinfo *info)
{
	memset(info, 0, sizeof(*info));
	snprintf(info->name, sizeof(info->name), "%c%c%u", nif->name[0], nif->name[1], nif->num);
	info->index = netif_get_index(nif);
	info->mtu = nif->mtu;
	if (nif->hwaddr_len == sizeof(info->mac))
		memcpy(info->mac, nif->hwaddr, sizeof(info->mac));
	info->up = netif_is_up(nif);
	info->link_up = netif_is_link_up(nif);
	info->ipv4.s_addr = ip4_addr_get_u32(netif_ip4_addr(nif));
	info->netmask.s_addr = ip4_addr_get_u32(netif_ip4_netmask(nif));
	info->gateway.s_addr = ip4_addr_get_u32(netif_ip4_gw(nif));
	info->ipv4_dhcp = dhcp_supplied_address(nif);
	fill_ipv6(nif, info);
}

int noos_if_info(unsigned i, struct noos_ifinfo *info)
{
	if (!info)
		return -EINVAL;
	struct netif *all[MAX_IFS];
	noos_net_start();
	net_lock();
	unsigned n = collect(all);
	if (i < n)
		fill(all[i], info);
	net_unlock();
	return i < n ? 0 : -ENODEV;
}
