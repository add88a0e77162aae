/*
 * cpus: every CPU the firmware describes is online, with its own per-CPU
 * data and stack, and takes inter-processor interrupts of both kinds.
 *
 * Each CPU reports in from its IPI handler (so the report runs on that CPU):
 * it records the id arch_cpu_id() gives it, checks that arch_this_cpu() is
 * its own struct cpu and that it runs on the stack it interrupted (the
 * CPU's own entry stack, where its idle thread runs, or, on the CPU running
 * main, the main thread's stack), and bumps an atomic
 * counter. Prints "cpus: ok N" and returns 0, or prints FAIL lines and
 * returns 1. A CPU that never answers fails after a timeout.
 *
 * The test owns the IPI hook while it runs (rt's dispatcher is replaced:
 * nothing here unmaps memory, so no TLB shootdown needs it) and clears it
 * when done; main returns right after.
 */
#include <errno.h>
#include <stdio.h>

#include "arch.h"
#include "fail.h"

#define TIMEOUT_NS  2000000000ull
#define STACK_BOUND 65536 /* a handler runs within this many bytes below its CPU's stack top */

static uintptr_t main_sp; /* an address in main's frame: main runs in a thread of its own */

static bool near_below(uintptr_t sp, uintptr_t top)
{
	return sp < top && top - sp < STACK_BOUND;
}

static int reported;               /* CPUs that answered the current round */
static int answers[ARCH_MAX_CPUS]; /* per CPU: IPIs handled there */
static int wrong[ARCH_MAX_CPUS];   /* per CPU: checks that failed there */
static int kinds_seen[ARCH_IPI_KINDS];

/* Runs on the CPU that took the IPI, interrupts off. */
static void on_ipi(enum arch_ipi kind)
{
	unsigned id = arch_cpu_id();
	struct cpu *c = arch_this_cpu();
	uintptr_t sp = (uintptr_t)&id;
	if (id >= ARCH_MAX_CPUS)
		return;
	if (c != cpu_get(id) || c->self != c || c->id != id || arch_irq_enabled())
		__atomic_fetch_add(&wrong[id], 1, __ATOMIC_RELAXED);
	if (!near_below(sp, c->stack_top) && !near_below(sp, main_sp))
		__atomic_fetch_add(&wrong[id], 1, __ATOMIC_RELAXED);
	if (kind < ARCH_IPI_KINDS)
		__atomic_fetch_add(&kinds_seen[kind], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&answers[id], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&reported, 1, __ATOMIC_RELEASE);
}

static bool wait_reports(int want)
{
	uint64_t end = arch_time_ns() + TIMEOUT_NS;
	while (__atomic_load_n(&reported, __ATOMIC_ACQUIRE) < want)
		if (arch_time_ns() > end)
			return false;
	return true;
}

static void check_topology(unsigned n)
{
	if (n != cpu_present())
		FAIL("online %u, but the firmware describes %u\n", n, cpu_present());
	if (arch_cpu_id() != 0)
		FAIL("main runs on cpu %u, not the boot cpu\n", arch_cpu_id());
	for (unsigned i = 0; i < n; i++) {
		struct cpu *c = cpu_get(i);
		if (!c || c->id != i || c->self != c) {
			FAIL("cpu_get(%u) is not cpu %u\n", i, i);
			continue;
		}
		for (unsigned j = 0; j < i; j++)
			if (cpu_get(j) && cpu_get(j)->hw_id == c->hw_id)
				FAIL("cpus %u and %u share hardware id %u\n", j, i, c->hw_id);
	}
	if (cpu_get(n) != NULL)
		FAIL("cpu_get(%u) exists beyond the %u online\n", n, n);
}

static void check_irq_state(void)
{
	unsigned long s = arch_irq_save();
	if (arch_irq_enabled())
		FAIL("interrupts on after arch_irq_save\n");
	arch_irq_restore(s);
	if (!arch_irq_enabled())
		FAIL("interrupts off after arch_irq_restore (main runs with them on)\n");
}

/* One IPI of `kind` to every CPU, this one included; all must answer on their own CPU. */
static void ipi_round(unsigned n, enum arch_ipi kind)
{
	__atomic_store_n(&reported, 0, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < n; i++)
		if (arch_ipi_send(i, kind) != 0)
			FAIL("arch_ipi_send(%u) refused\n", i);
	if (!wait_reports((int)n))
		FAIL("only %d of %u cpus answered ipi kind %d\n", reported, n, kind);
}

int main(void)
{
	unsigned n = cpu_count();
	main_sp = (uintptr_t)&n;
	printf("cpus: %u online, %u present\n", n, cpu_present());
	check_topology(n);
	check_irq_state();
	arch_ipi_set_handler(on_ipi);
	ipi_round(n, ARCH_IPI_WAKEUP);
	ipi_round(n, ARCH_IPI_TLB);
	arch_ipi_set_handler(NULL);
	if (arch_ipi_send(n, ARCH_IPI_WAKEUP) != -EINVAL)
		FAIL("an IPI to cpu %u (not online) was not refused with -EINVAL\n", n);
	for (unsigned i = 0; i < n; i++) {
		if (answers[i] != 2)
			FAIL("cpu %u answered %d IPIs, want 2\n", i, answers[i]);
		if (wrong[i])
			FAIL("cpu %u: per-cpu data or stack wrong in %d checks\n", i, wrong[i]);
	}
	if (kinds_seen[ARCH_IPI_WAKEUP] != (int)n || kinds_seen[ARCH_IPI_TLB] != (int)n)
		FAIL("ipi kinds seen: wakeup %d, tlb %d, want %u each\n",
		     kinds_seen[ARCH_IPI_WAKEUP], kinds_seen[ARCH_IPI_TLB], n);
	printf("spurious interrupts: %lu\n", (unsigned long)arch_irq_spurious_count());
	if (failures)
		return 1;
	printf("cpus: ok %u\n", n);
	return 0;
}
