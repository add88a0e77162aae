/*
 * CPUs: per-CPU data behind the GS base, bringing the application processors
 * up with INIT-SIPI-SIPI (Intel SDM vol. 3A, 8.4.4.1) through the real-mode
 * trampoline, inter-processor interrupts and the idle wait.
 *
 * CPU ids are dense: 0 is the boot CPU, then the MADT's enabled CPUs in the
 * order it lists them.
 */
#include <errno.h>
#include <string.h>

#include "acpi.h"
#include "rt.h"
#include "x86.h"

/*
 * Each AP gets 16 KiB to run on and 4 KiB for double faults and NMIs (TSS
 * IST1), for the CPUs that exist only (cpu_stacks_alloc).
 */
#define AP_STACK_ORDER      2 /* 16 KiB */
#define AP_EMERGENCY_ORDER  0 /* 4 KiB */
#define AP_MAX              (ARCH_MAX_CPUS - 1)
#define AP_START_TIMEOUT_US 1000000
#define SIPI_DELAY_US       200   /* SDM 8.4.4.1: between the two STARTUP IPIs */
#define INIT_DELAY_US       10000 /* SDM 8.4.4.1: after INIT, on CPUs that need it */
#define EFER_LMA            (1ull << 10)
#define LOW_MEM_TOP         0x9f000 /* the trampoline page must lie below the EBDA */

static arch_cpu_entry ap_entry;
static arch_ipi_fn ipi_hook;
static uint64_t tramp_page;

/* Shared with trampoline.S. */
uint32_t ap_ticket, ap_stack_count;
uint64_t ap_stack_tops[AP_MAX];
uint64_t ap_kernel_cr3; /* the page tables APs switch to once in 64-bit mode */
static uintptr_t emergency_tops[ARCH_MAX_CPUS]; /* by CPU id */
extern char tramp_start[], tramp_end[], tramp_gdtr[], tramp_pm32[];
extern char tramp_cr0[], tramp_cr3[], tramp_cr4[], tramp_efer[];
extern const uint32_t tramp_gdt_offset, tramp_protected_offset;
extern char boot_stack_top[], boot_pml4[];

/* The boot CPU's control state, which every AP copies. */
static struct {
	uint64_t cr0, cr4, efer, pat, xcr0;
} bsp_state;

void x86_ap_main(unsigned ticket);

/* The boot CPU's APIC ID is filled in by irq.c once it is known. */
void x86_percpu_init_bsp(void)
{
	wrmsr(MSR_GS_BASE, (uintptr_t)cpu_boot_register(0, (uintptr_t)boot_stack_top));
}

struct cpu *arch_this_cpu(void)
{
	struct cpu *c;
	__asm__("mov %%gs:0, %0" : "=r"(c));
	return c;
}

unsigned arch_cpu_id(void)
{
	return arch_this_cpu()->id;
}

/* ---- the trampoline page ---- */

static bool overlaps(uint64_t base, uint64_t size, const struct mem_range *r, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (base < r[i].base + r[i].size && r[i].base < base + size)
			return true;
	return false;
}

static bool page_usable(const struct boot_info *bi, uint64_t page)
{
	bool in_ram = false;
	for (unsigned i = 0; i < bi->ram_count; i++)
		if (page >= bi->ram[i].base && page + 4096 <= bi->ram[i].base + bi->ram[i].size)
			in_ram = true;
	uint64_t cmd = (uintptr_t)bi->cmdline;
	struct mem_range cmdline = {cmd, strlen(bi->cmdline) + 1};
	return in_ram && !overlaps(page, 4096, bi->reserved, bi->reserved_count) &&
	       !overlaps(page, 4096, &cmdline, 1);
}

/*
 * Called from arch_boot, before anything hands out memory: pick the highest
 * free RAM page below the EBDA for the trampoline and reserve it for good.
 */
void x86_smp_reserve(struct boot_info *bi)
{
	for (uint64_t page = LOW_MEM_TOP - 4096; page >= 0x1000; page -= 4096)
		if (page_usable(bi, page)) {
			tramp_page = page;
			boot_info_add_range(bi->reserved, &bi->reserved_count, page, 4096);
			return;
		}
}

static void put32(char *field, uint64_t v)
{
	char *dst = (char *)(uintptr_t)tramp_page + (field - tramp_start);
	uint32_t w = (uint32_t)v;
	memcpy(dst, &w, 4);
}

static int trampoline_install(void)
{
	if (!tramp_page)
		return -ENOMEM;
	ap_kernel_cr3 = read_cr3();
	bsp_state.cr0 = read_cr0();
	bsp_state.cr4 = read_cr4();
	bsp_state.efer = rdmsr(MSR_EFER) & ~EFER_LMA;
	bsp_state.pat = rdmsr(MSR_PAT);
	bsp_state.xcr0 = (bsp_state.cr4 & CR4_OSXSAVE) ? xgetbv(0) : 0;
	memcpy((void *)(uintptr_t)tramp_page, tramp_start, tramp_end - tramp_start);
	put32(tramp_gdtr + 2, tramp_page + tramp_gdt_offset);
	put32(tramp_pm32, tramp_page + tramp_protected_offset);
	put32(tramp_cr0, bsp_state.cr0);
	put32(tramp_cr3, (uintptr_t)boot_pml4); /* the image is below 4 GiB */
	put32(tramp_cr4, bsp_state.cr4 & ~CR4_PCIDE);
	put32(tramp_efer, bsp_state.efer);
	put32(tramp_efer + 4, bsp_state.efer >> 32);
	return 0;
}

/* ---- starting the APs ---- */

/* CPU ids 1.. for the MADT's CPUs other than the boot CPU (irq.c calls it once its ID is known). */
void x86_cpus_enumerate(void)
{
	const struct acpi_info *a = platform();
	for (unsigned i = 0; i < a->cpu_count; i++)
		if (a->cpu_apic_id[i] != cpu_slot(0)->hw_id && !cpu_register(a->cpu_apic_id[i]))
			break;
}

/* Linux's rule too: CPUs since the P6/K8, and virtual ones, need no 10 ms after INIT. */
static bool init_needs_delay(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	unsigned family = (r[0] >> 8) & 0xf;
	if (family == 0xf)
		family += (r[0] >> 20) & 0xff;
	return !(r[2] & CPUID1_ECX_HYPERVISOR) && family < 6;
}

/* Up to SIPI_DELAY_US for every AP to reach ap_start64 (take its stack ticket). */
static bool all_started(unsigned n)
{
	uint64_t end = arch_time_ns() + SIPI_DELAY_US * 1000ull;
	do {
		if (__atomic_load_n(&ap_ticket, __ATOMIC_ACQUIRE) >= n - 1)
			return true;
		cpu_pause();
	} while (arch_time_ns() < end);
	return false;
}

/* INIT, then STARTUP, and a second STARTUP only if some AP has not started by then. */
static void send_startup(unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		apic_send_init(cpu_slot(i)->hw_id);
	x86_delay_us(init_needs_delay() ? INIT_DELAY_US : 10);
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 1; i < n; i++)
			if (!cpu_get(i))
				apic_send_sipi(cpu_slot(i)->hw_id, (uint8_t)(tramp_page >> 12));
		if (all_started(n))
			return;
	}
}

static void wait_online(unsigned n)
{
	cpus_wait_online(n, AP_START_TIMEOUT_US * 1000ull);
	for (unsigned i = 1; i < n; i++)
		if (!cpu_get(i))
			printf("smp: cpu %u (apic id %u) did not start\n", i, cpu_slot(i)->hw_id);
}

/* Stacks for CPUs 1..n-1; returns how many CPUs (the boot CPU included) have them. */
static unsigned alloc_stacks(unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct cpu *c = cpu_slot(i);
		uintptr_t emergency =
		    cpu_stacks_alloc(c, PAGE_SIZE << AP_STACK_ORDER, AP_EMERGENCY_ORDER);
		if (!emergency) {
			printf("smp: no memory for the stacks of cpus %u-%u\n", i, n - 1);
			return i;
		}
		ap_stack_tops[i - 1] = c->stack_top;
		emergency_tops[i] = emergency;
	}
	return n;
}

int arch_smp_start(arch_cpu_entry entry)
{
	if (cpu_present() == 1)
		return 1;
	int err = trampoline_install();
	if (err) {
		printf("smp: no free page below 1 MiB for the AP trampoline (%d)\n", err);
		return 1;
	}
	ap_entry = entry;
	unsigned n = alloc_stacks(cpu_present());
	ap_stack_count = n - 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	send_startup(n);
	wait_online(n);
	return (int)cpu_count();
}

/* ---- on the AP ---- */

/* The APIC ID from CPUID (leaf 0BH's x2APIC ID, else leaf 1's initial ID): no APIC access yet. */
static uint32_t cpuid_apic_id(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	if (r[0] >= 0xb) {
		cpuid(0xb, 0, r);
		if (r[1] != 0)
			return r[3];
	}
	cpuid(1, 0, r);
	return r[1] >> 24;
}

static struct cpu *cpu_by_apic_id(uint32_t hw)
{
	for (unsigned i = 1; i < cpu_present(); i++)
		if (cpu_slot(i)->hw_id == hw && !cpu_get(i))
			return cpu_slot(i);
	return NULL;
}

static void copy_bsp_state(void)
{
	write_cr0(bsp_state.cr0);
	write_cr4(bsp_state.cr4);
	if (bsp_state.xcr0)
		xsetbv(0, bsp_state.xcr0);
	wrmsr(MSR_PAT, bsp_state.pat);
}

__attribute__((noreturn)) void x86_ap_main(unsigned ticket)
{
	struct cpu *c = cpu_by_apic_id(cpuid_apic_id());
	if (!c)
		arch_halt_forever();
	c->stack_top = ap_stack_tops[ticket];
	wrmsr(MSR_GS_BASE, (uintptr_t)c);
	x86_cpu_tables_load(c->id, emergency_tops[c->id]);
	copy_bsp_state();
	apic_init_cpu();
	x86_timer_cpu_init();
	if (!cpu_arrive(c))
		arch_halt_forever(); /* arch_smp_start gave up on it */
	ap_entry(c);
	arch_halt_forever();
}

/* ---- IPIs and idling ---- */

void arch_ipi_set_handler(arch_ipi_fn fn)
{
	__atomic_store_n(&ipi_hook, fn, __ATOMIC_RELEASE);
}

int arch_ipi_send(unsigned cpu, enum arch_ipi kind)
{
	struct cpu *c = cpu_get(cpu);
	if (!c || (unsigned)kind >= ARCH_IPI_KINDS)
		return -EINVAL;
	apic_send_ipi(c->hw_id, VEC_IPI_FIRST + kind);
	return 0;
}

void x86_ipi_hook(unsigned kind)
{
	arch_ipi_fn fn = __atomic_load_n(&ipi_hook, __ATOMIC_ACQUIRE);
	if (fn)
		fn((enum arch_ipi)kind);
}

/* STI's one-instruction interrupt shadow covers HLT: no wakeup slips in between (SDM STI). */
void arch_cpu_idle(void)
{
	__asm__ volatile("sti; hlt; cli" : : : "memory");
}
