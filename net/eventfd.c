/*
 * Event counters (noos.h "event counters"): Linux's eventfd(2) as a
 * descriptor beside sockets and event queues, so that a thread blocked in
 * noos_epoll_wait or noos_poll can be woken by another thread that has no
 * socket to poke — what a language runtime's poller needs (Go's netpoll
 * registers an eventfd and writes to it to break a wait).
 *
 * The state is a 64-bit counter. A write adds to it, a read takes it all
 * (or 1 with NOOS_EFD_SEMAPHORE); readable while it is above 0, writable
 * while adding 1 would not reach the maximum, 2^64 - 2 (eventfd(2)). Like
 * every object in the descriptor table it is guarded by the stack lock and
 * sleeps on its generation (fd.c), so readiness reaches pollers and event
 * queues the same way a socket's does. Each write is an edge for
 * edge-triggered queues, even when the counter was already above 0, and
 * each read that leaves room an edge for writers, as Linux wakes its wait
 * queue on every change.
 */
#include <errno.h>
#include <stdlib.h>

#include "sock.h"

#define COUNT_MAX (UINT64_MAX - 1) /* eventfd(2): the largest value the counter holds */

struct eventfd {
	struct nfile f; /* first */
	uint64_t count; /* stack lock */
	bool semaphore; /* reads take 1, not all (set at creation) */
	bool nonblock;  /* atomic: NOOS_EFD_NONBLOCK, noos_set_nonblock */
};

int noos_eventfd(unsigned initval, int flags)
{
	if (flags & ~(NOOS_EFD_SEMAPHORE | NOOS_EFD_NONBLOCK | NOOS_EFD_CLOEXEC))
		return -EINVAL;
	noos_net_start(); /* the stack lock exists from here on */
	struct eventfd *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	nfile_init(&e->f, NF_EVENT);
	e->count = initval;
	e->semaphore = (flags & NOOS_EFD_SEMAPHORE) != 0;
	e->nonblock = (flags & NOOS_EFD_NONBLOCK) != 0;
	int fd = fd_install(&e->f);
	if (fd < 0)
		free(e);
	return fd;
}

void eventfd_free(struct eventfd *e)
{
	free(e);
}

uint32_t eventfd_events(struct eventfd *e)
{
	uint32_t ev = 0;
	if (e->count > 0)
		ev |= EV_IN;
	if (e->count < COUNT_MAX)
		ev |= EV_OUT;
	return ev;
}

void eventfd_set_nonblock(struct eventfd *e, bool on)
{
	__atomic_store_n(&e->nonblock, on, __ATOMIC_RELAXED);
}

/* fd -> its open counter, referenced, with the stack lock taken; NULL with *err
 * (-EINVAL for another kind: a read or write of 8 bytes means nothing to it). */
static struct eventfd *eventfd_begin(int fd, int *err)
{
	return (struct eventfd *)nfile_begin(fd, NF_EVENT, -EINVAL, err);
}

static void eventfd_end(struct eventfd *e)
{
	nfile_end(&e->f);
}

/* Stack lock held: wait for a change unless non-blocking; 0 to look again, or an error. */
static int eventfd_wait(struct eventfd *e)
{
	if (__atomic_load_n(&e->nonblock, __ATOMIC_RELAXED))
		return -EAGAIN;
	return nfile_sleep(&e->f, NOOS_FOREVER);
}

int noos_eventfd_read(int fd, uint64_t *value)
{
	if (!value)
		return -EINVAL;
	int err;
	struct eventfd *e = eventfd_begin(fd, &err);
	if (!e)
		return err;
	while (!err && e->count == 0)
		err = eventfd_wait(e);
	if (!err) {
		*value = e->semaphore ? 1 : e->count;
		e->count -= *value;
		nfile_wake(&e->f, EV_OUT);
	}
	eventfd_end(e);
	return err;
}

int noos_eventfd_write(int fd, uint64_t value)
{
	if (value == UINT64_MAX)
		return -EINVAL;
	int err;
	struct eventfd *e = eventfd_begin(fd, &err);
	if (!e)
		return err;
	while (!err && value > COUNT_MAX - e->count)
		err = eventfd_wait(e);
	if (!err) { /* even 0: Linux wakes its pollers on every write */
		e->count += value;
		nfile_wake(&e->f, EV_IN);
	}
	eventfd_end(e);
	return err;
}
