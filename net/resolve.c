/*
 * Names and addresses: noos_inet_pton / noos_inet_ntop (strict, as glibc's:
 * dotted-decimal IPv4 without leading zeros, RFC 4291 §2.2 IPv6 text in,
 * RFC 5952 §4 text out) and noos_getaddrinfo on lwIP's DNS resolver
 * (src/core/dns.c: one A or AAAA query per call of
 * dns_gethostbyname_addrtype, answered through a callback in the tcpip
 * thread; the caller sleeps on a futex until it comes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/dns.h"
#include "lwip/netif.h"

#include "sock.h"

/* ---- text <-> address ---- */

/* Exactly "d.d.d.d" up to end (or NUL when end is NULL), each 0..255 without leading zeros. */
static bool parse_ipv4(const char *s, uint8_t out[4])
{
	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;
		for (; *s >= '0' && *s <= '9'; s++, digits++) {
			if (digits == 1 && v == 0)
				return false; /* a leading zero */
			v = v * 10 + (unsigned)(*s - '0');
			if (v > 255)
				return false;
		}
		if (!digits || *s != (part == 3 ? '\0' : '.'))
			return false;
		out[part] = (uint8_t)v;
		s++;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One group of 1..4 hex digits at *p, or the dotted IPv4 tail (two groups). */
static int parse_group(const char **p, uint16_t *w, int n)
{
	const char *q = *p;
	unsigned v = 0, digits = 0;
	for (; hexval(*q) >= 0 && digits < 5; q++, digits++)
		v = v * 16 + (unsigned)hexval(*q);
	if (*q == '.') {
		uint8_t b[4];
		if (n > 6 || !parse_ipv4(*p, b))
			return -1;
		w[n] = (uint16_t)(b[0] << 8 | b[1]);
		w[n + 1] = (uint16_t)(b[2] << 8 | b[3]);
		*p += strlen(*p);
		return 2;
	}
	if (!digits || digits > 4 || n >= 8)
		return -1;
	w[n] = (uint16_t)v;
	*p = q;
	return 1;
}

static bool parse_ipv6(const char *p, uint8_t out[16])
{
	uint16_t w[8];
	int n = 0, gap = -1;
	if (p[0] == ':') {
		if (p[1] != ':')
			return false;
		gap = 0;
		p += 2;
	}
	while (*p) {
		int k = parse_group(&p, w, n);
		if (k < 0)
			return false;
		n += k;
		if (!*p)
			break;
		if (*p++ != ':' || !*p)
			return false; /* a stray character, or a trailing single colon */
		if (*p == ':') {
			if (gap >= 0)
				return false;
			gap = n;
			p++;
		}
	}
	if (gap < 0 ? n != 8 : n > 7)
		return false;
	int zeros = 8 - n;
	memset(out, 0, 16);
	for (int i = 0, j = 0; i < n; i++, j++) {
		if (i == gap)
			j += zeros;
		out[2 * j] = (uint8_t)(w[i] >> 8);
		out[2 * j + 1] = (uint8_t)w[i];
	}
	return true;
}

int noos_inet_pton(int af, const char *src, void *dst)
{
	if (af != NOOS_AF_INET && af != NOOS_AF_INET6)
		return -EAFNOSUPPORT;
	if (!src || !dst)
		return 0;
	return af == NOOS_AF_INET ? parse_ipv4(src, dst) : parse_ipv6(src, dst);
}

/* The longest run of two or more zero groups (the first of equals), RFC 5952 §4.2. */
static void zero_run(const uint16_t *w, int *base, int *len)
{
	*base = -1;
	*len = 0;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && w[j] == 0)
			j++;
		if (j - i > *len && j - i >= 2) {
			*base = i;
			*len = j - i;
		}
		i = j > i ? j : i + 1;
	}
}

static int format_ipv6(const uint8_t *b, char *out, size_t size)
{
	uint16_t w[8];
	for (int i = 0; i < 8; i++)
		w[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
	int base, len, n = 0;
	zero_run(w, &base, &len);
	char buf[NOOS_INET6_ADDRSTRLEN];
	for (int i = 0; i < 8; i++) {
		if (i == base) {
			n += snprintf(buf + n, sizeof(buf) - n, i == 0 ? "::" : ":");
			i += len - 1;
			continue;
		}
		/* IPv4-mapped and IPv4-compatible addresses end in dotted decimal, as glibc's. */
		if (i == 6 && base == 0 && (len == 6 || (len == 5 && w[5] == 0xffff))) {
			n += snprintf(buf + n, sizeof(buf) - n, "%u.%u.%u.%u", b[12], b[13], b[14],
			              b[15]);
			break;
		}
		n += snprintf(buf + n, sizeof(buf) - n, "%x%s", w[i], i < 7 ? ":" : "");
	}
	if ((size_t)n >= size)
		return -ENOSPC;
	memcpy(out, buf, (size_t)n + 1);
	return n;
}

int noos_inet_ntop(int af, const void *src, char *dst, noos_socklen_t size)
{
	if (af != NOOS_AF_INET && af != NOOS_AF_INET6)
		return -EAFNOSUPPORT;
	if (!src || !dst)
		return -EINVAL;
	if (af == NOOS_AF_INET6)
		return format_ipv6(src, dst, size);
	const uint8_t *b = src;
	char buf[NOOS_INET_ADDRSTRLEN];
	int n = snprintf(buf, sizeof(buf), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	if ((size_t)n >= size)
		return -ENOSPC;
	memcpy(dst, buf, (size_t)n + 1);
	return n;
}

/* "%N" or "%en1" after a link-local address: the interface index (lwIP's zone). */
static bool parse_scope(const char *s, unsigned *zone)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*s && !*end && v <= 255) {
		*zone = (unsigned)v;
		return true;
	}
	net_lock();
	struct netif *nif = netif_find(s); /* "en1": lwIP's name and number */
	*zone = nif ? netif_get_index(nif) : 0;
	net_unlock();
	return nif != NULL;
}

bool resolve_numeric(const char *s, ip_addr_t *ip)
{
	uint8_t b[16];
	if (parse_ipv4(s, b)) {
		uint32_t a;
		memcpy(&a, b, 4);
		ip_addr_set_ip4_u32_val(*ip, a);
		return true;
	}
	char buf[NOOS_INET6_ADDRSTRLEN + 1 + NOOS_IF_NAMESIZE];
	if (strlen(s) >= sizeof(buf))
		return false;
	strlcpy(buf, s, sizeof(buf));
	char *pct = strchr(buf, '%');
	unsigned zone = 0;
	if (pct) {
		*pct = '\0';
		if (!parse_scope(pct + 1, &zone))
			return false;
	}
	if (!parse_ipv6(buf, b))
		return false;
	uint32_t w[4];
	memcpy(w, b, 16);
	IP_ADDR6(ip, w[0], w[1], w[2], w[3]);
	if (zone && ip6_addr_has_scope(ip_2_ip6(ip), IP6_UNKNOWN))
		ip6_addr_set_zone(ip_2_ip6(ip), (u8_t)zone);
	return true;
}

/* ---- DNS ---- */

struct lookup {
	uint32_t done; /* futex word: the callback ran */
	bool found;
	ip_addr_t ip;
};

/* tcpip thread, stack lock held: the answer, or NULL (no such name, or no server answered). */
static void on_found(const char *name, const ip_addr_t *ip, void *arg)
{
	(void)name;
	struct lookup *l = arg;
	if (ip) {
		ip_addr_copy(l->ip, *ip);
		l->found = true;
	}
	__atomic_store_n(&l->done, 1, __ATOMIC_RELEASE);
	noos_futex_wake(&l->done, 1);
}

/* One query (LWIP_DNS_ADDRTYPE_IPV4 or _IPV6): 0 and *ip, or a negative errno. */
int resolve_dns(const char *name, uint8_t type, ip_addr_t *ip)
{
	struct lookup l = {0};
	net_lock();
	err_t e = dns_gethostbyname_addrtype(name, &l.ip, on_found, &l, type);
	net_unlock();
	if (e == ERR_OK) { /* cached */
		ip_addr_copy(*ip, l.ip);
		return 0;
	}
	if (e == ERR_VAL)
		return -EAGAIN; /* no DNS server configured */
	if (e == ERR_ARG)
		return -EINVAL; /* empty or too long */
	if (e != ERR_INPROGRESS)
		return -ENOMEM; /* lwIP's table of queries is full */
	while (!__atomic_load_n(&l.done, __ATOMIC_ACQUIRE))
		noos_futex_wait(&l.done, 0,
		                NOOS_FOREVER); /* lwIP always calls back (answer or timeout) */
	if (!l.found)
		return -ENOENT;
	ip_addr_copy(*ip, l.ip);
	return 0;
}
