/*
 * http.h — parsing HTTP/1.1 requests (RFC 9112) for images/httpd.
 *
 * Everything here parses bytes from the network, so it is written to be
 * fuzzed: portable C with no noos calls (it builds on the host for
 * tests/host/test_http.c and tests/fuzz/fuzz_http.c), no allocation, and
 * nothing copied: the request's strings point into the caller's buffer.
 *
 * A connection keeps the bytes it received in one buffer and calls
 * http_parse_request on them until a head is complete; then, if the request
 * has a body, http_body_skip consumes it (httpd serves GET and HEAD and
 * discards bodies), and the next request starts right after: pipelined
 * requests are taken one at a time, in order.
 */
#ifndef HTTPD_HTTP_H
#define HTTPD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A malformed request is answered with a status and the connection closed: the error is -status. */
#define HTTP_ERR_BAD_REQUEST     (-400)
#define HTTP_ERR_URI_TOO_LONG    (-414)
#define HTTP_ERR_HEADERS_TOO_BIG (-431)
#define HTTP_ERR_NOT_IMPLEMENTED (-501) /* a transfer coding other than chunked */
#define HTTP_ERR_VERSION         (-505) /* HTTP/0.x, HTTP/2.x ... on an HTTP/1.1 connection */

#define HTTP_MAX_HEADERS 64 /* header lines in one request; more is 431 */

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_OPTIONS,
	HTTP_PATCH,
	HTTP_TRACE,
	HTTP_CONNECT,
	HTTP_OTHER, /* a well-formed token no one here knows: 501 */
};

struct http_str {
	const char *p;
	size_t len;
};

struct http_request {
	enum http_method method;
	struct http_str method_name; /* as sent (methods are case-sensitive, RFC 9110 §9.1) */
	struct http_str target;      /* the request-target as sent */
	struct http_str path;        /* its path: origin-form up to '?', or absolute-form's path */
	struct http_str query;       /* after '?', without it; len 0 if none */
	struct http_str host;        /* the Host field, or absolute-form's authority */
	unsigned minor;              /* HTTP/1.minor */
	unsigned headers;            /* header lines */
	bool keep_alive;             /* the connection stays open after the response (§9.3) */
	bool chunked;                /* the body is chunked (Transfer-Encoding: chunked) */
	bool expect_continue;        /* Expect: 100-continue */
	uint64_t content_length;     /* body bytes when not chunked */
};

/*
 * Parse the request head at the start of buf[0..len): the request line, the
 * header fields and the empty line after them (empty lines before the
 * request line are skipped, §2.2; a bare LF ends a line as CRLF does).
 * Returns the head's length in bytes (the body, if any, starts there), 0 if
 * the head is not complete yet, or an HTTP_ERR_*: a head not complete within
 * max bytes is 414 (still in the request line) or 431.
 */
long http_parse_request(const char *buf, size_t len, size_t max, struct http_request *req);

/* The body of one request, consumed and discarded: Content-Length bytes or chunked (§7.1). */
struct http_body {
	uint64_t left;    /* Content-Length bytes, or the current chunk's */
	uint32_t line;    /* bytes in the current chunk-size or trailer line */
	uint32_t trailer; /* trailer bytes so far */
	uint8_t state;
};

void http_body_start(struct http_body *b, const struct http_request *req);
/*
 * Consume body bytes from buf[0..len). Returns how many belong to the body
 * (the next request starts after them), and sets *done once the body has
 * ended; or HTTP_ERR_BAD_REQUEST for a malformed chunked body.
 */
long http_body_skip(struct http_body *b, const char *buf, size_t len, bool *done);

/* "Bad Request" for 400 ...; "" for a status this server never sends. */
const char *http_reason(int status);

#endif
