/*
 * Event queues (noos_epoll_*), with Linux's epoll semantics (epoll(7),
 * fs/eventpoll.c), modelled the way Linux implements them so that the
 * sequences of reports match step by step:
 *
 *  - A registration (struct epitem) watches its socket. When the socket
 *    signals a change whose key (the events that may have risen: EPOLLIN
 *    for arriving data, EPOLLOUT for freed send space, everything for a
 *    state change) meets the registration's interest, the entry goes on
 *    the queue's ready list, once (Linux's ep_poll_callback).
 *  - A wait takes entries off the ready list, asks each socket for its
 *    readiness now, and reports what meets the interest; an entry with
 *    nothing to report is dropped silently (ep_send_events). A
 *    level-triggered entry that reported goes back on the list (at the
 *    end, after the scan), so it is reported again while it stays ready;
 *    an edge-triggered one does not, and comes back only with the next
 *    signal; a one-shot one is disarmed (interest cleared) until
 *    EPOLL_CTL_MOD.
 *  - ADD and MOD look at the socket at once and queue the entry if it is
 *    ready (ep_insert, ep_modify).
 *  - EPOLLERR and EPOLLHUP are always in the interest.
 *  - Closing a socket removes its entries from every queue; closing a
 *    queue removes its entries from their sockets and wakes its waiters
 *    (-EBADF).
 *
 * Everything under the stack lock (sock.h). Waiters sleep on the queue's
 * generation (nfile_sleep), bumped when an entry is queued.
 */
#include <errno.h>
#include <stdlib.h>

#include "sock.h"

#define EP_PRIVATE (NOOS_EPOLLET | NOOS_EPOLLONESHOT | NOOS_EPOLLEXCLUSIVE | (1u << 29))
#define EP_ALWAYS  (NOOS_EPOLLERR | NOOS_EPOLLHUP)

struct epoll {
	struct nfile f;     /* first */
	struct dlist items; /* stack lock: every struct epitem of this queue */
	struct dlist ready; /* stack lock: entries to look at in the next wait */
};

struct epitem {
	struct watch w;    /* in target->watchers */
	struct dlist link; /* in ep->items */
	struct dlist rdy;  /* in ep->ready while queued (points at itself otherwise) */
	struct epoll *ep;
	struct nfile *target;
	uint32_t events; /* interest | EP_ALWAYS | flags; no interest bits: a disarmed one-shot */
	uint64_t data;
};

static void item_queue(struct epitem *it)
{
	if (it->rdy.next != &it->rdy)
		return; /* already queued */
	dlist_add_tail(&it->ep->ready, &it->rdy);
	nfile_wake(&it->ep->f, EV_IN);
}

static void item_remove(struct epitem *it)
{
	dlist_del(&it->w.link);
	dlist_del(&it->link);
	dlist_del(&it->rdy);
	free(it);
}

/* The watched socket changed (ep_poll_callback). */
static void item_notify(struct watch *w, struct nfile *f, uint32_t key)
{
	(void)f;
	struct epitem *it = dlist_entry(w, struct epitem, w);
	if (key & EV_CLOSED) {
		item_remove(it);
		return;
	}
	if (!(it->events & ~EP_PRIVATE))
		return; /* a one-shot that reported: nothing until EPOLL_CTL_MOD */
	if (key & it->events)
		item_queue(it);
}

static uint32_t item_ready(struct epitem *it)
{
	return nfile_events(it->target) & it->events & ~EP_PRIVATE;
}

/* ---- the queue as a descriptor ---- */

void epoll_close(struct epoll *ep)
{
	while (!dlist_empty(&ep->items))
		item_remove(dlist_entry(ep->items.next, struct epitem, link));
	sock_stats.queues--;
}

void epoll_free(struct epoll *ep)
{
	free(ep);
}

uint32_t epoll_events(struct epoll *ep)
{
	for (struct dlist *n = ep->ready.next; n != &ep->ready; n = n->next)
		if (item_ready(dlist_entry(n, struct epitem, rdy)))
			return EV_IN;
	return 0;
}

int noos_epoll_create(int flags)
{
	if (flags & ~NOOS_EPOLL_CLOEXEC)
		return -EINVAL;
	noos_net_start(); /* the stack lock exists from here on */
	struct epoll *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	nfile_init(&ep->f, NF_EPOLL);
	dlist_init(&ep->items);
	dlist_init(&ep->ready);
	int fd = fd_install(&ep->f);
	if (fd < 0) {
		free(ep);
		return fd;
	}
	net_lock();
	sock_stats.queues++;
	net_unlock();
	return fd;
}

/* epfd -> its queue, referenced; NULL with *err. */
static struct epoll *epoll_get(int epfd, int *err)
{
	return (struct epoll *)fd_get_kind(epfd, NF_EPOLL, -EINVAL, err);
}

/* ---- control ---- */

static struct epitem *item_find(struct epoll *ep, struct nfile *t)
{
	for (struct dlist *n = t->watchers.next; n != &t->watchers; n = n->next) {
		struct watch *w = dlist_entry(n, struct watch, link);
		if (w->notify == item_notify && dlist_entry(w, struct epitem, w)->ep == ep)
			return dlist_entry(w, struct epitem, w);
	}
	return NULL;
}

static int item_add(struct epoll *ep, struct nfile *t, const struct noos_epoll_event *ev)
{
	struct epitem *it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->w.notify = item_notify;
	it->ep = ep;
	it->target = t;
	it->events = ev->events | EP_ALWAYS;
	it->data = ev->data.u64;
	dlist_init(&it->rdy);
	dlist_add_tail(&t->watchers, &it->w.link);
	dlist_add_tail(&ep->items, &it->link);
	if (item_ready(it))
		item_queue(it);
	return 0;
}

static int ctl(struct epoll *ep, int op, struct nfile *t, const struct noos_epoll_event *ev)
{
	struct epitem *it = item_find(ep, t);
	switch (op) {
	case NOOS_EPOLL_CTL_ADD:
		return it ? -EEXIST : item_add(ep, t, ev);
	case NOOS_EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		it->events = ev->events | EP_ALWAYS;
		it->data = ev->data.u64;
		if (item_ready(it))
			item_queue(it);
		return 0;
	default: /* NOOS_EPOLL_CTL_DEL */
		if (!it)
			return -ENOENT;
		item_remove(it);
		return 0;
	}
}

static int ctl_check(struct epoll *ep, int op, struct nfile *t, const struct noos_epoll_event *ev)
{
	if (op != NOOS_EPOLL_CTL_ADD && op != NOOS_EPOLL_CTL_MOD && op != NOOS_EPOLL_CTL_DEL)
		return -EINVAL;
	if (&ep->f == t)
		return -EINVAL;
	if (t->kind == NF_EPOLL)
		return -EPERM; /* nesting queues is not supported */
	if (op != NOOS_EPOLL_CTL_DEL && !ev)
		return -EINVAL;
	return 0;
}

int noos_epoll_ctl(int epfd, int op, int fd, struct noos_epoll_event *ev)
{
	int err;
	struct epoll *ep = epoll_get(epfd, &err);
	if (!ep)
		return err;
	struct nfile *t = fd_get(fd);
	err = t ? ctl_check(ep, op, t, ev) : -EBADF;
	if (!err) {
		net_lock();
		err = ep->f.closed || t->closed ? -EBADF : ctl(ep, op, t, ev);
		net_unlock();
	}
	if (t)
		nfile_put(t);
	nfile_put(&ep->f);
	return err;
}

/* ---- waiting ---- */

/* Report up to max ready entries (ep_send_events); level-triggered ones queue again after. */
static int collect(struct epoll *ep, struct noos_epoll_event *out, int max)
{
	struct dlist again;
	dlist_init(&again);
	int n = 0;
	while (n < max && !dlist_empty(&ep->ready)) {
		struct epitem *it = dlist_entry(ep->ready.next, struct epitem, rdy);
		dlist_del(&it->rdy);
		uint32_t rev = item_ready(it);
		if (!rev)
			continue;
		out[n].events = rev;
		out[n].data.u64 = it->data;
		n++;
		if (it->events & NOOS_EPOLLONESHOT)
			it->events &= EP_PRIVATE;
		else if (!(it->events & NOOS_EPOLLET))
			dlist_add_tail(&again, &it->rdy);
	}
	while (!dlist_empty(&again)) {
		struct dlist *node = again.next;
		dlist_del(node);
		dlist_add_tail(&ep->ready, node);
	}
	return n;
}

int noos_epoll_wait(int epfd, struct noos_epoll_event *events, int maxevents, uint64_t timeout_ns)
{
	if (!events || maxevents <= 0)
		return -EINVAL;
	int err;
	struct epoll *ep = epoll_get(epfd, &err);
	if (!ep)
		return err;
	uint64_t deadline = deadline_after(timeout_ns);
	int n;
	net_lock();
	for (;;) {
		n = ep->f.closed ? -EBADF : collect(ep, events, maxevents);
		if (n || timeout_ns == 0)
			break;
		int e = nfile_sleep(&ep->f, deadline);
		if (e) {
			n = e == -ETIMEDOUT ? 0 : e;
			break;
		}
	}
	net_unlock();
	nfile_put(&ep->f);
	return n;
}
