/*
 * The scheduler: threads on every CPU, each CPU with its own run queue
 * (runq.c) and timer queue (timerq.c).
 *
 * Policy. Strict priorities (higher runs first); round robin among equal
 * priorities with a SLICE_NS time slice, enforced by the CPU's one-shot timer
 * (cpu_timer_oneshot), which is armed only for the earliest of the slice
 * end (while a thread runs) and the CPU's sleep deadlines: an idle CPU has
 * no tick at all and waits in arch_cpu_idle. A woken or new thread goes to
 * an idle CPU it may run on (its last one preferred), else to its last CPU;
 * a CPU with nothing to do steals from the others' queues. A thread that
 * becomes ready on a CPU that is idle, or that runs something of lower
 * priority, gets that CPU at once (a wakeup IPI, or the end of this
 * interrupt).
 *
 * Locking. Each CPU's `lock` guards its run queue, its `current`, and the
 * state of every thread whose `cpu` is that CPU; a thread's `cpu` changes
 * only under the old CPU's lock, while the thread is in no queue. Each CPU's
 * `tq_lock` guards its timer queue. Order: a waiters' lock (futex bucket,
 * thread lock) or tq_lock, then one run-queue lock; never two run-queue
 * locks at once, and nothing allocates or prints under them. Everything
 * here runs with interrupts off (spin_lock masks them).
 *
 * Switching. A thread's registers stay live on its CPU until the switch
 * away has saved them: on_cpu is cleared only afterwards, by the next thread
 * on that CPU (finish_switch). So a preempted thread goes back into a queue
 * only then, and a thread woken while still switching out is queued by
 * finish_switch, never by the waker: a queued thread always has on_cpu
 * clear, and nobody ever waits for a switch to finish (which is what makes
 * two CPUs trading threads deadlock-free).
 *
 * FP/SIMD state is saved and restored at every switch, eagerly, for every
 * thread that has an area (all but the idle threads): correctness first,
 * and kernel code never touches those registers, so interrupts need
 * nothing. The TLS base is switched too.
 */
#include <errno.h>
#include <string.h>

#include "noos.h"
#include "rt.h"

#define SLICE_NS         10000000ull /* round robin among equal priorities */
#define IDLE_STACK_BYTES 16384
#define NO_DEADLINE      UINT64_MAX
/*
 * An idle CPU looks for work this long before it halts. A halted vCPU is a
 * sleeping host thread, and waking one costs the host a wakeup and a
 * reschedule (measured under QEMU TCG on a busy host: about 0.7 ms per
 * cross-CPU wakeup, against tens of microseconds while polling), so the
 * short poll pays off for threads that hand work back and forth, as
 * Linux's guest halt-polling does. It is short enough to cost little.
 */
#define IDLE_POLL_NS 100000ull

struct sched_cpu {
	struct spinlock lock; /* guards rq, current and its threads' state (see above) */
	struct runq rq;
	struct thread *current;
	struct thread *prev; /* switched away from, for finish_switch; this CPU only */
	bool need_resched;   /* something better is queued: switch at the next chance */
	bool rotate;         /* current's slice is over or it yielded: equal priorities go first */
	bool in_hook;        /* in the timer or IPI hook, which reschedules by itself */
	bool polling;        /* the idle thread polls for work: no IPI needed to wake it */
	uint64_t slice_end;
	uint64_t armed; /* the arch timer's deadline, NO_DEADLINE when off; this CPU only */
	struct spinlock tq_lock; /* guards tq */
	struct timerq tq;
	uint64_t tq_next; /* timerq_next(&tq), read without tq_lock */
	unsigned id;
	struct thread idle_thread;
	uint64_t switches, preemptions, steals; /* statistics */
};

static struct sched_cpu cpus[ARCH_MAX_CPUS];
static uint64_t online_mask; /* CPUs running the scheduler */
static uint64_t idle_mask;   /* CPUs running their idle thread: a placement hint */

static void finish_switch(void);

static struct sched_cpu *this_sc(void)
{
	return arch_this_cpu()->rt;
}

static struct thread *thread_of(const struct runq_node *n)
{
	return container_of(n, struct thread, rq);
}

static bool allowed_on(const struct thread *t, unsigned cpu)
{
	return (t->affinity >> cpu) & 1;
}

static void set_flag(bool *f, bool v)
{
	__atomic_store_n(f, v, __ATOMIC_RELAXED);
}

static bool get_flag(const bool *f)
{
	return __atomic_load_n(f, __ATOMIC_RELAXED);
}

static unsigned thread_cpu(const struct thread *t)
{
	return __atomic_load_n(&t->cpu, __ATOMIC_ACQUIRE);
}

static void set_thread_cpu(struct thread *t, unsigned cpu)
{
	__atomic_store_n(&t->cpu, cpu, __ATOMIC_RELEASE);
}

uint64_t sched_online_mask(void)
{
	return __atomic_load_n(&online_mask, __ATOMIC_ACQUIRE);
}

/* Lock the CPU whose lock guards t's state (t may move while we look). */
static struct sched_cpu *lock_thread(struct thread *t)
{
	for (;;) {
		struct sched_cpu *sc = &cpus[thread_cpu(t)];
		spin_lock(&sc->lock);
		if (thread_cpu(t) == sc->id)
			return sc;
		spin_unlock(&sc->lock);
	}
}

/* ---- placement ---- */

/* The first CPU in mask after `after`, wrapping around; mask is not empty. */
static unsigned next_in(uint64_t mask, unsigned after)
{
	uint64_t later = after >= 63 ? 0 : mask & (~0ull << (after + 1));
	return (unsigned)__builtin_ctzll(later ? later : mask);
}

/* Where a thread that became ready should run: an idle CPU it may use, its last one first. */
static unsigned select_cpu(const struct thread *t)
{
	uint64_t ok = t->affinity & sched_online_mask();
	unsigned last = thread_cpu(t);
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
static void kick(struct sched_cpu *sc)
{
	struct sched_cpu *me = this_sc();
	if (!me || sc != me) {
		if (needs_ipi(sc))
			arch_ipi_send(sc->id, ARCH_IPI_WAKEUP);
	}
	else if (!get_flag(&me->in_hook) && !me->current->idle)
		arch_ipi_send(me->id, ARCH_IPI_WAKEUP); /* taken when interrupts are on again */
}

/* t waits in a busy CPU's queue: wake an idle CPU that may run it, to steal it. */
static void kick_idle(const struct thread *t, unsigned queued_on)
{
	uint64_t idle = __atomic_load_n(&idle_mask, __ATOMIC_RELAXED) & t->affinity &
	                sched_online_mask() & ~(1ull << queued_on);
	if (idle) {
		unsigned cpu = next_in(idle, queued_on);
		if (needs_ipi(&cpus[cpu]))
			arch_ipi_send(cpu, ARCH_IPI_WAKEUP);
	}
}

/* Queue t (READY, in no queue, cpu already `target`) on target. Interrupts off. */
static void enqueue(struct thread *t, unsigned target)
{
	struct sched_cpu *sc = &cpus[target];
	spin_lock(&sc->lock);
	runq_push(&sc->rq, &t->rq, t->prio, false);
	struct thread *cur = sc->current;
	bool preempt = cur->idle || t->prio > cur->prio;
	if (preempt)
		set_flag(&sc->need_resched, true);
	spin_unlock(&sc->lock);
	if (preempt)
		kick(sc);
	else
		kick_idle(t, target);
}

/* ---- the timer ---- */

/* Program this CPU's timer for the earliest of its sleep deadlines and the slice end. */
static void arm_timer(struct sched_cpu *sc)
{
	uint64_t d = __atomic_load_n(&sc->tq_next, __ATOMIC_RELAXED);
	if (!sc->current->idle && sc->slice_end < d)
		d = sc->slice_end;
	if (d == sc->armed)
		return;
	if (d == NO_DEADLINE)
		cpu_timer_cancel();
	else
		cpu_timer_oneshot(d);
	sc->armed = d;
}

static void tq_update(struct sched_cpu *sc)
{
	__atomic_store_n(&sc->tq_next, timerq_next(&sc->tq), __ATOMIC_RELAXED);
}

/* Wake the threads whose deadline passed, under tq_lock (so none can be freed meanwhile). */
static void expire_timers(struct sched_cpu *sc, uint64_t now)
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
	struct sched_cpu *tc = &cpus[t->timer_cpu];
	spin_lock(&tc->tq_lock);
	if (t->timer.queued) {
		timerq_remove(&tc->tq, &t->timer);
		tq_update(tc);
	}
	spin_unlock(&tc->tq_lock);
}

/* ---- switching ---- */

/* The best thread for this CPU: prev if it may go on, else the queue's first, else idle. */
static struct thread *pick_next(struct sched_cpu *sc, struct thread *prev)
{
	bool runnable = !prev->idle &&
	                (prev->state == THREAD_RUNNING || prev->state == THREAD_READY) &&
	                allowed_on(prev, sc->id);
	int top = runq_top(&sc->rq);
	if (runnable && (top < prev->prio || (top == prev->prio && !sc->rotate)))
		return prev;
	if (top >= 0)
		return thread_of(runq_pop(&sc->rq));
	return runnable ? prev : &sc->idle_thread;
}

static void set_idle_bit(unsigned cpu, bool idle)
{
	if (idle)
		__atomic_fetch_or(&idle_mask, 1ull << cpu, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&idle_mask, ~(1ull << cpu), __ATOMIC_RELAXED);
}

/* Registers: FP/SIMD and TLS by hand, then the callee-saved ones and the stack. */
static void switch_to(struct thread *prev, struct thread *next)
{
	if (prev->fpu && __atomic_load_n(&prev->state, __ATOMIC_RELAXED) != THREAD_DEAD)
		arch_fpu_save(prev->fpu);
	if (next->fpu)
		arch_fpu_restore(next->fpu);
	uintptr_t tls = arch_tls_get();
	if (!prev->idle)
		prev->tls = tls;
	if (!next->idle && next->tls != tls)
		arch_tls_set(next->tls);
	arch_context_switch(&prev->sp, next->sp);
}

/*
 * Run the best thread this CPU has. Interrupts off, no spinlock held.
 * Returns in the calling thread once it runs again, maybe on another CPU.
 */
static void sched_switch(void)
{
	struct sched_cpu *sc = this_sc();
	struct thread *prev = sc->current;
	uint64_t now = arch_time_ns();
	spin_lock(&sc->lock);
	struct thread *next = pick_next(sc, prev);
	set_flag(&sc->need_resched, false);
	sc->rotate = false;
	if (next == prev) {
		if (!prev->idle)
			prev->state = THREAD_RUNNING; /* woken before its block took effect */
		if (now >= sc->slice_end)
			sc->slice_end = now + SLICE_NS;
		spin_unlock(&sc->lock);
		arm_timer(sc);
		return;
	}
	if (prev->state == THREAD_RUNNING && !prev->idle)
		prev->state = THREAD_READY; /* finish_switch queues it */
	next->state = THREAD_RUNNING;
	next->on_cpu = true;
	sc->current = next;
	sc->prev = prev;
	sc->slice_end = now + SLICE_NS;
	sc->switches++;
	set_idle_bit(sc->id, next->idle);
	spin_unlock(&sc->lock);
	switch_to(prev, next);
	finish_switch();
}

/* prev was preempted or woke while switching out: queue it here or where it may run. */
static void requeue(struct sched_cpu *sc, struct thread *prev, int *remote)
{
	if (allowed_on(prev, sc->id)) {
		runq_push(&sc->rq, &prev->rq, prev->prio, false);
		return;
	}
	*remote = (int)select_cpu(prev);
	set_thread_cpu(prev, (unsigned)*remote);
}

/*
 * The second half of a switch, run by the thread switched to, on the CPU
 * that switched: prev's registers are saved now, so it may run elsewhere.
 */
static void finish_switch(void)
{
	struct sched_cpu *sc = this_sc();
	struct thread *prev = sc->prev;
	int remote = -1;
	bool queued = false;
	sc->prev = NULL;
	spin_lock(&sc->lock);
	if (prev->state == THREAD_DEAD) {
		if (prev->reap)
			thread_reap_later(prev);
	} else if (prev->state == THREAD_READY && !prev->idle) {
		requeue(sc, prev, &remote);
		queued = remote < 0;
	}
	/* The last touch of a DEAD prev: its joiner may free it from here on. */
	__atomic_store_n(&prev->on_cpu, false, __ATOMIC_RELEASE);
	spin_unlock(&sc->lock);
	if (remote >= 0)
		enqueue(prev, (unsigned)remote);
	else if (queued)
		kick_idle(prev, sc->id);
	arm_timer(sc);
}

void sched_started(void)
{
	finish_switch();
}

/* ---- the hooks: the end of a timer interrupt or an IPI, interrupts off ---- */

static void timer_hook(void)
{
	struct sched_cpu *sc = this_sc();
	if (!sc)
		return; /* a CPU that has not joined the scheduler yet */
	uint64_t now = arch_time_ns();
	sc->armed = NO_DEADLINE; /* it fired */
	set_flag(&sc->in_hook, true);
	expire_timers(sc, now);
	if (!sc->current->idle && now >= sc->slice_end) {
		sc->rotate = true;
		set_flag(&sc->need_resched, true);
	}
	set_flag(&sc->in_hook, false);
	if (get_flag(&sc->need_resched)) {
		sc->preemptions++;
		sched_switch();
	} else {
		arm_timer(sc);
	}
}

static void ipi_hook(enum arch_ipi kind)
{
	if (kind == ARCH_IPI_TLB) {
		tlb_ipi();
		return;
	}
	struct sched_cpu *sc = this_sc();
	if (sc && get_flag(&sc->need_resched))
		sched_switch();
}

/* ---- the idle loop and stealing ---- */

static bool steal_ok(const struct runq_node *n, void *cpu)
{
	return allowed_on(thread_of(n), (unsigned)(uintptr_t)cpu);
}

/* Take a thread another CPU has queued but not running, into this CPU's queue. */
static bool steal(struct sched_cpu *me)
{
	uint64_t others = sched_online_mask() & ~(1ull << me->id);
	for (unsigned v = me->id; others; others &= ~(1ull << v)) {
		v = next_in(others, v);
		struct sched_cpu *vc = &cpus[v];
		if (runq_count(&vc->rq) == 0)
			continue;
		spin_lock(&vc->lock);
		struct runq_node *n = runq_take_if(&vc->rq, steal_ok, (void *)(uintptr_t)me->id);
		if (n)
			set_thread_cpu(thread_of(n), me->id);
		spin_unlock(&vc->lock);
		if (n) {
			spin_lock(&me->lock);
			runq_push(&me->rq, n, thread_of(n)->prio, false);
			spin_unlock(&me->lock);
			me->steals++;
			return true;
		}
	}
	return false;
}

static bool has_work(struct sched_cpu *sc)
{
	return runq_count(&sc->rq) > 0 || get_flag(&sc->need_resched);
}

/*
 * Spin a little for work before halting (IDLE_POLL_NS); interrupts stay
 * off. Meanwhile wakers skip the IPI (needs_ipi), so the last look after
 * `polling` is cleared is what keeps a wakeup from being lost.
 */
static bool poll_for_work(struct sched_cpu *sc)
{
	uint64_t end = arch_time_ns() + IDLE_POLL_NS;
	__atomic_store_n(&sc->polling, true, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	bool found = false;
	do {
		found = has_work(sc);
		arch_cpu_relax();
	} while (!found && arch_time_ns() < end);
	__atomic_store_n(&sc->polling, false, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return found || has_work(sc) || steal(sc);
}

/*
 * A CPU's idle thread. It halts with interrupts off between its last look
 * at the queues and the wait (arch_cpu_idle enables and waits in one step),
 * and whoever queues work for it sees current == idle and sends an IPI, so
 * no wakeup is lost in between.
 */
static void idle_loop(struct sched_cpu *sc) __attribute__((noreturn));
static void idle_loop(struct sched_cpu *sc)
{
	for (;;) {
		arch_irq_enable();
		thread_reap();
		arch_irq_disable();
		if (has_work(sc) || steal(sc) || poll_for_work(sc)) {
			sched_switch();
			continue;
		}
		arm_timer(sc);
		arch_cpu_idle();
	}
}

static void idle_start(void *arg)
{
	finish_switch();
	idle_loop(arg);
}

/* ---- joining: the boot CPU, then each other CPU ---- */

static struct sched_cpu *cpu_setup(struct cpu *c)
{
	struct sched_cpu *sc = &cpus[c->id];
	runq_init(&sc->rq);
	timerq_init(&sc->tq);
	sc->id = c->id;
	sc->tq_next = NO_DEADLINE;
	sc->armed = NO_DEADLINE;
	struct thread *idle = &sc->idle_thread;
	idle->idle = true;
	idle->static_stack = true;
	idle->state = THREAD_RUNNING;
	idle->cpu = c->id;
	idle->affinity = 1ull << c->id;
	snprintf(idle->name, sizeof(idle->name), "idle%u", c->id);
	return sc;
}

static void cpu_online(struct cpu *c, struct sched_cpu *sc)
{
	__atomic_store_n(&c->rt, sc, __ATOMIC_RELEASE);
	__atomic_fetch_or(&online_mask, 1ull << sc->id, __ATOMIC_ACQ_REL);
}

/*
 * On the boot CPU, after arch_time_init: the boot context becomes thread
 * "boot" (pinned to CPU 0; rt_boot ends it once main runs), and CPU 0 gets
 * an idle thread with a stack of its own.
 */
void sched_init(void)
{
	struct cpu *c = arch_this_cpu();
	struct sched_cpu *sc = cpu_setup(c);
	void *top = stack_alloc(IDLE_STACK_BYTES, "idle0");
	struct thread *boot = thread_boot();
	if (!top || !boot)
		panic("sched: no memory for the boot thread or cpu 0's idle stack");
	sc->idle_thread.sp = arch_context_init((uintptr_t)top, idle_start, sc);
	sc->current = boot;
	sc->slice_end = arch_time_ns() + SLICE_NS;
	cpu_online(c, sc);
	cpu_timer_set_handler(timer_hook);
	arch_ipi_set_handler(ipi_hook);
}

/* arch_smp_start's entry on each other CPU: interrupts off, on the CPU's own stack. */
void sched_cpu_entry(struct cpu *self)
{
	struct sched_cpu *sc = cpu_setup(self);
	sc->idle_thread.on_cpu = true;
	sc->current = &sc->idle_thread;
	set_idle_bit(sc->id, true);
	cpu_online(self, sc);
	idle_loop(sc);
}

/* ---- the calls the rest of rt/ makes ---- */

struct thread *sched_current(void)
{
	unsigned long f = arch_irq_save();
	struct sched_cpu *sc = this_sc();
	struct thread *t = sc ? sc->current : NULL;
	arch_irq_restore(f);
	return t;
}

/* A new thread (READY, in no queue): on `cpu` when >= 0, else where select_cpu says. */
void sched_add(struct thread *t, int cpu)
{
	unsigned long f = arch_irq_save();
	unsigned target = cpu >= 0 ? (unsigned)cpu : select_cpu(t);
	t->state = THREAD_READY;
	set_thread_cpu(t, target);
	enqueue(t, target);
	arch_irq_restore(f);
}

/* The current thread is blocked from now on (under its waiters' lock); returns the block's seq. */
uint32_t sched_block_prepare(void)
{
	struct sched_cpu *sc = this_sc();
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
	struct sched_cpu *sc = this_sc();
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
	struct sched_cpu *sc = lock_thread(t);
	bool woke = false, queue_now = false;
	unsigned target = 0;
	if (t->state == THREAD_BLOCKED && t->block_seq == seq) {
		woke = true;
		t->state = THREAD_READY;
		queue_now = !t->on_cpu; /* else finish_switch queues it */
		if (queue_now) {
			target = select_cpu(t);
			set_thread_cpu(t, target);
		}
	}
	spin_unlock(&sc->lock);
	if (queue_now)
		enqueue(t, target);
	arch_irq_restore(f);
	return woke;
}

void sched_yield(void)
{
	unsigned long f = arch_irq_save();
	struct sched_cpu *sc = this_sc();
	if (sc && !sc->current->idle) {
		sc->rotate = true;
		sched_switch();
	}
	arch_irq_restore(f);
}

/* The current thread ends; reap: free it once switched away from (detached). */
void sched_exit(bool reap)
{
	arch_irq_disable();
	struct sched_cpu *sc = this_sc();
	struct thread *t = sc->current;
	spin_lock(&sc->lock);
	t->state = THREAD_DEAD;
	t->reap = reap;
	spin_unlock(&sc->lock);
	sched_switch();
	panic("thread %s ran after it exited", t->name);
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

/* Move t off CPUs the new mask excludes: now if queued, at its next switch if running. */
int sched_set_affinity(struct thread *t, uint64_t mask)
{
	if (!(mask & sched_online_mask()) || t->idle)
		return -EINVAL;
	unsigned long f = arch_irq_save();
	struct sched_cpu *sc = lock_thread(t);
	t->affinity = mask;
	int target = -1;
	bool resched = false;
	if (!allowed_on(t, sc->id)) {
		if (t->rq.queued) {
			runq_remove(&sc->rq, &t->rq);
			target = (int)select_cpu(t);
			set_thread_cpu(t, (unsigned)target);
		} else if (sc->current == t) {
			set_flag(&sc->need_resched, true);
			resched = true;
		}
	}
	spin_unlock(&sc->lock);
	if (target >= 0)
		enqueue(t, (unsigned)target);
	if (resched)
		kick(sc); /* on this CPU: the IPI is taken as interrupts come back on */
	arch_irq_restore(f);
	return 0;
}

int sched_set_priority(struct thread *t, unsigned prio)
{
	if (prio < NOOS_PRIO_MIN || prio > NOOS_PRIO_MAX || t->idle)
		return -EINVAL;
	unsigned long f = arch_irq_save();
	struct sched_cpu *sc = lock_thread(t);
	t->prio = (uint8_t)prio;
	if (t->rq.queued) {
		runq_remove(&sc->rq, &t->rq);
		runq_push(&sc->rq, &t->rq, prio, false);
	}
	bool check = t->rq.queued || sc->current == t; /* it may now beat, or lose to, another */
	if (check)
		set_flag(&sc->need_resched, true);
	spin_unlock(&sc->lock);
	if (check)
		kick(sc);
	arch_irq_restore(f);
	return 0;
}

/* ---- the public calls that are about CPUs ---- */

unsigned noos_cpu_count(void)
{
	return (unsigned)__builtin_popcountll(sched_online_mask());
}

unsigned noos_cpu_id(void)
{
	return arch_cpu_id();
}

int noos_sched_stats(unsigned cpu, struct noos_sched_stats *st)
{
	if (!st || cpu >= ARCH_MAX_CPUS || !((sched_online_mask() >> cpu) & 1))
		return -EINVAL;
	struct sched_cpu *sc = &cpus[cpu];
	st->switches = __atomic_load_n(&sc->switches, __ATOMIC_RELAXED);
	st->preemptions = __atomic_load_n(&sc->preemptions, __ATOMIC_RELAXED);
	st->steals = __atomic_load_n(&sc->steals, __ATOMIC_RELAXED);
	st->queued = runq_count(&sc->rq);
	return 0;
}
