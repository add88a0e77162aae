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
 *
 * This file is the core: switching, the timer and IPI hooks, the idle loop
 * and CPUs joining. Where a ready thread goes (placement, kicks, stealing,
 * affinity and priority) is sched_place.c; blocking, waking and sleep
 * deadlines are sched_wait.c. struct sched_cpu, which they share, is in rt.h.
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

struct sched_cpu sched_cpus[ARCH_MAX_CPUS];
static uint64_t online_mask; /* CPUs running the scheduler */

static void finish_switch(void);

uint64_t sched_online_mask(void)
{
	return __atomic_load_n(&online_mask, __ATOMIC_ACQUIRE);
}

/* Lock the CPU whose lock guards t's state (t may move while we look). */
struct sched_cpu *sched_lock_thread(struct thread *t)
{
	for (;;) {
		struct sched_cpu *sc = &sched_cpus[sched_thread_cpu(t)];
		spin_lock(&sc->lock);
		if (sched_thread_cpu(t) == sc->id)
			return sc;
		spin_unlock(&sc->lock);
	}
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

/* ---- switching ---- */

/* The best thread for this CPU: prev if it may go on, else the queue's first, else idle. */
static struct thread *pick_next(struct sched_cpu *sc, struct thread *prev)
{
	bool runnable = !prev->idle &&
	                (prev->state == THREAD_RUNNING || prev->state == THREAD_READY) &&
	                sched_allowed_on(prev, sc->id);
	int top = runq_top(&sc->rq);
	if (runnable && (top < prev->prio || (top == prev->prio && !sc->rotate)))
		return prev;
	if (top >= 0)
		return sched_thread_of(runq_pop(&sc->rq));
	return runnable ? prev : &sc->idle_thread;
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
void sched_switch(void)
{
	struct sched_cpu *sc = sched_this_cpu();
	struct thread *prev = sc->current;
	uint64_t now = arch_time_ns();
	spin_lock(&sc->lock);
	struct thread *next = pick_next(sc, prev);
	sched_flag_set(&sc->need_resched, false);
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
	sched_set_idle(sc->id, next->idle);
	spin_unlock(&sc->lock);
	switch_to(prev, next);
	finish_switch();
}

/* prev was preempted or woke while switching out: queue it here or where it may run. */
static void requeue(struct sched_cpu *sc, struct thread *prev, int *remote)
{
	if (sched_allowed_on(prev, sc->id)) {
		runq_push(&sc->rq, &prev->rq, prev->prio, false);
		return;
	}
	*remote = (int)sched_select_cpu(prev);
	sched_set_thread_cpu(prev, (unsigned)*remote);
}

/*
 * The second half of a switch, run by the thread switched to, on the CPU
 * that switched: prev's registers are saved now, so it may run elsewhere.
 */
static void finish_switch(void)
{
	struct sched_cpu *sc = sched_this_cpu();
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
		sched_enqueue(prev, (unsigned)remote);
	else if (queued)
		sched_kick_idle(prev, sc->id);
	arm_timer(sc);
}

void sched_started(void)
{
	finish_switch();
}

/* ---- the hooks: the end of a timer interrupt or an IPI, interrupts off ---- */

static void timer_hook(void)
{
	struct sched_cpu *sc = sched_this_cpu();
	if (!sc)
		return; /* a CPU that has not joined the scheduler yet */
	uint64_t now = arch_time_ns();
	sc->armed = NO_DEADLINE; /* it fired */
	sched_flag_set(&sc->in_hook, true);
	sched_expire_timers(sc, now);
	if (!sc->current->idle && now >= sc->slice_end) {
		sc->rotate = true;
		sched_flag_set(&sc->need_resched, true);
	}
	sched_flag_set(&sc->in_hook, false);
	if (sched_flag_get(&sc->need_resched)) {
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
	struct sched_cpu *sc = sched_this_cpu();
	if (sc && sched_flag_get(&sc->need_resched))
		sched_switch();
}

/* ---- the idle loop ---- */

static bool has_work(struct sched_cpu *sc)
{
	return runq_count(&sc->rq) > 0 || sched_flag_get(&sc->need_resched);
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
	return found || has_work(sc) || sched_steal(sc);
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
		if (has_work(sc) || sched_steal(sc) || poll_for_work(sc)) {
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
	struct sched_cpu *sc = &sched_cpus[c->id];
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
	sched_set_idle(sc->id, true);
	cpu_online(self, sc);
	idle_loop(sc);
}

/* ---- the calls the rest of rt/ makes ---- */

struct thread *sched_current(void)
{
	unsigned long f = arch_irq_save();
	struct sched_cpu *sc = sched_this_cpu();
	struct thread *t = sc ? sc->current : NULL;
	arch_irq_restore(f);
	return t;
}

void sched_yield(void)
{
	unsigned long f = arch_irq_save();
	struct sched_cpu *sc = sched_this_cpu();
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
	struct sched_cpu *sc = sched_this_cpu();
	struct thread *t = sc->current;
	spin_lock(&sc->lock);
	t->state = THREAD_DEAD;
	t->reap = reap;
	spin_unlock(&sc->lock);
	sched_switch();
	panic("thread %s ran after it exited", t->name);
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
	struct sched_cpu *sc = &sched_cpus[cpu];
	st->switches = __atomic_load_n(&sc->switches, __ATOMIC_RELAXED);
	st->preemptions = __atomic_load_n(&sc->preemptions, __ATOMIC_RELAXED);
	st->steals = __atomic_load_n(&sc->steals, __ATOMIC_RELAXED);
	st->queued = runq_count(&sc->rq);
	return 0;
}
