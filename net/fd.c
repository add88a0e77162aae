/*
 * The descriptor table of sockets, event queues and event counters, and
 * their lifetimes.
 *
 * A descriptor is an index into one table of object pointers; like POSIX,
 * a new one is the lowest free index. The table holds one reference on
 * each object and every call in progress holds another (fd_get ..
 * nfile_put), so an object closed by one thread while others use it stays
 * valid until the last of them lets go: those see it marked closed and
 * return -EBADF. The table is guarded by a spinlock of its own (taken for
 * a few instructions, never with anything else held after it), so looking
 * a descriptor up does not need the stack lock.
 *
 * Sleeping: nfile_sleep and nfile_wake (see sock.h: a futex on the object's
 * generation, changed only under the stack lock).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "rt.h"
#include "sock.h"

static struct {
	struct spinlock lock; /* guards slot[] and low */
	struct nfile *slot[NET_MAX_FDS];
	unsigned low; /* no free slot below this */
} table;

void nfile_init(struct nfile *f, enum nfile_kind kind)
{
	f->refs = 1;
	f->kind = (uint8_t)kind;
	dlist_init(&f->watchers);
}

int fd_install(struct nfile *f)
{
	int fd = -EMFILE;
	spin_lock(&table.lock);
	for (unsigned i = table.low; i < NET_MAX_FDS; i++) {
		if (!table.slot[i]) {
			table.slot[i] = f;
			table.low = i + 1;
			fd = (int)i;
			break;
		}
	}
	if (fd < 0)
		table.low = NET_MAX_FDS;
	spin_unlock(&table.lock);
	return fd;
}

struct nfile *fd_get(int fd)
{
	if (fd < 0 || fd >= NET_MAX_FDS)
		return NULL;
	spin_lock(&table.lock);
	struct nfile *f = table.slot[fd];
	if (f)
		__atomic_fetch_add(&f->refs, 1,
		                   __ATOMIC_RELAXED); /* the table's keeps it above 0 */
	spin_unlock(&table.lock);
	return f;
}

struct nfile *fd_get_kind(int fd, enum nfile_kind kind, int wrong_kind, int *err)
{
	struct nfile *f = fd_get(fd);
	*err = f ? 0 : -EBADF;
	if (f && f->kind != kind) {
		nfile_put(f);
		f = NULL;
		*err = wrong_kind;
	}
	return f;
}

struct nfile *nfile_begin(int fd, enum nfile_kind kind, int wrong_kind, int *err)
{
	struct nfile *f = fd_get_kind(fd, kind, wrong_kind, err);
	if (!f)
		return NULL;
	net_lock();
	if (f->closed) { /* closed between the lookup and the lock */
		nfile_end(f);
		*err = -EBADF;
		return NULL;
	}
	return f;
}

void nfile_end(struct nfile *f)
{
	net_unlock();
	nfile_put(f);
}

struct nfile *fd_remove(int fd)
{
	if (fd < 0 || fd >= NET_MAX_FDS)
		return NULL;
	spin_lock(&table.lock);
	struct nfile *f = table.slot[fd];
	table.slot[fd] = NULL;
	if (f && (unsigned)fd < table.low)
		table.low = (unsigned)fd;
	spin_unlock(&table.lock);
	return f;
}

void nfile_put(struct nfile *f)
{
	uint32_t was = __atomic_fetch_sub(&f->refs, 1, __ATOMIC_ACQ_REL);
	if (was == 0)
		panic("net: reference count of descriptor object %p (kind %u) went below zero", f,
		      f->kind);
	if (was != 1)
		return;
	/* The last reference: closed (the table's went first) and detached from everything. */
	switch (f->kind) {
	case NF_SOCK:
		sock_free((struct sock *)f);
		break;
	case NF_EPOLL:
		epoll_free((struct epoll *)f);
		break;
	default:
		eventfd_free((struct eventfd *)f);
		break;
	}
}

uint32_t nfile_events(struct nfile *f)
{
	switch (f->kind) {
	case NF_SOCK:
		return sock_events((struct sock *)f);
	case NF_EPOLL:
		return epoll_events((struct epoll *)f);
	default:
		return eventfd_events((struct eventfd *)f);
	}
}

void nfile_wake(struct nfile *f, uint32_t key)
{
	__atomic_store_n(&f->gen, f->gen + 1, __ATOMIC_RELEASE);
	if (f->sleepers)
		noos_futex_wake(&f->gen, INT_MAX);
	/* A watcher may unlink itself (an event queue entry of a closing socket). */
	for (struct dlist *n = f->watchers.next, *next; n != &f->watchers; n = next) {
		next = n->next;
		struct watch *w = dlist_entry(n, struct watch, link);
		w->notify(w, f, key);
	}
}

uint64_t deadline_after(uint64_t timeout_ns)
{
	uint64_t now = noos_time_ns();
	return timeout_ns >= NOOS_FOREVER - now ? NOOS_FOREVER : now + timeout_ns;
}

int nfile_sleep(struct nfile *f, uint64_t deadline)
{
	if (f->closed)
		return -EBADF;
	uint64_t now = noos_time_ns();
	if (now >= deadline)
		return -ETIMEDOUT;
	uint32_t gen = f->gen;
	f->sleepers++;
	net_unlock();
	noos_futex_wait(&f->gen, gen, deadline == NOOS_FOREVER ? NOOS_FOREVER : deadline - now);
	net_lock();
	f->sleepers--;
	return f->closed ? -EBADF : 0;
}
