/*
 * A worker: one thread pinned to one vCPU, with an event queue of its own.
 *
 * The listening socket is in every worker's queue, level-triggered: a
 * waiting connection is reported to each worker until someone accepts it,
 * and each takes at most ACCEPT_BATCH per report, so new connections spread
 * over the workers that are free to take them. An accepted connection goes
 * into the accepting worker's queue only (edge-triggered, conn.c), so it
 * is only ever touched by that one thread and needs no lock.
 *
 * Once a second (the wait's timeout) the worker closes connections idle or
 * lingering past their time, and refreshes the Date header it sends
 * (RFC 9110 §6.6.1: an origin server with a clock sends one).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "httpd.h"

#define EVENTS          64
#define TICK_NS         1000000000ull
#define ACCEPT_BATCH    4
#define ACCEPT_PAUSE_NS 100000000ull /* after running out of descriptors or memory */

/* ---- the Date header ---- */

/* Days since 1970-01-01 to a civil date (proleptic Gregorian, eras of 400 years). */
static void civil_from_days(int64_t days, int *year, unsigned *month, unsigned *day)
{
	days += 719468; /* days from 0000-03-01, when a year's leap day comes last */
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	unsigned doe = (unsigned)(days - era * 146097);                       /* day of era */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* year of era */
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* from March 1 */
	unsigned mp = (5 * doy + 2) / 153;                                    /* March = 0 */
	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (int)(yoe + era * 400 + (*month <= 2));
}

/* "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" (IMF-fixdate, RFC 9110 §5.6.7), once a second. */
static void touch_date(struct worker *w)
{
	static const char wday[7][4] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
	static const char mon[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	int64_t ns = noos_wallclock_ns();
	if (ns < 0) { /* no clock: no Date header */
		w->date[0] = '\0';
		return;
	}
	uint64_t sec = (uint64_t)ns / 1000000000u;
	if (sec == w->date_sec && w->date[0])
		return;
	w->date_sec = sec;
	int64_t days = (int64_t)(sec / 86400);
	unsigned s = (unsigned)(sec % 86400), month, day;
	int year;
	civil_from_days(days, &year, &month, &day);
	snprintf(w->date, sizeof(w->date), "Date: %s, %02u %s %04d %02u:%02u:%02u GMT\r\n",
	         wday[days % 7], day, mon[month - 1], year, s / 3600, s / 60 % 60, s % 60);
}

/* ---- accepting ---- */

static int watch_listener(struct worker *w, int op)
{
	struct noos_epoll_event ev = {.events = NOOS_EPOLLIN, .data.ptr = NULL};
	return noos_epoll_ctl(w->epfd, op, server.listen_fd, &ev);
}

static void accept_some(struct worker *w)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = noos_accept4(server.listen_fd, NULL, NULL, NOOS_SOCK_NONBLOCK);
		if (fd == -EAGAIN)
			return;
		if (fd < 0) { /* out of descriptors or memory: let connections finish first */
			w->st.accept_failures++;
			if (watch_listener(w, NOOS_EPOLL_CTL_DEL) == 0)
				w->accept_paused_until = noos_time_ns() + ACCEPT_PAUSE_NS;
			return;
		}
		int one = 1; /* responses leave at once, not after the client's delayed ACK */
		noos_setsockopt(fd, NOOS_IPPROTO_TCP, NOOS_TCP_NODELAY, &one, sizeof(one));
		struct conn *c = conn_new(w, fd);
		if (!c) {
			noos_close(fd);
			w->st.accept_failures++;
			continue;
		}
		w->st.accepted++;
		conn_event(c, 0); /* its request may be there already */
	}
}

static void resume_accepting(struct worker *w, uint64_t now)
{
	if (w->accept_paused_until && now >= w->accept_paused_until &&
	    watch_listener(w, NOOS_EPOLL_CTL_ADD) == 0)
		w->accept_paused_until = 0;
}

/* ---- the loop ---- */

void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct noos_epoll_event ev[EVENTS];
	uint64_t next_tick = noos_time_ns() + TICK_NS;
	touch_date(w);
	for (;;) {
		int n = noos_epoll_wait(w->epfd, ev, EVENTS, w->pending ? 0 : TICK_NS);
		if (n < 0) {
			printf("httpd: worker %u: epoll_wait failed (%d)\n", w->id, n);
			noos_sleep_ns(TICK_NS);
			continue;
		}
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr)
				conn_event(ev[i].data.ptr, ev[i].events);
			else
				accept_some(w);
		}
		conn_run_pending(w);
		/* After the events: the sweep frees connections that ev[] may name. */
		uint64_t now = noos_time_ns();
		if (now >= next_tick) {
			touch_date(w);
			conn_sweep(w, now);
			resume_accepting(w, now);
			next_tick = now + TICK_NS;
		}
	}
	return NULL;
}
