/*
 * Host unit test of images/httpd/http.c, the HTTP/1.1 request parser: heads
 * (RFC 9112 §2-§5), persistence (§9.3), framing and smuggling defences
 * (§6), chunked bodies (§7.1), and the limits. Each malformed case is a
 * request a real client or an attacker sends.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "http.h"

#define MAX 8192

static long parse(const char *s, struct http_request *req)
{
	return http_parse_request(s, strlen(s), MAX, req);
}

static int str_is(struct http_str s, const char *want)
{
	return s.len == strlen(want) && !memcmp(s.p, want, s.len);
}

static void test_simple(void)
{
	const char *s = "GET /index.html?x=1 HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n";
	struct http_request r;
	CHECK(parse(s, &r) == (long)strlen(s));
	CHECK(r.method == HTTP_GET && str_is(r.method_name, "GET"));
	CHECK(str_is(r.target, "/index.html?x=1"));
	CHECK(str_is(r.path, "/index.html") && str_is(r.query, "x=1"));
	CHECK(str_is(r.host, "example"));
	CHECK(r.minor == 1 && r.keep_alive && !r.chunked && r.content_length == 0);
	CHECK(r.headers == 2);
	/* Every shorter prefix is incomplete, not an error. */
	for (size_t n = 0; n < strlen(s); n++)
		CHECK_MSG(http_parse_request(s, n, MAX, &r) == 0, "prefix %zu", n);
}

static void test_pipelined(void)
{
	const char *s = "GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n"
			"Connection: close\r\n\r\nGET /c";
	struct http_request r;
	long n1 = parse(s, &r);
	CHECK(n1 > 0 && str_is(r.path, "/a") && r.method == HTTP_GET && r.keep_alive);
	long n2 = parse(s + n1, &r);
	CHECK(n2 > 0 && str_is(r.path, "/b") && r.method == HTTP_HEAD && !r.keep_alive);
	CHECK(parse(s + n1 + n2, &r) == 0);
}

static void test_persistence(void)
{
	struct http_request r;
	CHECK(parse("GET / HTTP/1.0\r\n\r\n", &r) > 0 && !r.keep_alive && r.minor == 0);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r) > 0 && r.keep_alive);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, CLOSE\r\n\r\n", &r) > 0 &&
	      !r.keep_alive);
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: ,,keep-alive,\r\n\r\n", &r) > 0 &&
	      r.keep_alive);
	/* HTTP/1.2 and later minors are 1.1 for us (§2.5). */
	CHECK(parse("GET / HTTP/1.9\r\nHost: h\r\n\r\n", &r) > 0 && r.minor == 9 && r.keep_alive);
}

static void test_line_endings(void)
{
	struct http_request r;
	const char *lf = "GET /x HTTP/1.1\nHost: h\n\n";
	CHECK(parse(lf, &r) == (long)strlen(lf) && str_is(r.path, "/x"));
	const char *lead = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";
	CHECK(parse(lead, &r) == (long)strlen(lead));
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", &r) == HTTP_ERR_BAD_REQUEST);
	CHECK(parse("GET / HTTP/1.1\r\r\nHost: h\r\n\r\n", &r) == HTTP_ERR_BAD_REQUEST);
}

static void test_request_line(void)
{
	struct http_request r;
	CHECK(parse("GET / HTTP/2.0\r\n\r\n", &r) == HTTP_ERR_VERSION);
	CHECK(parse("GET / HTTP/0.9\r\n\r\n", &r) == HTTP_ERR_VERSION);
	const char *bad[] = {
	    "GET / http/1.1\r\nHost: h\r\n\r\n",   "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
	    "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",  "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET / HTTP/11\r\nHost: h\r\n\r\n",    " GET / HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n",  "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET /#f HTTP/1.1\r\nHost: h\r\n\r\n", "GET * HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET x HTTP/1.1\r\nHost: h\r\n\r\n",   "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n",
	    "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(parse(bad[i], &r) == HTTP_ERR_BAD_REQUEST, "%s", bad[i]);
	/* Methods are case-sensitive tokens: "get" is some other method. */
	CHECK(parse("get / HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0 && r.method == HTTP_OTHER);
	CHECK(parse("BREW / HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0 && r.method == HTTP_OTHER);
	CHECK(parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0 && str_is(r.path, "*"));
	CHECK(parse("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", &r) > 0 &&
	      r.method == HTTP_CONNECT && str_is(r.host, "h:443"));
}

static void test_absolute_form(void)
{
	struct http_request r;
	CHECK(parse("GET HTTP://Example.com:80/p/q?z HTTP/1.1\r\nHost: other\r\n\r\n", &r) > 0);
	CHECK(str_is(r.host, "Example.com:80") && str_is(r.path, "/p/q") && str_is(r.query, "z"));
	CHECK(parse("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0 && str_is(r.path, "/"));
	CHECK(parse("GET http://h?q HTTP/1.1\r\nHost: h\r\n\r\n", &r) > 0 && str_is(r.path, "/") &&
	      str_is(r.query, "q"));
}

static void test_fields(void)
{
	struct http_request r;
	const char *bad[] = {
	    "GET / HTTP/1.1\r\n\r\n",                               /* no Host in 1.1 */
	    "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",         /* two */
	    "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",                  /* invalid host */
	    "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n  folded\r\n\r\n", /* obs-fold */
	    "GET / HTTP/1.1\r\nHost : h\r\n\r\n",                   /* space before colon */
	    "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\n: empty name\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n",       /* control character */
	    "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fz\r\n\r\n",       /* DEL */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(parse(bad[i], &r) == HTTP_ERR_BAD_REQUEST, "case %zu", i);
	/* A NUL inside a value (strlen would stop at it: give the length). */
	const char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
	CHECK(http_parse_request(nul, sizeof(nul) - 1, MAX, &r) == HTTP_ERR_BAD_REQUEST);
	/* Values keep inner whitespace, lose OWS around them; obs-text is allowed. */
	CHECK(parse("GET / HTTP/1.1\r\nHost:\th \t\r\nX: \xe2\x82\xac ok\r\n\r\n", &r) > 0 &&
	      str_is(r.host, "h"));
	CHECK(parse("GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n", &r) > 0 &&
	      r.expect_continue);
	CHECK(parse("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", &r) > 0 && !r.expect_continue);
	CHECK(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n", &r) > 0); /* empty Host is allowed */
}

static void test_content_length(void)
{
	struct http_request r;
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 42\r\n\r\n", &r) > 0 &&
	      r.content_length == 42 && r.method == HTTP_POST);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7, 7\r\n\r\n", &r) > 0 &&
	      r.content_length == 7);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\ncontent-length: 3\r\nContent-Length: 3\r\n\r\n",
		    &r) > 0 &&
	      r.content_length == 3);
	const char *bad[] = {
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 7, 8\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(parse(bad[i], &r) == HTTP_ERR_BAD_REQUEST, "case %zu", i);
}

static void test_transfer_encoding(void)
{
	struct http_request r;
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n", &r) > 0 &&
	      r.chunked);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &r) ==
	      HTTP_ERR_NOT_IMPLEMENTED);
	CHECK(parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n",
		    &r) == HTTP_ERR_NOT_IMPLEMENTED);
	const char *bad[] = {
	    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n",
	    "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long got = parse(bad[i], &r);
		/* xchunked is an unknown coding last: not chunked-final, so 400 */
		CHECK_MSG(got == HTTP_ERR_BAD_REQUEST, "case %zu: %ld", i, got);
	}
}

static void test_limits(void)
{
	struct http_request r;
	char buf[MAX * 2];
	/* A request line longer than max: 414; headers beyond it: 431. */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "GET /", 5);
	CHECK(http_parse_request(buf, sizeof(buf), MAX, &r) == HTTP_ERR_URI_TOO_LONG);
	CHECK(http_parse_request(buf, MAX - 1, MAX, &r) == 0);
	int n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(buf + n, 'v', sizeof(buf) - (size_t)n);
	CHECK(http_parse_request(buf, sizeof(buf), MAX, &r) == HTTP_ERR_HEADERS_TOO_BIG);
	/* A head of exactly max bytes fits. */
	n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(buf + n, 'v', MAX - (size_t)n - 4);
	memcpy(buf + MAX - 4, "\r\n\r\n", 4);
	CHECK(http_parse_request(buf, MAX, MAX, &r) == MAX);
	CHECK(http_parse_request(buf, MAX + 10, MAX, &r) == MAX);
	/* Header lines: HTTP_MAX_HEADERS fit, one more is 431. */
	for (int extra = 0; extra <= 1; extra++) {
		size_t len = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: h\r\n");
		for (int i = 1; i < HTTP_MAX_HEADERS + extra; i++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "X%d: y\r\n", i);
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "\r\n");
		long got = http_parse_request(buf, len, MAX, &r);
		CHECK_MSG(extra ? got == HTTP_ERR_HEADERS_TOO_BIG : got == (long)len, "%ld", got);
	}
}

/* Skip a body fed all at once and byte by byte: both must agree. */
static long skip(const char *head, const char *body, size_t body_len, int *consistent)
{
	struct http_request r;
	struct http_body b1, b2;
	bool done1 = false, done2 = false;
	if (parse(head, &r) <= 0)
		return -1000;
	http_body_start(&b1, &r);
	http_body_start(&b2, &r);
	long n1 = http_body_skip(&b1, body, body_len, &done1);
	long n2 = 0;
	for (size_t i = 0; i < body_len && !done2; i++) {
		long k = http_body_skip(&b2, body + i, 1, &done2);
		if (k < 0) {
			n2 = k;
			break;
		}
		n2 += k;
	}
	*consistent = n1 == n2 && (n1 < 0 || done1 == done2);
	return done1 || n1 < 0 ? n1 : -1; /* -1: not finished */
}

static void test_bodies(void)
{
	const char *ch = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
	const char *cl = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
	int ok;
	CHECK(skip(cl, "helloGET", 8, &ok) == 5 && ok);
	CHECK(skip(cl, "hel", 3, &ok) == -1 && ok);
	const char *good[] = {
	    "5\r\nhello\r\n0\r\n\r\n",
	    "5;name=value\r\nhello\r\n1A ; x\r\n01234567890123456789012345\r\n0\r\n\r\n",
	    "000\r\n\r\n",
	    "3\r\nabc\r\n0\r\nTrailer: x\r\nOther: y\r\n\r\n",
	    "3\nabc\n0\n\n",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char buf[256];
		int n = snprintf(buf, sizeof(buf), "%sGET / HTTP/1.1", good[i]);
		long got = skip(ch, buf, (size_t)n, &ok);
		CHECK_MSG(got == (long)strlen(good[i]) && ok, "good %zu: %ld", i, got);
	}
	const char *bad[] = {
	    "g\r\n",        "\r\n",          "5\r\nhelloX\r\n",   "1 2\r\nab\r\n",
	    "5\rX",         "ffffffffffffffffff\r\n", "0\r\nBad\x01\r\n\r\n", "-1\r\n",
	    "3\r\nabc\r\r", "0\r\n\rX",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long got = skip(ch, bad[i], strlen(bad[i]), &ok);
		CHECK_MSG(got == HTTP_ERR_BAD_REQUEST && ok, "bad %zu: %ld", i, got);
	}
	/* No body at all: done at once, nothing consumed. */
	CHECK(skip("GET / HTTP/1.1\r\nHost: h\r\n\r\n", "GET", 3, &ok) == 0 && ok);
	/* An over-long chunk-size line (extensions without end) is refused. */
	static char longext[5000];
	memset(longext, 'x', sizeof(longext));
	memcpy(longext, "1;", 2);
	CHECK(skip(ch, longext, sizeof(longext), &ok) == HTTP_ERR_BAD_REQUEST && ok);
}

int main(void)
{
	test_simple();
	test_pipelined();
	test_persistence();
	test_line_endings();
	test_request_line();
	test_absolute_form();
	test_fields();
	test_content_length();
	test_transfer_encoding();
	test_limits();
	test_bodies();
	CHECK(!strcmp(http_reason(404), "Not Found") && !strcmp(http_reason(999), ""));
	return check_report("http");
}
