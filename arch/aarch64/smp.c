/*
 * CPUs on aarch64: per-CPU data behind TPIDR_EL1, the secondaries brought
 * up with PSCI CPU_ON (DEN0022 5.1.4) at secondary_entry (entry.S),
 * inter-processor interrupts as GIC SGIs, and the idle wait.
 *
 * CPU ids are dense: 0 is the boot CPU, then the DTB's /cpus/cpu nodes in
 * the order it lists them. struct cpu's hw_id is the MPIDR_EL1 affinity
 * packed as GICR_TYPER writes it: Aff3.Aff2.Aff1.Aff0, 8 bits each.
 */
#include <libfdt.h>
#include <string.h>

#include "aarch64.h"
#include "fdt_read.h"
#include "rt.h"

#define PSCI_CPU_ON      0xc4000003 /* SMC64 CPU_ON (DEN0022 5.1.4) */
#define STACK_ORDER      2          /* 16 KiB */
#define STACK_BYTES      (PAGE_SIZE << STACK_ORDER)
#define START_TIMEOUT_NS 2000000000ull
#define MPIDR_AFF_MASK   0xff00ffffffull /* Aff3 [39:32], Aff2..Aff0 [23:0] */

/* What secondary_entry needs once its MMU is on (offsets in aarch64.h). */
struct secondary_boot {
	uint64_t sp_el1; /* its exception stack */
	uint64_t sp_el0; /* the stack it runs C on */
	struct cpu *cpu;
	uint64_t pad;
};
_Static_assert(__builtin_offsetof(struct secondary_boot, sp_el1) == SECONDARY_SP_EL1, "entry.S");
_Static_assert(__builtin_offsetof(struct secondary_boot, sp_el0) == SECONDARY_SP_EL0, "entry.S");
_Static_assert(__builtin_offsetof(struct secondary_boot, cpu) == SECONDARY_CPU, "entry.S");

static uint64_t mpidr[ARCH_MAX_CPUS]; /* by CPU id */
static struct secondary_boot boot_args[ARCH_MAX_CPUS];
static bool asked[ARCH_MAX_CPUS]; /* PSCI accepted CPU_ON for it */
static arch_cpu_entry secondary_fn;
static arch_ipi_fn ipi_fn;

extern char boot_stack_top[], secondary_entry[];
void aarch64_secondary_main(struct cpu *c) __attribute__((noreturn));

uint32_t cpu_affinity(uint64_t m)
{
	return (uint32_t)(m & 0xffffff) | (uint32_t)((m >> 32) & 0xff) << 24;
}

void cpu_boot_init(void)
{
	uint64_t m = read_sysreg(mpidr_el1);
	struct cpu *c = cpu_boot_register(cpu_affinity(m), (uintptr_t)boot_stack_top);
	mpidr[0] = m & MPIDR_AFF_MASK;
	write_sysreg(tpidr_el1, (uintptr_t)c);
}

struct cpu *arch_this_cpu(void)
{
	return (struct cpu *)(uintptr_t)read_sysreg(tpidr_el1);
}

unsigned arch_cpu_id(void)
{
	return arch_this_cpu()->id;
}

/* ---- the CPUs the DTB describes ---- */

/* A cpu node's MPIDR from reg (/cpus #address-cells 1 or 2, arm/cpus.yaml); false if malformed. */
static bool node_mpidr(const void *fdt, int node, int cells, uint64_t *out)
{
	int len;
	const fdt32_t *reg = fdtr_getprop(fdt, node, "reg", &len);
	if (!reg || len < cells * 4)
		return false;
	*out = cells == 2 ? (uint64_t)fdt32_ld(reg) << 32 | fdt32_ld(reg + 1) : fdt32_ld(reg);
	return (*out & ~MPIDR_AFF_MASK) == 0;
}

static bool prop_is(const void *fdt, int node, const char *name, const char *value)
{
	int len;
	const char *s = fdtr_getprop(fdt, node, name, &len);
	return s && len == (int)strlen(value) + 1 && memcmp(s, value, (size_t)len) == 0;
}

/* Ids 1.. for the enabled cpu nodes other than the boot CPU that PSCI can start. */
void cpus_enumerate(const void *fdt, int parent)
{
	int node, cells = parent >= 0 ? fdtr_address_cells(fdt, parent) : -1;
	if (cells != 1 && cells != 2)
		return;
	fdtr_for_each_subnode(node, fdt, parent)
	{
		uint64_t m;
		if (!prop_is(fdt, node, "device_type", "cpu") || !fdtr_node_enabled(fdt, node))
			continue;
		if (!node_mpidr(fdt, node, cells, &m)) {
			dtb_errors++;
			continue;
		}
		if (m == mpidr[0])
			continue;
		struct cpu *c = NULL;
		if (prop_is(fdt, node, "enable-method", "psci"))
			c = cpu_register(cpu_affinity(m));
		if (!c) {
			printf("smp: cpu mpidr %#lx: no PSCI enable-method, or too many cpus\n",
			       (unsigned long)m);
			continue;
		}
		mpidr[c->id] = m;
	}
}

/* ---- starting the secondaries ---- */

/* The stack to run on and the exception stack (cpu_stacks_alloc); false when memory is short. */
static bool stacks_alloc(unsigned i)
{
	struct cpu *c = cpu_slot(i);
	uintptr_t exc = cpu_stacks_alloc(c, STACK_BYTES, STACK_ORDER);
	if (!exc)
		return false;
	boot_args[i] = (struct secondary_boot){exc, c->stack_top, c, 0};
	return true;
}

static unsigned start_all(void)
{
	unsigned started = 1;
	for (unsigned i = 1; i < cpu_present(); i++) {
		if (!stacks_alloc(i)) {
			printf("smp: no memory for cpu %u's stacks\n", i);
			continue;
		}
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* boot_args before the CPU can run */
		long r = psci_call(PSCI_CPU_ON, mpidr[i], (uintptr_t)secondary_entry,
		                   (uintptr_t)&boot_args[i]);
		if (r != 0) {
			printf("smp: cpu %u (mpidr %#lx): PSCI CPU_ON failed (%ld)\n", i,
			       (unsigned long)mpidr[i], r);
			continue;
		}
		asked[i] = true;
		started++;
	}
	return started;
}

int arch_smp_start(arch_cpu_entry entry)
{
	if (cpu_present() == 1)
		return 1;
	secondary_fn = entry;
	unsigned online = cpus_wait_online(start_all(), START_TIMEOUT_NS);
	for (unsigned i = 1; i < cpu_present(); i++)
		if (asked[i] && !cpu_get(i))
			printf("smp: cpu %u (mpidr %#lx) did not come online\n", i,
			       (unsigned long)mpidr[i]);
	return (int)online;
}

/* secondary_entry's C half: on its own stacks, MMU and vectors on, TPIDR_EL1 set. */
void aarch64_secondary_main(struct cpu *c)
{
	int err = irq_cpu_init();
	if (err) {
		printf("smp: cpu %u: no interrupt controller (%d), parked\n", c->id, err);
		arch_halt_forever();
	}
	arch_timer_stop();
	__asm__ volatile("msr daifclr, #4"); /* SError reported, as on the boot CPU */
	if (!cpu_arrive(c))
		arch_halt_forever(); /* arch_smp_start gave up on it */
	secondary_fn(c);
	arch_halt_forever();
}

/* ---- IPIs and idling ---- */

void arch_ipi_set_handler(arch_ipi_fn fn)
{
	__atomic_store_n(&ipi_fn, fn, __ATOMIC_RELEASE);
}

int arch_ipi_send(unsigned cpu, enum arch_ipi kind)
{
	if (!cpu_get(cpu) || (unsigned)kind >= ARCH_IPI_KINDS)
		return -EINVAL;
	irq_send_sgi(cpu, (unsigned)kind); /* SGI n is enum arch_ipi n */
	return 0;
}

void ipi_hook(unsigned kind)
{
	arch_ipi_fn fn = __atomic_load_n(&ipi_fn, __ATOMIC_ACQUIRE);
	if (fn)
		fn((enum arch_ipi)kind);
}

/*
 * WFI wakes on a pending interrupt even while PSTATE.I masks it (ARM ARM
 * D1.6.2, "Wait for Interrupt"), so the caller's last check for work and
 * the wait cannot miss a wakeup; unmasking for one ISB then takes it.
 */
void arch_cpu_idle(void)
{
	__asm__ volatile("dsb sy\n\twfi\n\tmsr daifclr, #2\n\tisb\n\tmsr daifset, #2"
	                 :
	                 :
	                 : "memory");
}
