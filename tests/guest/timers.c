/*
 * timers: noos_timer_* one-shot and periodic timers. Checks only what holds
 * however slow the host is: nothing fires early, a one-shot fires exactly
 * once, a periodic timer keeps firing and keeps its phase, cancel and delete
 * stop it for good, re-arming moves the deadline, and bad calls are refused.
 */
#include <errno.h>
#include <stdio.h>

#include "noos.h"
#include "fail.h"

#define MS 1000000ull

struct probe {
	volatile unsigned count;
	uint64_t armed_at, first_at, last_at;
	uint64_t times[64];
};

static void on_fire(void *arg)
{
	struct probe *p = arg;
	uint64_t now = noos_time_ns();
	if (p->count < 64)
		p->times[p->count] = now;
	if (p->count == 0)
		p->first_at = now;
	p->last_at = now;
	__atomic_add_fetch(&p->count, 1, __ATOMIC_SEQ_CST);
}

static void wait_for_count(struct probe *p, unsigned n, uint64_t limit_ns)
{
	uint64_t end = noos_time_ns() + limit_ns;
	while (__atomic_load_n(&p->count, __ATOMIC_SEQ_CST) < n && noos_time_ns() < end)
		noos_sleep_ns(MS);
}

static void one_shot(void)
{
	struct probe p = {0};
	noos_timer_t *t;
	if (noos_timer_create(&t, on_fire, &p) != 0) {
		FAIL("one-shot: create\n");
		return;
	}
	p.armed_at = noos_time_ns();
	noos_timer_arm(t, 20 * MS, 0);
	wait_for_count(&p, 1, 10000 * MS);
	noos_sleep_ns(60 * MS);
	if (p.count != 1)
		FAIL("one-shot fired %u times\n", p.count);
	if (p.first_at < p.armed_at + 20 * MS)
		FAIL("one-shot fired %lu ns early\n",
		     (unsigned long)(p.armed_at + 20 * MS - p.first_at));
	if (noos_timer_cancel(t) != 0)
		FAIL("cancel of a fired one-shot says it was armed\n");
	noos_timer_delete(t);
	printf("timers: one-shot after %lu us\n",
	       (unsigned long)((p.first_at - p.armed_at) / 1000));
}

static void periodic(void)
{
	struct probe p = {0};
	noos_timer_t *t;
	noos_timer_create(&t, on_fire, &p);
	const uint64_t period = 10 * MS;
	p.armed_at = noos_time_ns();
	noos_timer_arm(t, period, period);
	wait_for_count(&p, 5, 20000 * MS);
	if (noos_timer_cancel(t) != 1)
		FAIL("cancel of an armed periodic timer says it was not armed\n");
	unsigned n = p.count;
	if (n < 5)
		FAIL("periodic fired only %u times\n", n);
	/* Firing k (from 0) is never before armed + (k + 1) periods: no drift forwards. */
	for (unsigned k = 0; k < n && k < 64; k++)
		if (p.times[k] < p.armed_at + (k + 1) * period)
			FAIL("periodic firing %u came %lu ns early\n", k,
			     (unsigned long)(p.armed_at + (k + 1) * period - p.times[k]));
	noos_sleep_ns(50 * MS);
	if (p.count != n)
		FAIL("periodic fired %u times after cancel\n", p.count - n);
	noos_timer_delete(t);
	printf("timers: periodic fired %u times\n", n);
}

static void rearm_and_delete(void)
{
	struct probe a = {0}, b = {0};
	noos_timer_t *ta, *tb;
	noos_timer_create(&ta, on_fire, &a);
	noos_timer_create(&tb, on_fire, &b);
	a.armed_at = noos_time_ns();
	noos_timer_arm(ta, 10 * MS, 0);
	noos_timer_arm(ta, 80 * MS, 0); /* moves the deadline later */
	noos_timer_arm(tb, 10 * MS, 0);
	noos_timer_delete(tb); /* deleted before it fired: never fires */
	wait_for_count(&a, 1, 10000 * MS);
	noos_sleep_ns(30 * MS);
	if (a.count != 1 || a.first_at < a.armed_at + 80 * MS)
		FAIL("re-armed timer: %u firings, first after %lu ns\n", a.count,
		     (unsigned long)(a.first_at - a.armed_at));
	if (b.count != 0)
		FAIL("deleted timer fired %u times\n", b.count);
	noos_timer_delete(ta);
}

static void bad_calls(void)
{
	noos_timer_t *t;
	if (noos_timer_create(&t, NULL, NULL) != -EINVAL ||
	    noos_timer_create(NULL, on_fire, NULL) != -EINVAL)
		FAIL("create without fn or out accepted\n");
	if (noos_timer_arm(NULL, 1, 0) != -EINVAL || noos_timer_cancel(NULL) != -EINVAL ||
	    noos_timer_delete(NULL) != -EINVAL)
		FAIL("NULL timer accepted\n");
}

int main(void)
{
	one_shot();
	periodic();
	rearm_and_delete();
	bad_calls();
	if (failures)
		return 1;
	printf("timers: ok\n");
	return 0;
}
