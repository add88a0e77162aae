/*
 * What each request gets, and the response head.
 *
 * GET and HEAD of the files under www/ (compiled in, content.c), /hello
 * and /stats. Other methods are known but not allowed here (405 with
 * Allow, RFC 9110 §15.5.6) or not known at all (501, §15.6.2). Every
 * response has a Content-Length, so a keep-alive connection always knows
 * where it ends (RFC 9112 §6.3).
 */
#include <stdio.h>
#include <string.h>

#include "httpd.h"

static const char hello[] = "Hello from noos!\n";

static struct response text(int status, const char *body)
{
	return (struct response){.status = status,
	                         .type = "text/plain; charset=utf-8",
	                         .body = body,
	                         .len = strlen(body),
	                         .headers = ""};
}

static bool path_is(const struct http_request *req, const char *path)
{
	return req->path.len == strlen(path) && !memcmp(req->path.p, path, req->path.len);
}

static const struct static_file *find_file(const struct http_request *req)
{
	for (unsigned i = 0; i < static_file_count; i++)
		if (path_is(req, static_files[i].path))
			return &static_files[i];
	return NULL;
}

/* The resource req names, for GET and HEAD; false: there is none. */
static bool resource(const struct http_request *req, struct response *resp, char *scratch)
{
	const struct static_file *f = find_file(req);
	if (f) {
		*resp = (struct response){
		    .status = 200, .type = f->type, .body = f->data, .len = f->len, .headers = ""};
		return true;
	}
	if (path_is(req, "/hello")) {
		*resp = text(200, hello);
		return true;
	}
	if (path_is(req, "/stats")) {
		*resp = (struct response){.status = 200,
		                          .type = "application/json",
		                          .body = scratch,
		                          .len = stats_json(scratch, BODY_MAX),
		                          .headers = "Cache-Control: no-store\r\n"};
		return true;
	}
	return false;
}

void route(const struct http_request *req, struct response *resp, char *scratch)
{
	if (req->method == HTTP_OTHER) {
		*resp = text(501, "Not Implemented: this server knows GET and HEAD.\n");
		return;
	}
	if (!resource(req, resp, scratch)) {
		*resp = text(404, "Not Found\n");
		return;
	}
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		*resp = text(405, "Method Not Allowed: GET and HEAD only.\n");
		resp->headers = "Allow: GET, HEAD\r\n";
	}
}

void route_error(int status, struct response *resp)
{
	static const struct {
		int status;
		const char *body;
	} errors[] = {
	    {400, "400 Bad Request\n"},
	    {414, "414 URI Too Long\n"},
	    {431, "431 Request Header Fields Too Large\n"},
	    {501, "501 Not Implemented: a transfer coding other than chunked\n"},
	    {505, "505 HTTP Version Not Supported\n"},
	};
	unsigned n = sizeof(errors) / sizeof(errors[0]), i = 0;
	while (i < n && errors[i].status != status)
		i++;
	*resp = text(errors[i < n ? i : 0].status, errors[i < n ? i : 0].body);
}

size_t response_head(const struct response *resp, bool head_only, bool keep_alive, unsigned minor,
                     const char *date, char *buf, size_t size)
{
	(void)head_only; /* HEAD gets the GET's Content-Length, without the body (§9.3.2) */
	const char *conn = !keep_alive  ? "Connection: close\r\n"
	                   : minor == 0 ? "Connection: keep-alive\r\n" /* HTTP/1.0 asked for it */
	                                : "";
	int n = snprintf(buf, size,
	                 "HTTP/1.1 %d %s\r\nServer: noos-httpd\r\n%sContent-Type: %s\r\n"
	                 "Content-Length: %zu\r\n%s%s\r\n",
	                 resp->status, http_reason(resp->status), date, resp->type, resp->len,
	                 resp->headers, conn);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}
