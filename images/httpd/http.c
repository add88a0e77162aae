/*
 * HTTP/1.1 request heads and bodies (RFC 9112 "HTTP/1.1", RFC 9110 "HTTP
 * Semantics"), parsed strictly: whatever could make this server and a proxy
 * in front of it disagree about where a request ends (request smuggling) is
 * refused with 400 rather than guessed at — obs-fold, whitespace before a
 * field's colon, a CR that does not end a line, conflicting Content-Length
 * values, Transfer-Encoding beside Content-Length or on HTTP/1.0, chunked
 * that is not the final coding. See http.h for the interface.
 */
#include <string.h>

#include "http.h"

#define MAX_CHUNK_LINE 4096                /* chunk-size line with extensions; longer is 400 */
#define MAX_TRAILER    8192                /* all trailer fields of one body */
#define MAX_LENGTH     (UINT64_C(1) << 60) /* Content-Length or chunk size; larger is 400 */

static const struct http_str root = {"/", 1};

/* ---- characters (RFC 9110 §5.6.2 tokens, §5.5 field values; RFC 3986 for hosts) ---- */

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_tchar(unsigned char c)
{
	return is_digit(c) || is_alpha(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool all_tchar(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((unsigned char)p[i]))
			return false;
	return true;
}

/* field-vchar / SP / HTAB: anything but controls (CR, LF, NUL ...) and DEL. */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* Host = uri-host [ ":" port ] (RFC 9110 §7.2): unreserved, sub-delims, '%', ':', '[', ']'. */
static bool is_host_char(unsigned char c)
{
	return is_digit(c) || is_alpha(c) || (c && strchr("-._~!$&'()*+,;=%:[]", c));
}

static int hex_value(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static bool str_eq_ci(struct http_str s, const char *lit)
{
	size_t n = strlen(lit);
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		if (c != (unsigned char)lit[i])
			return false;
	}
	return true;
}

static bool prefix_ci(struct http_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len >= n && str_eq_ci((struct http_str){s.p, n}, lit);
}

/* ---- lines ---- */

struct cursor {
	const char *p, *end;
};

/* The next whole line (without its CR LF or LF) into *line; false if its LF has not arrived. */
static bool next_line(struct cursor *c, struct http_str *line)
{
	const char *lf = memchr(c->p, '\n', (size_t)(c->end - c->p));
	if (!lf)
		return false;
	const char *stop = lf > c->p && lf[-1] == '\r' ? lf - 1 : lf;
	*line = (struct http_str){c->p, (size_t)(stop - c->p)};
	c->p = lf + 1;
	return true;
}

/* ---- comma-separated lists (§5.6.1): empty elements are ignored ---- */

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static struct http_str trim_ows(const char *p, const char *end)
{
	while (p < end && is_ows(*p))
		p++;
	while (end > p && is_ows(end[-1]))
		end--;
	return (struct http_str){p, (size_t)(end - p)};
}

static bool list_next(struct http_str *rest, struct http_str *item)
{
	while (rest->len) {
		const char *comma = memchr(rest->p, ',', rest->len);
		const char *end = comma ? comma : rest->p + rest->len;
		*item = trim_ows(rest->p, end);
		size_t used = (size_t)(end - rest->p) + (comma ? 1 : 0);
		rest->p += used;
		rest->len -= used;
		if (item->len)
			return true;
	}
	return false;
}

/* ---- the request line (§3) ---- */

static enum http_method method_of(struct http_str m)
{
	static const char *const names[] = {
	    [HTTP_GET] = "GET",     [HTTP_HEAD] = "HEAD",     [HTTP_POST] = "POST",
	    [HTTP_PUT] = "PUT",     [HTTP_DELETE] = "DELETE", [HTTP_OPTIONS] = "OPTIONS",
	    [HTTP_PATCH] = "PATCH", [HTTP_TRACE] = "TRACE",   [HTTP_CONNECT] = "CONNECT",
	};
	for (int i = 0; i < HTTP_OTHER; i++)
		if (strlen(names[i]) == m.len && !memcmp(names[i], m.p, m.len))
			return (enum http_method)i;
	return HTTP_OTHER;
}

/* path [ "?" query ] of origin-form (§3.2.1), or of absolute-form after the authority. */
static void split_path(const char *p, const char *end, struct http_request *req)
{
	const char *q = memchr(p, '?', (size_t)(end - p));
	req->path = (struct http_str){p, (size_t)((q ? q : end) - p)};
	if (q)
		req->query = (struct http_str){q + 1, (size_t)(end - q - 1)};
	if (!req->path.len)
		req->path = root;
}

/* absolute-form (§3.2.2): "http://authority/path?query"; the authority replaces Host. */
static long split_absolute(struct http_request *req)
{
	struct http_str t = req->target;
	size_t skip = prefix_ci(t, "http://") ? 7 : prefix_ci(t, "https://") ? 8 : 0;
	if (!skip)
		return HTTP_ERR_BAD_REQUEST;
	const char *p = t.p + skip, *end = t.p + t.len, *a = p;
	while (a < end && *a != '/' && *a != '?')
		a++;
	if (a == p || memchr(p, '@', (size_t)(a - p))) /* no host, or userinfo (§4.2.4) */
		return HTTP_ERR_BAD_REQUEST;
	req->host = (struct http_str){p, (size_t)(a - p)};
	split_path(a, end, req);
	return 0;
}

static long split_target(struct http_request *req)
{
	struct http_str t = req->target;
	for (size_t i = 0; i < t.len; i++) {
		unsigned char c = (unsigned char)t.p[i];
		if (c <= 0x20 || c >= 0x7f || c == '#') /* no fragment in a request-target */
			return HTTP_ERR_BAD_REQUEST;
	}
	if (req->method == HTTP_CONNECT) { /* authority-form (§3.2.3) */
		req->host = t;
		return 0;
	}
	if (t.len == 1 && t.p[0] == '*') /* asterisk-form (§3.2.4), OPTIONS only */
		return req->method == HTTP_OPTIONS ? (req->path = t, 0) : HTTP_ERR_BAD_REQUEST;
	if (t.p[0] == '/') {
		split_path(t.p, t.p + t.len, req);
		return 0;
	}
	return split_absolute(req);
}

/* request-line = method SP request-target SP HTTP-version, single spaces (§3). */
static long parse_request_line(struct http_str line, struct http_request *req)
{
	const char *p = line.p, *end = line.p + line.len;
	const char *sp = memchr(p, ' ', line.len);
	if (!sp || sp == p || !all_tchar(p, (size_t)(sp - p)))
		return HTTP_ERR_BAD_REQUEST;
	req->method_name = (struct http_str){p, (size_t)(sp - p)};
	req->method = method_of(req->method_name);
	p = sp + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || sp == p)
		return HTTP_ERR_BAD_REQUEST;
	req->target = (struct http_str){p, (size_t)(sp - p)};
	p = sp + 1;
	/* HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (§2.3). */
	if (end - p != 8 || memcmp(p, "HTTP/", 5) || !is_digit(p[5]) || p[6] != '.' ||
	    !is_digit(p[7]))
		return HTTP_ERR_BAD_REQUEST;
	if (p[5] != '1')
		return HTTP_ERR_VERSION;
	req->minor = (unsigned)(p[7] - '0');
	return split_target(req);
}

/* ---- header fields (§5) ---- */

/* What the fields said, before it is checked as a whole (finish_head). */
struct fields {
	unsigned hosts;
	unsigned chunked; /* "chunked" codings in Transfer-Encoding */
	bool te;          /* a Transfer-Encoding field */
	bool te_unknown;  /* a coding other than chunked */
	bool te_last_chunked;
	bool cl;          /* a Content-Length field */
	bool close, keep; /* Connection: close, keep-alive */
};

/* Content-Length = 1*DIGIT; a list of one value repeated is that value (RFC 9110 §8.6). */
static long content_length(struct http_str v, struct fields *f, struct http_request *req)
{
	struct http_str item;
	bool any = false;
	while (list_next(&v, &item)) {
		uint64_t n = 0;
		for (size_t i = 0; i < item.len; i++) {
			if (!is_digit((unsigned char)item.p[i]) || n > MAX_LENGTH / 10)
				return HTTP_ERR_BAD_REQUEST;
			n = n * 10 + (uint64_t)(item.p[i] - '0');
		}
		if (n > MAX_LENGTH || (f->cl && n != req->content_length))
			return HTTP_ERR_BAD_REQUEST;
		f->cl = any = true;
		req->content_length = n;
	}
	return any ? 0 : HTTP_ERR_BAD_REQUEST;
}

static long transfer_encoding(struct http_str v, struct fields *f)
{
	struct http_str item;
	bool any = false;
	while (list_next(&v, &item)) {
		bool chunked = str_eq_ci(item, "chunked");
		f->chunked += chunked;
		f->te_unknown |= !chunked;
		f->te_last_chunked = chunked;
		any = true;
	}
	f->te = true;
	return any ? 0 : HTTP_ERR_BAD_REQUEST;
}

static void connection(struct http_str v, struct fields *f)
{
	struct http_str item;
	while (list_next(&v, &item)) {
		f->close |= str_eq_ci(item, "close");
		f->keep |= str_eq_ci(item, "keep-alive");
	}
}

static long host(struct http_str v, struct fields *f, struct http_request *req)
{
	for (size_t i = 0; i < v.len; i++)
		if (!is_host_char((unsigned char)v.p[i]))
			return HTTP_ERR_BAD_REQUEST;
	if (!f->hosts++ && !req->host.p)
		req->host = v;
	return 0;
}

/* field-line = field-name ":" OWS field-value OWS (§5). */
static long parse_field(struct http_str line, struct fields *f, struct http_request *req)
{
	if (is_ows(line.p[0])) /* obs-fold (§5.2): refused */
		return HTTP_ERR_BAD_REQUEST;
	const char *colon = memchr(line.p, ':', line.len);
	if (!colon || colon == line.p || !all_tchar(line.p, (size_t)(colon - line.p)))
		return HTTP_ERR_BAD_REQUEST; /* includes whitespace before the colon (§5.1) */
	struct http_str name = {line.p, (size_t)(colon - line.p)};
	struct http_str v = trim_ows(colon + 1, line.p + line.len);
	for (size_t i = 0; i < v.len; i++)
		if (!is_field_char((unsigned char)v.p[i]))
			return HTTP_ERR_BAD_REQUEST;
	if (str_eq_ci(name, "host"))
		return host(v, f, req);
	if (str_eq_ci(name, "content-length"))
		return content_length(v, f, req);
	if (str_eq_ci(name, "transfer-encoding"))
		return transfer_encoding(v, f);
	if (str_eq_ci(name, "connection"))
		connection(v, f);
	else if (str_eq_ci(name, "expect"))
		req->expect_continue |= str_eq_ci(v, "100-continue");
	return 0;
}

/* The head as a whole: Host rules (§3.2), framing (§6.1, §6.3), persistence (§9.3). */
static long finish_head(struct fields *f, struct http_request *req)
{
	if (f->hosts > 1 || (req->minor >= 1 && !f->hosts))
		return HTTP_ERR_BAD_REQUEST;
	if (f->te) {
		if (!f->te_last_chunked || f->chunked > 1 || f->cl || req->minor == 0)
			return HTTP_ERR_BAD_REQUEST;
		if (f->te_unknown)
			return HTTP_ERR_NOT_IMPLEMENTED;
		req->chunked = true;
	}
	if (req->minor == 0)
		req->expect_continue = false; /* RFC 9110 §10.1.1: ignored from HTTP/1.0 */
	req->keep_alive = req->minor >= 1 ? !f->close : f->keep && !f->close;
	return 0;
}

/* A head not complete within max bytes: which limit it broke. */
static long too_long(bool in_request_line)
{
	return in_request_line ? HTTP_ERR_URI_TOO_LONG : HTTP_ERR_HEADERS_TOO_BIG;
}

long http_parse_request(const char *buf, size_t len, size_t max, struct http_request *req)
{
	struct cursor c = {buf, buf + (len < max ? len : max)};
	struct http_str line;
	struct fields f = {0};
	*req = (struct http_request){0};
	do { /* empty lines before the request line are ignored (§2.2) */
		if (!next_line(&c, &line))
			return len >= max ? too_long(true) : 0;
	} while (!line.len);
	long err = parse_request_line(line, req);
	if (err)
		return err;
	for (;;) {
		if (!next_line(&c, &line))
			return len >= max ? too_long(false) : 0;
		if (!line.len)
			break;
		if (++req->headers > HTTP_MAX_HEADERS)
			return HTTP_ERR_HEADERS_TOO_BIG;
		if ((err = parse_field(line, &f, req)))
			return err;
	}
	err = finish_head(&f, req);
	return err ? err : c.p - buf;
}

/* ---- bodies (§6.3: Content-Length, or chunked §7.1) ---- */

enum {
	B_DONE,
	B_LENGTH,     /* Content-Length bytes */
	B_SIZE_FIRST, /* the first hex digit of a chunk-size */
	B_SIZE,       /* more hex digits */
	B_SIZE_BWS,   /* whitespace after them, before a ';' */
	B_EXT,        /* chunk extensions, up to the line's end */
	B_SIZE_LF,    /* the LF after the chunk-size line's CR */
	B_DATA,       /* chunk-data */
	B_DATA_CR,    /* CRLF after chunk-data */
	B_DATA_LF,
	B_TRAILER,    /* the start of a trailer line, or the final CRLF */
	B_TRAILER_IN, /* inside a trailer line */
	B_TRAILER_LF, /* the LF after a trailer line's CR */
	B_END_LF,     /* the LF of the final CRLF */
};

void http_body_start(struct http_body *b, const struct http_request *req)
{
	*b = (struct http_body){0};
	if (req->chunked)
		b->state = B_SIZE_FIRST;
	else if (req->content_length)
		b->state = B_LENGTH, b->left = req->content_length;
	else
		b->state = B_DONE;
}

/* A chunk-size line ended: data follows, or (size 0) the trailer section. */
static uint8_t size_line_done(struct http_body *b)
{
	b->line = 0;
	return b->left ? B_DATA : B_TRAILER;
}

/* One byte of a chunk-size line: the next state, or -1 if the byte is not allowed there. */
static int size_byte(struct http_body *b, unsigned char c)
{
	if (++b->line > MAX_CHUNK_LINE)
		return -1;
	if (b->state != B_SIZE_FIRST && (c == '\r' || c == '\n'))
		return c == '\r' ? B_SIZE_LF : size_line_done(b);
	switch (b->state) {
	case B_SIZE_FIRST:
	case B_SIZE: {
		int h = hex_value(c);
		if (h >= 0) {
			if (b->left > MAX_LENGTH / 16)
				return -1;
			b->left = b->left * 16 + (uint64_t)h;
			return B_SIZE;
		}
		if (b->state == B_SIZE_FIRST)
			return -1;
	}
		/* fallthrough: chunk-ext = *( BWS ";" BWS ext-name ... ), RFC 9112 §7.1.1 */
	case B_SIZE_BWS:
		return c == ';' ? B_EXT : is_ows((char)c) ? B_SIZE_BWS : -1;
	default: /* B_EXT: its names and values are not needed, only their characters checked */
		return is_field_char(c) ? B_EXT : -1;
	}
}

/* One byte of the trailer section (§7.1.2), which is read and dropped. */
static int trailer_byte(struct http_body *b, unsigned char c)
{
	if (++b->trailer > MAX_TRAILER)
		return -1;
	bool at_start = b->state == B_TRAILER;
	if (c == '\r')
		return at_start ? B_END_LF : B_TRAILER_LF;
	if (c == '\n')
		return at_start ? B_DONE : B_TRAILER;
	return is_field_char(c) ? B_TRAILER_IN : -1;
}

/* One byte in a state that reads bytes one at a time; -1 if it is wrong there. */
static int body_byte(struct http_body *b, unsigned char c)
{
	switch (b->state) {
	case B_SIZE_FIRST:
	case B_SIZE:
	case B_SIZE_BWS:
	case B_EXT:
		return size_byte(b, c);
	case B_SIZE_LF:
		return c == '\n' ? size_line_done(b) : -1;
	case B_DATA_CR:
		return c == '\r' ? B_DATA_LF : c == '\n' ? B_SIZE_FIRST : -1;
	case B_DATA_LF:
		return c == '\n' ? B_SIZE_FIRST : -1;
	case B_TRAILER:
	case B_TRAILER_IN:
		return trailer_byte(b, c);
	case B_TRAILER_LF:
	case B_END_LF:
		return c == '\n' ? (b->state == B_END_LF ? B_DONE : B_TRAILER) : -1;
	}
	return -1;
}

long http_body_skip(struct http_body *b, const char *buf, size_t len, bool *done)
{
	size_t i = 0;
	while (i < len && b->state != B_DONE) {
		if (b->state == B_LENGTH || b->state == B_DATA) {
			size_t n = b->left < len - i ? (size_t)b->left : len - i;
			b->left -= n;
			i += n;
			if (!b->left)
				b->state = b->state == B_LENGTH ? B_DONE : B_DATA_CR;
			continue;
		}
		int next = body_byte(b, (unsigned char)buf[i++]);
		if (next < 0)
			return HTTP_ERR_BAD_REQUEST;
		b->state = (uint8_t)next;
	}
	*done = b->state == B_DONE;
	return (long)i;
}

const char *http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "";
}
