/*
 * The CPU table, the same on every arch: struct cpu per CPU with dense ids
 * (0 is the boot CPU, then the firmware's CPUs in the order it lists
 * them), which are online, and the bookkeeping of bringing the others up
 * that does not depend on how (arch/<arch>/smp.c: INIT-SIPI-SIPI, PSCI
 * CPU_ON): their stacks, their arrival, waiting for them with a time limit.
 *
 * A CPU that arrives after the boot CPU stopped waiting parks instead of
 * joining (cpu_arrive says so): start_lock orders its arrival against the
 * close, so a CPU is either counted before the wait returns or never.
 */
#include "rt.h"

static struct cpu cpus[ARCH_MAX_CPUS];
static bool online[ARCH_MAX_CPUS];
static unsigned online_count = 1, present_count = 1; /* the boot CPU's, from the start */
static struct spinlock start_lock;                   /* guards start_closed and arrivals */
static bool start_closed;

/* The boot CPU's entry, online from the start; before anything else uses the table. */
struct cpu *cpu_boot_register(uint32_t hw_id, uintptr_t stack_top)
{
	cpus[0] = (struct cpu){.self = &cpus[0], .id = 0, .hw_id = hw_id, .stack_top = stack_top};
	online[0] = true;
	return &cpus[0];
}

/* The next id for a CPU the firmware describes; NULL when ARCH_MAX_CPUS are present. */
struct cpu *cpu_register(uint32_t hw_id)
{
	if (present_count == ARCH_MAX_CPUS)
		return NULL;
	unsigned n = present_count++;
	cpus[n] = (struct cpu){.self = &cpus[n], .id = n, .hw_id = hw_id};
	return &cpus[n];
}

unsigned cpu_count(void)
{
	return __atomic_load_n(&online_count, __ATOMIC_ACQUIRE);
}

unsigned cpu_present(void)
{
	return present_count;
}

/* The CPU with this id if it is present, online or not (for bring-up); NULL past the last. */
struct cpu *cpu_slot(unsigned id)
{
	return id < present_count ? &cpus[id] : NULL;
}

struct cpu *cpu_get(unsigned id)
{
	if (id >= ARCH_MAX_CPUS || !__atomic_load_n(&online[id], __ATOMIC_ACQUIRE))
		return NULL;
	return &cpus[id];
}

/*
 * CPU id's stacks: `bytes` to run on with an unmapped guard page below
 * (stack_alloc: an overflow is reported as one), and 1 << exc_order pages
 * from the page allocator for exceptions (x86_64 IST, aarch64 SP_EL1).
 * Sets c->stack_top; returns the exception stack's top, or 0 (and keeps
 * nothing) when memory is short.
 */
uintptr_t cpu_stacks_alloc(struct cpu *c, size_t bytes, unsigned exc_order)
{
	char name[VM_NAME_MAX];
	snprintf(name, sizeof(name), "the boot stack (cpu %u)", c->id);
	void *top = stack_alloc(bytes, name);
	uint8_t *exc = page_alloc(exc_order);
	if (!top || !exc) {
		stack_free(top);
		if (exc)
			page_free(exc);
		return 0;
	}
	c->stack_top = (uintptr_t)top;
	return (uintptr_t)exc + (PAGE_SIZE << exc_order);
}

/* On a CPU that has come up: join (true), or park (false) when the wait is over. */
bool cpu_arrive(struct cpu *c)
{
	spin_lock(&start_lock);
	bool late = start_closed;
	if (!late) {
		__atomic_store_n(&online[c->id], true, __ATOMIC_RELEASE);
		__atomic_fetch_add(&online_count, 1, __ATOMIC_ACQ_REL);
	}
	spin_unlock(&start_lock);
	return !late;
}

/* Wait up to timeout_ns for `expected` CPUs online, then close the start; CPUs online. */
unsigned cpus_wait_online(unsigned expected, uint64_t timeout_ns)
{
	uint64_t end = arch_time_ns() + timeout_ns;
	while (cpu_count() < expected && arch_time_ns() < end)
		arch_cpu_relax();
	spin_lock(&start_lock);
	start_closed = true;
	spin_unlock(&start_lock);
	return cpu_count();
}
