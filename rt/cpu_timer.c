/*
 * Each CPU's one deadline on its one-shot timer interrupt, the same logic on
 * every arch: the arch only programs and stops the hardware
 * (arch_timer_program, arch_timer_stop). Its interrupt asks
 * cpu_timer_expired() before end-of-interrupt and, when that says the
 * deadline is due, runs cpu_timer_run_hook() after it. The hardware may
 * fire a little early (fixed-point rounding of the rate): then the rest of
 * the wait is programmed again, so the hook never runs before the deadline.
 * There is no periodic tick: a CPU with no deadline takes no timer
 * interrupts.
 *
 * The hardware is written only to bring its deadline nearer. A later
 * deadline (the scheduler sets a new slice end at every switch) or a
 * cancel leaves it armed: it fires early, and its interrupt programs the
 * rest or finds nothing due. Writing the timer (an MSR or MMIO write; under
 * TCG, one that takes QEMU's global lock) at every context switch cost more
 * than the one early interrupt per deadline this costs at most.
 */
#include "rt.h"

static cpu_timer_fn hook;
static uint64_t deadline[ARCH_MAX_CPUS]; /* 0 = none; each written only by its own CPU */
static uint64_t armed[ARCH_MAX_CPUS];    /* what the hardware fires at; 0 = it will not */

void cpu_timer_oneshot(uint64_t deadline_ns)
{
	unsigned long flags = arch_irq_save();
	if (deadline_ns == 0)
		deadline_ns = 1; /* 0 means "none" */
	unsigned cpu = arch_cpu_id();
	deadline[cpu] = deadline_ns;
	if (!armed[cpu] || deadline_ns < armed[cpu]) {
		arch_timer_program(deadline_ns);
		armed[cpu] = deadline_ns;
	}
	arch_irq_restore(flags);
}

void cpu_timer_cancel(void)
{
	unsigned long flags = arch_irq_save();
	deadline[arch_cpu_id()] = 0; /* the hardware may still fire: nothing will be due */
	arch_irq_restore(flags);
}

void cpu_timer_set_handler(cpu_timer_fn fn)
{
	__atomic_store_n(&hook, fn, __ATOMIC_RELEASE);
}

/* The timer interrupt fired: due (clear the deadline) or early (re-arm for the rest). */
bool cpu_timer_expired(void)
{
	unsigned cpu = arch_cpu_id();
	uint64_t *d = &deadline[cpu];
	armed[cpu] = 0; /* it fired (and on aarch64 the interrupt stopped it) */
	if (*d == 0)
		return false; /* cancelled */
	if (arch_time_ns() < *d) {
		arch_timer_program(*d); /* early: rounding, or a deadline moved later */
		armed[cpu] = *d;
		return false;
	}
	*d = 0;
	return true;
}

void cpu_timer_run_hook(void)
{
	cpu_timer_fn fn = __atomic_load_n(&hook, __ATOMIC_ACQUIRE);
	if (fn)
		fn();
}
