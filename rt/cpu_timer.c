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
 */
#include "rt.h"

static cpu_timer_fn hook;
static uint64_t deadline[ARCH_MAX_CPUS]; /* 0 = none; each written only by its own CPU */

void cpu_timer_oneshot(uint64_t deadline_ns)
{
	unsigned long flags = arch_irq_save();
	if (deadline_ns == 0)
		deadline_ns = 1; /* 0 means "none" */
	deadline[arch_cpu_id()] = deadline_ns;
	arch_timer_program(deadline_ns);
	arch_irq_restore(flags);
}

void cpu_timer_cancel(void)
{
	unsigned long flags = arch_irq_save();
	deadline[arch_cpu_id()] = 0;
	arch_timer_stop();
	arch_irq_restore(flags);
}

void cpu_timer_set_handler(cpu_timer_fn fn)
{
	__atomic_store_n(&hook, fn, __ATOMIC_RELEASE);
}

/* The timer interrupt fired: due (clear the deadline) or early (re-arm for the rest). */
bool cpu_timer_expired(void)
{
	uint64_t *d = &deadline[arch_cpu_id()];
	if (*d == 0)
		return false; /* cancelled after it fired */
	if (arch_time_ns() < *d) {
		arch_timer_program(*d);
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
