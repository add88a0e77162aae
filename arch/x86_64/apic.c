/*
 * The local APIC (Intel SDM vol. 3A, chapter 10): x2APIC through MSRs when
 * CPUID offers it (10.12), xAPIC through its MMIO page otherwise. Every CPU
 * runs its LAPIC in the same mode as the boot CPU.
 */
#include <errno.h>

#include "acpi.h"
#include "io.h"
#include "rt.h"
#include "x86.h"

/* Register offsets in the xAPIC page; the x2APIC MSR is 0x800 + offset / 16 (SDM 10.12.1.2). */
#define APIC_ID          0x020
#define APIC_VERSION     0x030
#define APIC_TPR         0x080
#define APIC_EOI         0x0b0
#define APIC_SVR         0x0f0
#define APIC_ESR         0x280
#define APIC_ICR_LO      0x300
#define APIC_ICR_HI      0x310
#define APIC_LVT_TIMER   0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF    0x340
#define APIC_LVT_LINT0   0x350
#define APIC_LVT_LINT1   0x360
#define APIC_LVT_ERROR   0x370
#define APIC_TIMER_INIT  0x380
#define APIC_TIMER_CUR   0x390
#define APIC_TIMER_DIV   0x3e0
#define X2APIC_MSR(reg)  (0x800 + ((reg) >> 4))

#define APIC_BASE_EXTD   (1ull << 10) /* IA32_APIC_BASE: x2APIC mode */
#define APIC_BASE_EN     (1ull << 11) /* IA32_APIC_BASE: APIC globally enabled */
#define APIC_BASE_ADDR   0xffffff000ull
#define SVR_ENABLE       (1u << 8)
#define LVT_MASKED       (1u << 16)
#define LVT_NMI          (4u << 8) /* delivery mode NMI */
#define LVT_TSC_DEADLINE (2u << 17)
#define ICR_PENDING      (1u << 12) /* xAPIC delivery status */
#define ICR_INIT         (5u << 8)
#define ICR_STARTUP      (6u << 8)
#define ICR_ASSERT       (1u << 14)
#define TIMER_DIV_1      0xb

static bool x2apic;
static uintptr_t xapic_base;

static uint32_t apic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(X2APIC_MSR(reg));
	return mmio_read32(xapic_base + reg);
}

static void apic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(X2APIC_MSR(reg), v);
	else
		mmio_write32(xapic_base + reg, v);
}

bool apic_is_x2apic(void)
{
	return x2apic;
}

int apic_init_bsp(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	if (!(r[3] & CPUID1_EDX_APIC)) {
		printf("apic: this CPU has no local APIC\n");
		return -ENODEV;
	}
	x2apic = r[2] & CPUID1_ECX_X2APIC;
	/* The MSR says where this CPU's APIC really is; the MADT's copy is only a hint. */
	uint64_t phys = rdmsr(MSR_APIC_BASE) & APIC_BASE_ADDR;
	const struct acpi_info *a = platform();
	if (!x2apic && a->have_madt && a->lapic_address != phys)
		printf("apic: MADT says the LAPIC is at %#lx, the CPU says %#lx; using the CPU's\n",
		       (unsigned long)a->lapic_address, (unsigned long)phys);
	xapic_base = x2apic ? 0 : io_map(phys, 4096);
	if (!x2apic && !xapic_base) {
		printf("apic: the LAPIC page %#lx is not mapped\n", (unsigned long)phys);
		return -ENODEV;
	}
	apic_init_cpu();
	calibrate_begin_apic(); /* the divider is set: the LAPIC timer's rate can be measured */
	return 0;
}

/* LINT0 carries the 8259's ExtINT in virtual-wire mode: masked, the PIC is off. */
static void apic_init_lints(void)
{
	int nmi = platform()->nmi_lint;
	if (nmi < 0)
		nmi = 1; /* the PC convention (MP spec 5.1) when the MADT does not say */
	apic_write(APIC_LVT_LINT0, nmi == 0 ? LVT_NMI : LVT_MASKED);
	apic_write(APIC_LVT_LINT1, nmi == 1 ? LVT_NMI : LVT_MASKED);
}

void apic_init_cpu(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	/* x2APIC is entered from xAPIC mode: EN first, then EN|EXTD (SDM 10.12.5). */
	if (!(base & APIC_BASE_EN))
		wrmsr(MSR_APIC_BASE, base |= APIC_BASE_EN);
	if (x2apic && !(base & APIC_BASE_EXTD))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
	apic_write(APIC_TPR, 0);
	uint32_t max_lvt = (apic_read(APIC_VERSION) >> 16) & 0xff;
	apic_write(APIC_LVT_TIMER, LVT_MASKED);
	if (max_lvt >= 4)
		apic_write(APIC_LVT_PERF, LVT_MASKED);
	if (max_lvt >= 5)
		apic_write(APIC_LVT_THERMAL, LVT_MASKED);
	apic_init_lints();
	apic_write(APIC_LVT_ERROR, VEC_APIC_ERROR);
	apic_write(APIC_ESR, 0); /* back-to-back writes clear stale errors (SDM 10.5.3) */
	apic_write(APIC_ESR, 0);
	apic_write(APIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
	apic_write(APIC_TIMER_DIV, TIMER_DIV_1);
}

uint32_t apic_id(void)
{
	uint32_t id = apic_read(APIC_ID);
	return x2apic ? id : id >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

uint32_t apic_error_status(void)
{
	apic_write(APIC_ESR, 0); /* latch the errors into the readable register */
	return apic_read(APIC_ESR);
}

/* Fixed-destination, physical-mode IPI (SDM 10.6.1). */
static void apic_icr(uint32_t dest, uint32_t low)
{
	unsigned long flags = arch_irq_save(); /* the xAPIC's two halves belong together */
	if (x2apic) {
		/* WRMSR to the x2APIC ICR is not serializing (SDM 10.12.3): make earlier
		 * stores (the work a wakeup announces) visible before the IPI lands. */
		__asm__ volatile("mfence; lfence" : : : "memory");
		wrmsr(X2APIC_MSR(APIC_ICR_LO), (uint64_t)dest << 32 | low);
	} else {
		while (apic_read(APIC_ICR_LO) & ICR_PENDING)
			cpu_pause();
		apic_write(APIC_ICR_HI, dest << 24);
		apic_write(APIC_ICR_LO, low);
	}
	arch_irq_restore(flags);
}

void apic_send_ipi(uint32_t dest, uint32_t vector)
{
	apic_icr(dest, vector & 0xff);
}

void apic_send_init(uint32_t dest)
{
	apic_icr(dest, ICR_INIT | ICR_ASSERT);
}

void apic_send_sipi(uint32_t dest, uint8_t page)
{
	apic_icr(dest, ICR_STARTUP | ICR_ASSERT | page);
}

/* SDM 10.5.4.1: in TSC-deadline mode the deadline MSR arms the timer, not the count. */
void apic_timer_set_mode(bool tsc_deadline)
{
	apic_write(APIC_LVT_TIMER, VEC_TIMER | (tsc_deadline ? LVT_TSC_DEADLINE : 0));
	if (tsc_deadline)
		__asm__ volatile("mfence" : : : "memory"); /* order the LVT write before WRMSR */
}

void apic_timer_start(uint32_t count)
{
	apic_write(APIC_TIMER_INIT, count);
}

uint32_t apic_timer_current(void)
{
	return apic_read(APIC_TIMER_CUR);
}
