/*
 * libFuzzer target for images/httpd/http.c: arbitrary bytes as what a client
 * sends on one connection, taken as httpd takes them — a head, its body,
 * the next head — under a head limit chosen by the first byte.
 *
 * Beyond memory safety (AddressSanitizer) it checks that the parser is
 * incremental, which is what makes pipelining and partial reads safe: a
 * complete head is found at the same length however much follows it, no
 * shorter prefix of it is complete or an error, a prefix of an erroneous
 * head is incomplete or the same error, every string in the request lies
 * inside the head, and a body consumed all at once and in pieces ends at
 * the same byte with the same result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

static void check_inside(struct http_str s, const char *buf, size_t head)
{
	if (s.len && (s.p < buf || s.p + s.len > buf + head) && !(s.len == 1 && s.p[0] == '/'))
		abort();
}

static void check_request(const struct http_request *r, const char *buf, size_t head)
{
	check_inside(r->method_name, buf, head);
	check_inside(r->target, buf, head);
	check_inside(r->path, buf, head);
	check_inside(r->query, buf, head);
	check_inside(r->host, buf, head);
	if (!r->path.len && r->method != HTTP_CONNECT)
		abort();
	if (r->chunked && r->content_length)
		abort();
	if (r->headers > HTTP_MAX_HEADERS || r->method > HTTP_OTHER)
		abort();
}

/* A prefix of a head that parsed to want (> 0 or an error) is incomplete, or the same error. */
static void check_prefix(const char *buf, size_t k, size_t max, long want)
{
	struct http_request r;
	long got = http_parse_request(buf, k, max, &r);
	if (got != 0 && !(want < 0 && got == want))
		abort();
}

/* The body at buf: once whole, once in pieces of sizes from the data; both must agree. */
static long skip_body(const struct http_request *r, const char *buf, size_t len, bool *done)
{
	struct http_body whole, parts;
	http_body_start(&whole, r);
	http_body_start(&parts, r);
	long n = http_body_skip(&whole, buf, len, done);
	size_t at = 0;
	bool pdone = false;
	long pn;
	do { /* at least once: an empty body is done at once */
		size_t piece = at < len ? 1 + (unsigned char)buf[at] % 7 : 0;
		piece = piece < len - at ? piece : len - at;
		pn = http_body_skip(&parts, buf + at, piece, &pdone);
		if (pn < 0)
			break;
		at += (size_t)pn;
		if ((size_t)pn < piece && !pdone)
			abort(); /* stopped early without finishing or failing */
	} while (at < len && !pdone);
	if (n < 0 ? pn != n : ((long)at != n || pdone != *done))
		abort();
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t max = 16 + (size_t)data[0] * 32; /* 16 .. 8176 bytes of head */
	/* A copy of exactly the input's size: reads past it are AddressSanitizer's to catch. */
	char *buf = malloc(size - 1 ? size - 1 : 1);
	memcpy(buf, data + 1, size - 1);
	size_t len = size - 1, at = 0;
	for (int requests = 0; at < len && requests < 64; requests++) {
		const char *p = buf + at;
		size_t left = len - at;
		struct http_request r;
		long head = http_parse_request(p, left, max, &r);
		if (head == 0)
			break;
		if (head < 0) {
			if (head != HTTP_ERR_BAD_REQUEST && head != HTTP_ERR_URI_TOO_LONG &&
			    head != HTTP_ERR_HEADERS_TOO_BIG && head != HTTP_ERR_NOT_IMPLEMENTED &&
			    head != HTTP_ERR_VERSION)
				abort();
			if (left < max)
				check_prefix(p, left / 2, max, head);
			break;
		}
		if ((size_t)head > left || (size_t)head > max)
			abort();
		check_request(&r, p, (size_t)head);
		struct http_request again;
		if (http_parse_request(p, (size_t)head, max, &again) != head)
			abort();
		check_prefix(p, (size_t)head - 1, max, head);
		check_prefix(p, (size_t)head / 2, max, head);
		at += (size_t)head;
		bool done;
		long body = skip_body(&r, buf + at, len - at, &done);
		if (body < 0 || !done)
			break;
		at += (size_t)body;
	}
	free(buf);
	return 0;
}
