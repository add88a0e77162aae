/*
 * The scheduler's blocking and waking (sched.c has the policy, rt.h the
 * pattern callers follow): a thread blocks with an optional deadline, which
 * sits in its CPU's timer queue (timerq.c) until it passes or the thread is
 * woken first; the timer hook (sched.c) expires the due ones. Each CPU's
 * tq_lock guards its timer queue.
 */
#include <errno.h>

#include "noos.h"
#include "rt.h"

static void tq_update(struct sched_cpu *sc)
{
	__atomic_store_n(&sc->tq_next, timerq_next(&sc->tq), __ATOMIC_RELAXED);
}

/* Wake the threads whose deadline passed, under tq_lock (so none can be freed meanwhile). */
void sched_expire_timers(struct sched_cpu *sc, uint64_t now)
{
	spin_lock(&sc->tq_lock);
	struct timer *tm;
	while ((tm = timerq_pop_due(&sc->tq, now)) != NULL) {
		struct thread *t = container_of(tm, struct thread, timer);
		sched_wake(t, t->timer_seq);
	}
	tq_update(sc);
	spin_unlock(&sc->tq_lock);
}

static void timer_add(struct sched_cpu *sc, struct thread *t, uint64_t deadline)
{
	spin_lock(&sc->tq_lock);
	t->timer.deadline = deadline;
	t->timer_seq = t->block_seq;
	t->timer_cpu = sc->id;
	timerq_insert(&sc->tq, &t->timer);
	tq_update(sc);
	spin_unlock(&sc->tq_lock);
}

/* Take t's timer out of whichever CPU's queue holds it, if it has not fired. */
static void timer_remove(struct thread *t)
{
	struct sched_cpu *tc = &sched_cpus[t->timer_cpu];
	spin_lock(&tc->tq_lock);
	if (t->timer.queued) {
		timerq_remove(&tc->tq, &t->timer);
		tq_update(tc);
	}
	spin_unlock(&tc->tq_lock);
}

/* ---- the calls the rest of rt/ makes ---- */

/* The current thread is blocked from now on (under its waiters' lock); returns the block's seq. */
uint32_t sched_block_prepare(void)
{
	struct sched_cpu *sc = sched_this_cpu();
	struct thread *t = sc->current;
	if (t->idle || arch_irq_enabled())
		panic("sched_block_prepare: %s",
		      t->idle ? "the idle thread cannot block" : "interrupts are on");
	spin_lock(&sc->lock);
	t->state = THREAD_BLOCKED;
	uint32_t seq = ++t->block_seq;
	spin_unlock(&sc->lock);
	return seq;
}

/* Switch away until sched_wake(current, seq) or the deadline (0: none) passes. */
void sched_block(uint64_t deadline)
{
	if (arch_in_interrupt())
		panic("sched_block in an interrupt handler");
	struct sched_cpu *sc = sched_this_cpu();
	struct thread *t = sc->current;
	if (deadline)
		timer_add(sc, t, deadline);
	sched_switch();
	if (deadline)
		timer_remove(t);
}

/* Make t runnable if it is still in block number seq; true if this call did it. Any context. */
bool sched_wake(struct thread *t, uint32_t seq)
{
	unsigned long f = arch_irq_save();
	struct sched_cpu *sc = sched_lock_thread(t);
	bool woke = false, queue_now = false;
	unsigned target = 0;
	if (t->state == THREAD_BLOCKED && t->block_seq == seq) {
		woke = true;
		t->state = THREAD_READY;
		queue_now = !t->on_cpu; /* else finish_switch queues it */
		if (queue_now) {
			target = sched_select_cpu(t);
			sched_set_thread_cpu(t, target);
		}
	}
	spin_unlock(&sc->lock);
	if (queue_now)
		sched_enqueue(t, target);
	arch_irq_restore(f);
	return woke;
}

/* Sleep until arch_time_ns() >= deadline; never returns early. */
int sched_sleep_until(uint64_t deadline)
{
	if (arch_in_interrupt())
		return -EPERM;
	if (!sched_current()) {
		while (arch_time_ns() < deadline)
			arch_cpu_relax();
		return 0;
	}
	unsigned long f = arch_irq_save();
	while (arch_time_ns() < deadline) {
		sched_block_prepare();
		sched_block(deadline);
	}
	arch_irq_restore(f);
	return 0;
}
