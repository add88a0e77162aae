/*
 * One HTTP connection, driven by edge-triggered readiness.
 *
 * Edge-triggered means an event says only that something changed; so the
 * connection remembers what it knows — readable until a recv says -EAGAIN,
 * writable until a send does — and keeps going until it runs out of one or
 * the other (or of its budget: then the worker runs it again after its
 * next wait, so one busy client cannot starve the others).
 *
 * Pipelining: received bytes collect in in[]; requests are taken from it
 * one at a time, in order, and each one's response is appended to out[]
 * before the next request is looked at, so responses leave in request
 * order however the bytes were split. A large static body is sent from
 * where it lies after out[] has gone, and no further request is taken
 * until it has. Input stops being read while out[] is too full for
 * another response: TCP's window then holds the client back.
 *
 * Closing: after a response that ends the connection (an error, or the
 * client asked for close) the server shuts down its sending side and
 * reads and drops what the client still sends, for a short while, before
 * closing: closing with unread data would reset the connection and could
 * destroy the response in flight (RFC 9112 §9.6).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"

#define IDLE_NS      (30 * 1000000000ull)       /* keep-alive: an idle connection is closed */
#define LINGER_NS    (2 * 1000000000ull)        /* reading after our FIN, at most this long */
#define LINGER_BYTES (256 * 1024)               /* ... or this many bytes */
#define BUDGET       16                         /* rounds of recv/process/send per event */
#define HEAD_MAX     512                        /* the longest response head */
#define OUT_RESERVE  (HEAD_MAX + BODY_MAX + 32) /* out[] room for one more response (+ 100) */
#define CLOSE        (-100000)                  /* not an errno: step's "close normally" */

enum { C_REQUEST, C_BODY, C_LINGER };

struct conn {
	int fd;
	struct worker *w;
	struct conn *prev, *next; /* the worker's list */
	struct conn *pend_next;   /* the worker's pending list */
	bool pending;
	uint8_t state;
	bool readable, writable; /* not yet seen to be drained (edge-triggered) */
	bool peer_eof;           /* the client's FIN has been read */
	bool close_after;        /* close once out[] and body are sent */
	uint64_t deadline;       /* idle (or linger) time limit */
	size_t lingered;         /* bytes dropped while lingering */
	uint16_t in_off, in_len; /* unprocessed input is in[in_off .. in_len) */
	uint16_t out_off, out_len;
	const char *body; /* a static body to send after out[] */
	size_t body_len;
	struct http_body skip; /* a request body being skipped (C_BODY) */
	char in[IN_CAP];
	char out[OUT_CAP];
};

/* ---- the worker's list ---- */

/*
 * Edge-triggered, for everything at once: no epoll_ctl is ever needed
 * again, whichever of reading and writing the connection waits for.
 */
struct conn *conn_new(struct worker *w, int fd)
{
	struct conn *c = malloc(sizeof(*c));
	if (!c)
		return NULL;
	memset(c, 0, offsetof(struct conn, in));
	c->fd = fd;
	c->w = w;
	struct noos_epoll_event ev = {
	    .events = NOOS_EPOLLIN | NOOS_EPOLLOUT | NOOS_EPOLLRDHUP | NOOS_EPOLLET,
	    .data.ptr = c,
	};
	if (noos_epoll_ctl(w->epfd, NOOS_EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(c);
		return NULL;
	}
	c->readable = c->writable = true; /* find out at once rather than wait for the first edge */
	c->deadline = noos_time_ns() + IDLE_NS;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	return c;
}

/* Run c again after the worker's next wait (it used up its budget). */
static void pend(struct conn *c)
{
	c->pending = true;
	c->pend_next = c->w->pending;
	c->w->pending = c;
}

static void conn_free(struct conn *c)
{
	struct worker *w = c->w;
	noos_close(c->fd); /* it leaves the event queue with it */
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->pending) { /* rare: closed by the sweep while pending */
		struct conn **p = &w->pending;
		while (*p != c)
			p = &(*p)->pend_next;
		*p = c->pend_next;
	}
	w->st.closed++;
	free(c);
}

/* ---- output ---- */

static bool out_empty(const struct conn *c)
{
	return c->out_off == c->out_len && !c->body_len;
}

/* Send what is queued while the socket takes it: 0, or a negative error (the connection is dead).
 */
static int flush(struct conn *c)
{
	while (c->writable && !out_empty(c)) {
		bool from_out = c->out_off < c->out_len;
		const char *p = from_out ? c->out + c->out_off : c->body;
		size_t len = from_out ? (size_t)(c->out_len - c->out_off) : c->body_len;
		long n = noos_send(c->fd, p, len, NOOS_MSG_DONTWAIT | NOOS_MSG_NOSIGNAL);
		if (n == -EAGAIN) {
			c->writable = false;
			break;
		}
		if (n <= 0)
			return n < 0 ? (int)n : -EIO;
		if (from_out) {
			c->out_off += (uint16_t)n;
			if (c->out_off == c->out_len)
				c->out_off = c->out_len = 0;
		} else {
			c->body += n;
			c->body_len -= (size_t)n;
		}
	}
	return 0;
}

/* Queue a response: its head, and the body copied into out[] or sent from where it lies. */
static void queue_response(struct conn *c, const struct response *r, bool head_only,
                           bool keep_alive, unsigned minor)
{
	size_t room = OUT_CAP - c->out_len;
	size_t n =
	    response_head(r, head_only, keep_alive, minor, c->w->date, c->out + c->out_len, room);
	if (!n) /* a broken invariant: take_requests leaves OUT_RESERVE, heads are shorter */
		abort();
	c->out_len += (uint16_t)n;
	room -= n;
	if (head_only || !r->len)
		return;
	if (r->len <= room) {
		memcpy(c->out + c->out_len, r->body, r->len);
		c->out_len += (uint16_t)r->len;
	} else {
		c->body = r->body; /* static data: it outlives the send */
		c->body_len = r->len;
	}
}

/* ---- input ---- */

static void consume(struct conn *c, size_t n)
{
	c->in_off += (uint16_t)n;
	if (c->in_off == c->in_len)
		c->in_off = c->in_len = 0;
}

/* The answer to an unparsable request; the connection closes after it. */
static void queue_error(struct conn *c, int status)
{
	struct response r;
	route_error(status, &r);
	queue_response(c, &r, false, false, 1);
	c->close_after = true;
	c->w->st.errors++;
}

/* One request head from in[]: respond, and skip its body next. false: the head is incomplete. */
static bool take_request(struct conn *c)
{
	struct http_request req;
	long n =
	    http_parse_request(c->in + c->in_off, (size_t)(c->in_len - c->in_off), IN_CAP, &req);
	if (n == 0)
		return false;
	if (n < 0) {
		queue_error(c, (int)-n);
		return true;
	}
	if (req.expect_continue && (req.chunked || req.content_length)) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		memcpy(c->out + c->out_len, cont, sizeof(cont) - 1); /* RFC 9110 §10.1.1 */
		c->out_len += sizeof(cont) - 1;
	}
	char scratch[BODY_MAX];
	struct response r;
	route(&req, &r, scratch);
	queue_response(c, &r, req.method == HTTP_HEAD, req.keep_alive, req.minor);
	c->close_after = !req.keep_alive;
	c->w->st.requests++;
	http_body_start(&c->skip, &req);
	consume(c, (size_t)n); /* req points into in[]: only now */
	c->state = C_BODY;
	return true;
}

/* Skip request body bytes in in[]; false when more are needed. */
static bool skip_body(struct conn *c)
{
	bool done;
	long n =
	    http_body_skip(&c->skip, c->in + c->in_off, (size_t)(c->in_len - c->in_off), &done);
	if (n < 0) {
		queue_error(c, -HTTP_ERR_BAD_REQUEST);
		return true;
	}
	consume(c, (size_t)n);
	if (done)
		c->state = C_REQUEST;
	return done;
}

/* Requests from in[], in order, while out[] has room; true if anything was queued or done. */
static bool take_requests(struct conn *c)
{
	bool progress = false;
	while (!c->close_after && !c->body_len && OUT_CAP - c->out_len >= OUT_RESERVE) {
		bool more = c->state == C_BODY ? skip_body(c) : take_request(c);
		if (!more)
			break;
		progress = true;
	}
	return progress;
}

/* Read what has arrived into in[]: 1 read (or end of stream), 0 nothing now, negative: dead. */
static int fill(struct conn *c)
{
	if (!c->readable)
		return 0;
	if (c->in_off) { /* the unprocessed rest to the front: room for a whole head */
		memmove(c->in, c->in + c->in_off, (size_t)(c->in_len - c->in_off));
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len == IN_CAP)
		return 0;
	long n = noos_recv(c->fd, c->in + c->in_len, IN_CAP - c->in_len, NOOS_MSG_DONTWAIT);
	if (n == -EAGAIN) {
		c->readable = false;
		return 0;
	}
	if (n < 0)
		return (int)n;
	if (n == 0) { /* the client's FIN: answer what is complete, then close */
		c->peer_eof = true;
		c->readable = false;
		return 1;
	}
	c->in_len += (uint16_t)n;
	return 1;
}

/* ---- closing ---- */

/* After the last response: half-close and read what still comes (see the top). 1: go on, or CLOSE.
 */
static int start_linger(struct conn *c)
{
	if (c->peer_eof || noos_shutdown(c->fd, NOOS_SHUT_WR) < 0)
		return CLOSE;
	c->state = C_LINGER;
	c->deadline = noos_time_ns() + LINGER_NS;
	return 1;
}

/* Drop what the client sends until its FIN; 0: wait for more, or CLOSE. */
static int linger(struct conn *c)
{
	while (c->readable) {
		long n = noos_recv(c->fd, c->in, IN_CAP, NOOS_MSG_DONTWAIT);
		if (n == -EAGAIN) {
			c->readable = false;
			break;
		}
		if (n <= 0 || (c->lingered += (size_t)n) > LINGER_BYTES)
			return CLOSE;
	}
	return 0;
}

/* ---- the state machine ---- */

/* One round: send, take requests, read. 1: progress (go round again), 0: wait, CLOSE or an error.
 */
static int step(struct conn *c)
{
	int err = flush(c);
	if (err < 0)
		return err;
	if (!out_empty(c))
		return c->writable ? 1 : 0;
	if (c->state == C_LINGER)
		return linger(c);
	if (c->close_after)
		return start_linger(c);
	if (take_requests(c))
		return 1;
	if (c->peer_eof) /* nothing more will come, and nothing is left to answer */
		return CLOSE;
	return fill(c);
}

static void run(struct conn *c)
{
	for (int round = 0; round < BUDGET; round++) {
		int r = step(c);
		if (r < 0) {
			if (r != CLOSE)
				c->w->st.resets++;
			conn_free(c);
			return;
		}
		if (r == 0)
			return;
	}
	pend(c); /* more to do: after the other connections have had a turn */
}

void conn_event(struct conn *c, uint32_t events)
{
	if (events & (NOOS_EPOLLIN | NOOS_EPOLLRDHUP | NOOS_EPOLLHUP | NOOS_EPOLLERR))
		c->readable = true;
	if (events & (NOOS_EPOLLOUT | NOOS_EPOLLHUP | NOOS_EPOLLERR))
		c->writable = true;
	if (c->state != C_LINGER)
		c->deadline = noos_time_ns() + IDLE_NS;
	if (!c->pending)
		run(c);
}

void conn_run_pending(struct worker *w)
{
	struct conn *c = w->pending, *next;
	w->pending = NULL; /* those that use up their budget again join a new list */
	for (; c; c = next) {
		next = c->pend_next;
		c->pending = false;
		run(c);
	}
}

void conn_sweep(struct worker *w, uint64_t now)
{
	struct conn *next;
	for (struct conn *c = w->conns; c; c = next) {
		next = c->next;
		if (now < c->deadline)
			continue;
		if (c->state != C_LINGER)
			w->st.timeouts++;
		conn_free(c);
	}
}
