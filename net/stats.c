/*
 * noos_net_stats: the network's counters for applications (httpd's /stats)
 * and for leak checks after a soak — the virtio-net drivers' frame counts
 * and drops, what each lwIP layer dropped (lwip_stats, LWIP_STATS), and
 * what lwIP holds now from its pools and the heap.
 *
 * The counters are read without lwIP's core lock: each is a naturally
 * aligned word that only grows or moves by one at a time, so a reader sees
 * a value it had, maybe a moment old, which is what statistics need. (The
 * pools' "used" counts are written under SYS_ARCH_PROTECT.)
 */
#include <errno.h>
#include <string.h>

#include "lwip/memp.h"
#include "lwip/stats.h"

#include "noos.h"
#include "../virtio/virtio.h"

static void add_driver_counters(struct noos_net_stats *st)
{
	for (unsigned i = 0; i < vnet_count(); i++) {
		const struct vnet_stats *s = vnet_stats(vnet_at(i));
		st->rx_frames += s->rx_frames;
		st->rx_bytes += s->rx_bytes;
		st->rx_dropped += s->rx_truncated + s->rx_oversized + s->rx_bad_header;
		st->tx_frames += s->tx_frames;
		st->tx_bytes += s->tx_bytes;
		st->tx_dropped += s->tx_ring_full + s->tx_bad;
	}
}

/* lwIP's counters are u16_t, u32_t or size_t (mem_size_t) by configuration. */
static uint64_t load(const void *counter, size_t size)
{
	if (size == sizeof(uint16_t))
		return __atomic_load_n((const uint16_t *)counter, __ATOMIC_RELAXED);
	if (size == sizeof(uint32_t))
		return __atomic_load_n((const uint32_t *)counter, __ATOMIC_RELAXED);
	return __atomic_load_n((const uint64_t *)counter, __ATOMIC_RELAXED);
}
#define LOAD(field) load(&(field), sizeof(field))

static void add_lwip_counters(struct noos_net_stats *st)
{
	st->link_drops = LOAD(lwip_stats.link.drop);
	st->ip_drops = LOAD(lwip_stats.ip.drop);
	st->ip6_drops = LOAD(lwip_stats.ip6.drop);
	st->icmp_drops = LOAD(lwip_stats.icmp.drop) + LOAD(lwip_stats.icmp6.drop);
	st->udp_drops = LOAD(lwip_stats.udp.drop);
	st->tcp_drops = LOAD(lwip_stats.tcp.drop);
	st->mem_used = LOAD(lwip_stats.mem.used);
	st->mem_errors = LOAD(lwip_stats.mem.err);
	for (int i = 0; i < MEMP_MAX; i++) {
		const struct stats_mem *pool = lwip_stats.memp[i]; /* NULL before lwIP starts */
		if (!pool)
			continue;
		uint64_t used = LOAD(pool->used);
		st->memp_used += used;
		st->mem_errors += LOAD(pool->err);
		if (i == MEMP_PBUF || i == MEMP_PBUF_POOL)
			st->pbufs += used;
	}
}

int noos_net_stats(struct noos_net_stats *st)
{
	if (!st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	add_driver_counters(st);
	add_lwip_counters(st);
	return 0;
}
