/*
 * /stats: live counters as one JSON object — the server's own (summed over
 * the workers, and requests per worker to show how the vCPUs share the
 * load), noos's memory (noos_mem_stats), its sockets (noos_socket_stats)
 * and its network: frames and drops of the drivers and of each lwIP layer,
 * and what lwIP holds now (noos_net_stats). A soak test reads it before
 * and after load: connections, heap objects, pbufs and pool elements in
 * use must come back to where they were.
 *
 * Each worker writes only its own counters; reading another's while it
 * runs gives a value it had a moment ago, which is what a counter page
 * shows anyway.
 */
#include <stdarg.h>
#include <stdio.h>

#include "httpd.h"

struct json {
	char *buf;
	size_t size, len;
};

static void put(struct json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct json *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	size_t room = j->len < j->size ? j->size - j->len : 0;
	int n = vsnprintf(j->buf + (j->size - room), room, fmt, ap);
	va_end(ap);
	j->len += n > 0 ? (size_t)n : 0;
}

static uint64_t get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static void server_part(struct json *j)
{
	struct worker_stats sum = {0};
	put(j, "\"uptime_ms\":%llu,\"cpus\":%u,\"workers\":%u,\"requests_per_worker\":[",
	    (unsigned long long)((noos_time_ns() - server.start_ns) / 1000000), noos_cpu_count(),
	    server.nworkers);
	for (unsigned i = 0; i < server.nworkers; i++) {
		const struct worker_stats *s = &server.workers[i].st;
		sum.accepted += get(&s->accepted);
		sum.closed += get(&s->closed);
		sum.requests += get(&s->requests);
		sum.errors += get(&s->errors);
		sum.timeouts += get(&s->timeouts);
		sum.resets += get(&s->resets);
		sum.accept_failures += get(&s->accept_failures);
		put(j, "%s%llu", i ? "," : "", (unsigned long long)get(&s->requests));
	}
	put(j,
	    "],\"connections\":{\"open\":%llu,\"total\":%llu,\"timed_out\":%llu,\"reset\":%llu,"
	    "\"accept_failures\":%llu},\"requests\":{\"total\":%llu,\"bad\":%llu},",
	    (unsigned long long)(sum.accepted - sum.closed), (unsigned long long)sum.accepted,
	    (unsigned long long)sum.timeouts, (unsigned long long)sum.resets,
	    (unsigned long long)sum.accept_failures, (unsigned long long)sum.requests,
	    (unsigned long long)sum.errors);
}

static void memory_part(struct json *j)
{
	struct noos_mem_stats m;
	if (noos_mem_stats(&m) < 0)
		return;
	put(j,
	    "\"memory\":{\"ram_bytes\":%llu,\"free_bytes\":%llu,\"heap_bytes\":%llu,"
	    "\"heap_objects\":%llu,\"heap_pages\":%llu,\"failed_allocs\":%llu},",
	    (unsigned long long)m.ram_bytes, (unsigned long long)(m.free_pages * NOOS_PAGE_SIZE),
	    (unsigned long long)m.heap_bytes, (unsigned long long)m.heap_objects,
	    (unsigned long long)m.heap_pages, (unsigned long long)m.failed_allocs);
}

static void sockets_part(struct json *j)
{
	struct noos_socket_stats s;
	if (noos_socket_stats(&s) < 0)
		return;
	put(j,
	    "\"sockets\":{\"open\":%llu,\"tcp_open\":%llu,\"event_queues\":%llu,"
	    "\"tcp_accepted\":%llu,\"tcp_reset\":%llu,\"udp_dropped\":%llu},",
	    (unsigned long long)s.sockets, (unsigned long long)s.tcp_open,
	    (unsigned long long)s.queues, (unsigned long long)s.tcp_accepted,
	    (unsigned long long)s.tcp_reset, (unsigned long long)s.udp_dropped);
}

static void network_part(struct json *j)
{
	struct noos_net_stats n;
	if (noos_net_stats(&n) < 0)
		return;
	put(j,
	    "\"network\":{\"rx_frames\":%llu,\"rx_bytes\":%llu,\"tx_frames\":%llu,"
	    "\"tx_bytes\":%llu,\"drops\":{\"rx_driver\":%llu,\"tx_driver\":%llu,\"link\":%llu,"
	    "\"ip\":%llu,\"ip6\":%llu,\"icmp\":%llu,\"udp\":%llu,\"tcp\":%llu},",
	    (unsigned long long)n.rx_frames, (unsigned long long)n.rx_bytes,
	    (unsigned long long)n.tx_frames, (unsigned long long)n.tx_bytes,
	    (unsigned long long)n.rx_dropped, (unsigned long long)n.tx_dropped,
	    (unsigned long long)n.link_drops, (unsigned long long)n.ip_drops,
	    (unsigned long long)n.ip6_drops, (unsigned long long)n.icmp_drops,
	    (unsigned long long)n.udp_drops, (unsigned long long)n.tcp_drops);
	put(j,
	    "\"lwip\":{\"pbufs\":%llu,\"memp_used\":%llu,\"mem_used\":%llu,\"mem_errors\":%llu}}",
	    (unsigned long long)n.pbufs, (unsigned long long)n.memp_used,
	    (unsigned long long)n.mem_used, (unsigned long long)n.mem_errors);
}

size_t stats_json(char *buf, size_t size)
{
	struct json j = {buf, size - 1, 0}; /* room for the final newline */
	put(&j, "{");
	server_part(&j);
	memory_part(&j);
	sockets_part(&j);
	network_part(&j);
	put(&j, "}\n");
	if (j.len >= j.size) /* cut short: still say something a parser takes */
		return (size_t)snprintf(buf, size, "{\"error\":\"stats too long for %zu bytes\"}\n",
		                        size);
	return j.len;
}
