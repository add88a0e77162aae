/*
 * One-shot and periodic timers (noos.h). Callbacks run in thread context, in
 * one service thread ("timers", started on first use) that sleeps until the
 * earliest deadline. Armed timers sit in a list sorted by deadline (timers
 * are few in a unikernel; insertion is linear). A periodic timer's next
 * deadline follows from the previous deadline, not from when its callback
 * ran, so it does not drift; periods missed while a callback overran are
 * skipped, not replayed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "noos.h"
#include "rt.h"

struct noos_timer {
	void (*fn)(void *arg);
	void *arg;
	uint64_t deadline; /* monotonic ns; 0: not armed */
	uint64_t period;   /* 0: one-shot */
	struct noos_timer *next;
};

static noos_mutex_t timers_lock = NOOS_MUTEX_INIT; /* guards everything below */
static noos_cond_t timers_changed = NOOS_COND_INIT;
static noos_cond_t callback_done = NOOS_COND_INIT;
static struct noos_timer *armed;   /* sorted by deadline */
static struct noos_timer *running; /* whose callback runs now */
static noos_thread_t *service;     /* the thread that runs callbacks */
static bool service_started;

static void unlink_timer(struct noos_timer *t)
{
	for (struct noos_timer **p = &armed; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			break;
		}
	t->next = NULL;
}

static void insert_timer(struct noos_timer *t)
{
	struct noos_timer **p = &armed;
	while (*p && (*p)->deadline <= t->deadline)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

/* After firing: the next period that is still ahead of now, or disarmed. */
static void rearm_after_firing(struct noos_timer *t, uint64_t now)
{
	if (!t->period) {
		t->deadline = 0;
		return;
	}
	uint64_t missed = (now - t->deadline) / t->period;
	t->deadline += (missed + 1) * t->period;
	insert_timer(t);
}

static void *service_main(void *unused)
{
	(void)unused;
	noos_mutex_lock(&timers_lock);
	for (;;) {
		uint64_t now = noos_time_ns();
		if (!armed) {
			noos_cond_wait(&timers_changed, &timers_lock);
			continue;
		}
		if (armed->deadline > now) {
			noos_cond_timedwait(&timers_changed, &timers_lock, armed->deadline - now);
			continue;
		}
		struct noos_timer *t = armed;
		armed = t->next;
		rearm_after_firing(t, now);
		running = t;
		void (*fn)(void *) = t->fn;
		void *arg = t->arg;
		noos_mutex_unlock(&timers_lock);
		fn(arg);
		noos_mutex_lock(&timers_lock);
		running = NULL;
		noos_cond_broadcast(&callback_done);
	}
	return NULL;
}

/* Called with timers_lock held. */
static int start_service(void)
{
	if (service_started)
		return 0;
	struct noos_thread_opts o = {.name = "timers", .flags = NOOS_THREAD_DETACHED};
	int err = noos_thread_create(&service, service_main, NULL, &o);
	if (err == 0)
		service_started = true;
	return err;
}

int noos_timer_create(noos_timer_t **out, void (*fn)(void *arg), void *arg)
{
	if (!out || !fn)
		return -EINVAL;
	struct noos_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	noos_mutex_lock(&timers_lock);
	int err = start_service();
	noos_mutex_unlock(&timers_lock);
	if (err) {
		free(t);
		return err;
	}
	t->fn = fn;
	t->arg = arg;
	*out = t;
	return 0;
}

int noos_timer_arm(noos_timer_t *t, uint64_t delay_ns, uint64_t period_ns)
{
	if (!t)
		return -EINVAL;
	uint64_t now = noos_time_ns();
	noos_mutex_lock(&timers_lock);
	unlink_timer(t);
	t->deadline = delay_ns > UINT64_MAX - now ? UINT64_MAX : now + delay_ns;
	if (t->deadline == 0)
		t->deadline = 1;
	t->period = period_ns;
	insert_timer(t);
	noos_cond_broadcast(&timers_changed);
	noos_mutex_unlock(&timers_lock);
	return 0;
}

/* Outside its own callback, waits until a callback of t that is running has returned. */
static void wait_callback_done(struct noos_timer *t)
{
	while (running == t && noos_thread_self() != service)
		noos_cond_wait(&callback_done, &timers_lock);
}

int noos_timer_cancel(noos_timer_t *t)
{
	if (!t)
		return -EINVAL;
	noos_mutex_lock(&timers_lock);
	int was_armed = t->deadline != 0;
	unlink_timer(t);
	t->deadline = 0;
	wait_callback_done(t);
	noos_mutex_unlock(&timers_lock);
	return was_armed;
}

int noos_timer_delete(noos_timer_t *t)
{
	if (!t)
		return -EINVAL;
	noos_mutex_lock(&timers_lock);
	if (running == t && noos_thread_self() == service) {
		noos_mutex_unlock(&timers_lock);
		return -EBUSY; /* a callback cannot free the timer it runs for */
	}
	unlink_timer(t);
	wait_callback_done(t);
	noos_mutex_unlock(&timers_lock);
	free(t);
	return 0;
}
