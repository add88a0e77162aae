/*
 * The scheduler's placement (sched.c has the policy): which CPU a thread
 * that became ready goes to, making that CPU look at its queue (a wakeup
 * IPI, or nothing when it polls), idle CPUs stealing from busy ones, and
 * the calls that move a thread (affinity) or reorder it (priority).
 */
#include <errno.h>

#include "noos.h"
#include "rt.h"

static uint64_t idle_mask; /* CPUs running their idle thread: a placement hint */

/* The first CPU in mask after `after`, wrapping around; mask is not empty. */
static unsigned next_in(uint64_t mask, unsigned after)
{
	uint64_t later = after >= 63 ? 0 : mask & (~0ull << (after + 1));
	return (unsigned)__builtin_ctzll(later ? later : mask);
}

/* Where a thread that became ready should run: an idle CPU it may use, its last one first. */
unsigned sched_select_cpu(const struct thread *t)
{
	uint64_t ok = t->affinity & sched_online_mask();
	unsigned last = sched_thread_cpu(t);
	if (!ok)
		panic("thread %s: affinity %#lx has no online CPU", t->name,
		      (unsigned long)t->affinity);
	uint64_t idle = __atomic_load_n(&idle_mask, __ATOMIC_RELAXED) & ok;
	if ((idle >> last) & 1)
		return last;
	if (idle)
		return next_in(idle, last);
	return ((ok >> last) & 1) ? last : next_in(ok, last);
}

/*
 * Does sc need an IPI to notice work queued for it? Not while its idle
 * thread polls: it clears `polling` and then looks at its queue once more
 * before it halts, and we queued before we look at `polling` (with a full
 * fence on both sides), so one of us sees the other.
 */
static bool needs_ipi(struct sched_cpu *sc)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !__atomic_load_n(&sc->polling, __ATOMIC_RELAXED);
}

/* Make sc look at its run queue: an IPI, unless sc is this CPU and will look anyway. */
void sched_kick(struct sched_cpu *sc)
{
	struct sched_cpu *me = sched_this_cpu();
	if (!me || sc != me) {
		if (needs_ipi(sc))
			arch_ipi_send(sc->id, ARCH_IPI_WAKEUP);
	} else if (!sched_flag_get(&me->in_hook) && !me->current->idle)
		arch_ipi_send(me->id, ARCH_IPI_WAKEUP); /* taken when interrupts are on again */
}

/* t waits in a busy CPU's queue: wake an idle CPU that may run it, to steal it. */
void sched_kick_idle(const struct thread *t, unsigned queued_on)
{
	uint64_t idle = __atomic_load_n(&idle_mask, __ATOMIC_RELAXED) & t->affinity &
	                sched_online_mask() & ~(1ull << queued_on);
	if (idle) {
		unsigned cpu = next_in(idle, queued_on);
		if (needs_ipi(&sched_cpus[cpu]))
			arch_ipi_send(cpu, ARCH_IPI_WAKEUP);
	}
}

/* Queue t (READY, in no queue, cpu already `target`) on target. Interrupts off. */
void sched_enqueue(struct thread *t, unsigned target)
{
	struct sched_cpu *sc = &sched_cpus[target];
	spin_lock(&sc->lock);
	runq_push(&sc->rq, &t->rq, t->prio, false);
	struct thread *cur = sc->current;
	bool preempt = cur->idle || t->prio > cur->prio;
	if (preempt)
		sched_flag_set(&sc->need_resched, true);
	spin_unlock(&sc->lock);
	if (preempt)
		sched_kick(sc);
	else
		sched_kick_idle(t, target);
}

void sched_set_idle(unsigned cpu, bool idle)
{
	if (idle)
		__atomic_fetch_or(&idle_mask, 1ull << cpu, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&idle_mask, ~(1ull << cpu), __ATOMIC_RELAXED);
}

/* ---- stealing ---- */

static bool steal_ok(const struct runq_node *n, void *cpu)
{
	return sched_allowed_on(sched_thread_of(n), (unsigned)(uintptr_t)cpu);
}

/* Take a thread another CPU has queued but not running, into this CPU's queue. */
bool sched_steal(struct sched_cpu *me)
{
	uint64_t others = sched_online_mask() & ~(1ull << me->id);
	for (unsigned v = me->id; others; others &= ~(1ull << v)) {
		v = next_in(others, v);
		struct sched_cpu *vc = &sched_cpus[v];
		if (runq_count(&vc->rq) == 0)
			continue;
		spin_lock(&vc->lock);
		struct runq_node *n = runq_take_if(&vc->rq, steal_ok, (void *)(uintptr_t)me->id);
		if (n)
			sched_set_thread_cpu(sched_thread_of(n), me->id);
		spin_unlock(&vc->lock);
		if (n) {
			spin_lock(&me->lock);
			runq_push(&me->rq, n, sched_thread_of(n)->prio, false);
			spin_unlock(&me->lock);
			me->steals++;
			return true;
		}
	}
	return false;
}

/* ---- the calls the rest of rt/ makes ---- */

/* A new thread (READY, in no queue): on `cpu` when >= 0, else where sched_select_cpu says. */
void sched_add(struct thread *t, int cpu)
{
	unsigned long f = arch_irq_save();
	unsigned target = cpu >= 0 ? (unsigned)cpu : sched_select_cpu(t);
	t->state = THREAD_READY;
	sched_set_thread_cpu(t, target);
	sched_enqueue(t, target);
	arch_irq_restore(f);
}

/* Move t off CPUs the new mask excludes: now if queued, at its next switch if running. */
int sched_set_affinity(struct thread *t, uint64_t mask)
{
	if (!(mask & sched_online_mask()) || t->idle)
		return -EINVAL;
	unsigned long f = arch_irq_save();
	struct sched_cpu *sc = sched_lock_thread(t);
	t->affinity = mask;
	int target = -1;
	bool resched = false;
	if (!sched_allowed_on(t, sc->id)) {
		if (t->rq.queued) {
			runq_remove(&sc->rq, &t->rq);
			target = (int)sched_select_cpu(t);
			sched_set_thread_cpu(t, (unsigned)target);
		} else if (sc->current == t) {
			sched_flag_set(&sc->need_resched, true);
			resched = true;
		}
	}
	spin_unlock(&sc->lock);
	if (target >= 0)
		sched_enqueue(t, (unsigned)target);
	if (resched)
		sched_kick(sc); /* on this CPU: the IPI is taken as interrupts come back on */
	arch_irq_restore(f);
	return 0;
}

int sched_set_priority(struct thread *t, unsigned prio)
{
	if (prio < NOOS_PRIO_MIN || prio > NOOS_PRIO_MAX || t->idle)
		return -EINVAL;
	unsigned long f = arch_irq_save();
	struct sched_cpu *sc = sched_lock_thread(t);
	t->prio = (uint8_t)prio;
	if (t->rq.queued) {
		runq_remove(&sc->rq, &t->rq);
		runq_push(&sc->rq, &t->rq, prio, false);
	}
	bool check = t->rq.queued || sc->current == t; /* it may now beat, or lose to, another */
	if (check)
		sched_flag_set(&sc->need_resched, true);
	spin_unlock(&sc->lock);
	if (check)
		sched_kick(sc);
	arch_irq_restore(f);
	return 0;
}
