/*
 * noos_poll: Linux's poll(2) over sockets and event queues.
 *
 * Like Linux's do_poll, the caller puts a watcher on every descriptor, then
 * looks at each one's readiness; if none is ready it sleeps until a watcher
 * fires or the time is up, and looks again. The watchers share one futex
 * word on the caller's stack: a readiness change (under the stack lock)
 * bumps it and wakes the caller, and since the caller read the word under
 * the same lock before letting go of it, no change between the look and the
 * sleep is missed. Watchers come off before the call returns, under the
 * lock, so nothing touches the word after.
 *
 * A descriptor that is not open, or that is closed while polled, reports
 * POLLNVAL (which counts as ready); ERR and HUP are reported whether asked
 * for or not.
 */
#include <errno.h>
#include <stdlib.h>

#include "sock.h"

#define POLL_MAX      4096 /* nfds above this: -EINVAL (Linux's limit is RLIMIT_NOFILE) */
#define POLL_ON_STACK 8

struct pollw {
	struct watch w;
	struct nfile *f;
	uint32_t *word;
};

static void poll_notify(struct watch *w, struct nfile *f, uint32_t key)
{
	(void)f;
	(void)key;
	struct pollw *pw = dlist_entry(w, struct pollw, w);
	__atomic_fetch_add(pw->word, 1, __ATOMIC_RELEASE);
	noos_futex_wake(pw->word, 1);
}

/* Stack lock: fill every revents; how many are non-zero. */
static int scan(struct noos_pollfd *fds, struct pollw *pw, unsigned nfds)
{
	int ready = 0;
	for (unsigned i = 0; i < nfds; i++) {
		uint32_t rev = 0;
		if (fds[i].fd < 0)
			rev = 0;
		else if (!pw[i].f || pw[i].f->closed)
			rev = NOOS_POLLNVAL;
		else
			rev = nfile_events(pw[i].f) &
			      ((uint16_t)fds[i].events | NOOS_POLLERR | NOOS_POLLHUP);
		fds[i].revents = (short)rev;
		ready += rev != 0;
	}
	return ready;
}

/* Stack lock: the sleep between looks. false once the deadline has passed. */
static bool wait_change(uint32_t *word, uint32_t seen, uint64_t deadline)
{
	uint64_t now = noos_time_ns();
	if (now >= deadline)
		return false;
	net_unlock();
	noos_futex_wait(word, seen, deadline == NOOS_FOREVER ? NOOS_FOREVER : deadline - now);
	net_lock();
	return true;
}

static int poll_loop(struct noos_pollfd *fds, struct pollw *pw, unsigned nfds, uint64_t timeout_ns)
{
	uint32_t word = 0;
	uint64_t deadline = deadline_after(timeout_ns);
	int n;
	net_lock();
	for (unsigned i = 0; i < nfds; i++) {
		pw[i].word = &word;
		pw[i].w.notify = poll_notify;
		dlist_init(&pw[i].w.link);
		if (pw[i].f && !pw[i].f->closed)
			dlist_add_tail(&pw[i].f->watchers, &pw[i].w.link);
	}
	for (;;) {
		n = scan(fds, pw, nfds);
		if (n || timeout_ns == 0)
			break;
		if (!wait_change(&word, __atomic_load_n(&word, __ATOMIC_ACQUIRE), deadline))
			break;
	}
	for (unsigned i = 0; i < nfds; i++)
		dlist_del(&pw[i].w.link);
	net_unlock();
	return n;
}

int noos_poll(struct noos_pollfd *fds, unsigned nfds, uint64_t timeout_ns)
{
	if (nfds > POLL_MAX || (!fds && nfds))
		return -EINVAL;
	struct pollw local[POLL_ON_STACK];
	struct pollw *pw = nfds <= POLL_ON_STACK ? local : calloc(nfds, sizeof(*pw));
	if (!pw)
		return -ENOMEM;
	for (unsigned i = 0; i < nfds; i++)
		pw[i].f = fds[i].fd >= 0 ? fd_get(fds[i].fd) : NULL;
	int n = poll_loop(fds, pw, nfds, timeout_ns);
	for (unsigned i = 0; i < nfds; i++)
		if (pw[i].f)
			nfile_put(pw[i].f);
	if (pw != local)
		free(pw);
	return n;
}
