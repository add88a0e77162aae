/*
 * noos_getaddrinfo / noos_freeaddrinfo (getaddrinfo(3) with negative errno
 * values instead of EAI_ codes, see noos.h): numeric hosts and "localhost"
 * without DNS, other names through lwIP's resolver (resolve.c), A and AAAA.
 * Each result is one allocation holding the addrinfo, its sockaddr and its
 * canonical name, chained through ai_next.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/dns.h"

#include "sock.h"

#define GAI_FLAGS (NOOS_AI_PASSIVE | NOOS_AI_CANONNAME | NOOS_AI_NUMERICHOST | NOOS_AI_NUMERICSERV)
#define MAX_ADDRS 4

struct gai_node {
	struct noos_addrinfo ai; /* first: what the caller frees */
	struct noos_sockaddr_in6 sa;
	char name[];
};

struct query {
	int flags, family, socktype, protocol;
	uint16_t port;
	ip_addr_t addrs[MAX_ADDRS];
	int count;
};

static int parse_service(const char *service, uint16_t *port)
{
	*port = 0;
	if (!service)
		return 0;
	char *end;
	unsigned long v = strtoul(service, &end, 10);
	if (!*service || *end || v > 65535 || *service == '-' || *service == '+')
		return -EINVAL; /* no services database: numbers only */
	*port = (uint16_t)v;
	return 0;
}

static int parse_hints(const struct noos_addrinfo *h, struct query *q)
{
	*q = (struct query){0};
	if (!h)
		return 0;
	q->flags = h->ai_flags;
	q->family = h->ai_family;
	q->socktype = h->ai_socktype;
	q->protocol = h->ai_protocol;
	if (q->flags & ~GAI_FLAGS)
		return -EINVAL;
	if (q->family != NOOS_AF_UNSPEC && q->family != NOOS_AF_INET && q->family != NOOS_AF_INET6)
		return -EAFNOSUPPORT;
	if (q->socktype != 0 && q->socktype != NOOS_SOCK_STREAM && q->socktype != NOOS_SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	int want = q->socktype == NOOS_SOCK_DGRAM ? NOOS_IPPROTO_UDP : NOOS_IPPROTO_TCP;
	if (q->protocol && q->socktype && q->protocol != want)
		return -ESOCKTNOSUPPORT;
	return 0;
}

static bool family_ok(const struct query *q, const ip_addr_t *ip)
{
	return q->family == NOOS_AF_UNSPEC || (q->family == NOOS_AF_INET) == IP_IS_V4(ip);
}

static void add(struct query *q, const ip_addr_t *ip)
{
	if (q->count < MAX_ADDRS && family_ok(q, ip)) {
		ip_addr_copy(q->addrs[q->count],
		             *ip); /* a macro: no side effects in its arguments */
		q->count++;
	}
}

/* No node: the any addresses (AI_PASSIVE) or loopback; "localhost": loopback. */
static void local_addrs(struct query *q, bool any)
{
	ip_addr_t v4, v6;
	if (any) {
		ip_addr_copy(v4, *IP4_ADDR_ANY);
		ip_addr_copy(v6, *IP6_ADDR_ANY);
	} else {
		ip_addr_set_loopback(0, &v4);
		ip_addr_set_loopback(1, &v6);
	}
	add(q, &v4);
	add(q, &v6);
}

static int dns_addrs(struct query *q, const char *node)
{
	int err4 = -ENOENT, err6 = -ENOENT;
	ip_addr_t ip;
	if (q->family != NOOS_AF_INET6 &&
	    (err4 = resolve_dns(node, LWIP_DNS_ADDRTYPE_IPV4, &ip)) == 0)
		add(q, &ip);
	if (q->family != NOOS_AF_INET &&
	    (err6 = resolve_dns(node, LWIP_DNS_ADDRTYPE_IPV6, &ip)) == 0)
		add(q, &ip);
	if (q->count)
		return 0;
	/* Both failed: the more telling reason (no server, no memory) over "no such name". */
	return err4 != -ENOENT && q->family != NOOS_AF_INET6 ? err4 : err6;
}

static int find_addrs(struct query *q, const char *node)
{
	ip_addr_t ip;
	if (!node || strcmp(node, "localhost") == 0) {
		local_addrs(q, !node && (q->flags & NOOS_AI_PASSIVE));
	} else if (resolve_numeric(node, &ip)) {
		add(q, &ip);
	} else {
		if ((q->flags & NOOS_AI_NUMERICHOST) || strchr(node, ':'))
			return -ENOENT; /* not numeric, and no host name has a colon */
		int err = dns_addrs(q, node);
		if (err)
			return err;
	}
	return q->count ? 0 : -ENOENT;
}

static struct noos_addrinfo *node_new(const struct query *q, const ip_addr_t *ip, int socktype,
                                      const char *canon)
{
	size_t nlen = canon ? strlen(canon) + 1 : 0;
	struct gai_node *n = calloc(1, sizeof(*n) + nlen);
	if (!n)
		return NULL;
	struct sock tmp = {.family = IP_IS_V4(ip) ? NOOS_AF_INET : NOOS_AF_INET6};
	noos_socklen_t len = sizeof(n->sa);
	sock_addr_out(&tmp, ip, q->port, (struct noos_sockaddr *)&n->sa, &len);
	n->ai.ai_family = tmp.family;
	n->ai.ai_socktype = socktype;
	n->ai.ai_protocol = socktype == NOOS_SOCK_STREAM ? NOOS_IPPROTO_TCP : NOOS_IPPROTO_UDP;
	n->ai.ai_addrlen = len;
	n->ai.ai_addr = (struct noos_sockaddr *)&n->sa;
	if (canon) {
		memcpy(n->name, canon, nlen);
		n->ai.ai_canonname = n->name;
	}
	return &n->ai;
}

static int build(const struct query *q, const char *canon, struct noos_addrinfo **res)
{
	static const int both[] = {NOOS_SOCK_STREAM, NOOS_SOCK_DGRAM};
	struct noos_addrinfo *head = NULL, **tail = &head;
	for (int i = 0; i < q->count; i++) {
		for (int t = 0; t < 2; t++) {
			if (q->socktype && q->socktype != both[t])
				continue;
			struct noos_addrinfo *ai =
			    node_new(q, &q->addrs[i], both[t], head ? NULL : canon);
			if (!ai) {
				noos_freeaddrinfo(head);
				return -ENOMEM;
			}
			*tail = ai;
			tail = &ai->ai_next;
		}
	}
	*res = head;
	return 0;
}

int noos_getaddrinfo(const char *node, const char *service, const struct noos_addrinfo *hints,
                     struct noos_addrinfo **res)
{
	struct query q;
	if (!res || (!node && !service))
		return -EINVAL;
	int err = parse_hints(hints, &q);
	if (!err)
		err = parse_service(service, &q.port);
	if (err)
		return err;
	noos_net_start(); /* the resolver is lwIP's */
	err = find_addrs(&q, node);
	if (err)
		return err;
	return build(&q, (q.flags & NOOS_AI_CANONNAME) && node ? node : NULL, res);
}

void noos_freeaddrinfo(struct noos_addrinfo *res)
{
	while (res) {
		struct noos_addrinfo *next = res->ai_next;
		free(res); /* the gai_node starts with it */
		res = next;
	}
}
