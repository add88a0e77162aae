/* x86_64 internal header: port I/O, control registers, MSRs. Only arch/x86_64 includes it. */
#ifndef NOOS_X86_H
#define NOOS_X86_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(leaf), "c"(sub));
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

/* WRMSR; "memory" because some MSRs (x2APIC ICR, TSC deadline) order against memory. */
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
	                 :
	                 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
	                 : "memory");
}

static inline uint64_t read_cr0(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline uint64_t xgetbv(uint32_t reg)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(reg));
	return ((uint64_t)hi << 32) | lo;
}

static inline void xsetbv(uint32_t reg, uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(reg), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t read_rflags(void)
{
	uint64_t v;
	__asm__ volatile("pushfq; popq %0" : "=r"(v) : : "memory");
	return v;
}

#define RFLAGS_IF (1ull << 9)

static inline void cpu_cli(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static inline void cpu_sti(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static inline void cpu_pause(void)
{
	__asm__ volatile("pause" : : : "memory");
}

/* CPUID feature bits used in arch/x86_64 (Intel SDM vol. 2A, CPUID). */
#define CPUID1_ECX_X2APIC               (1u << 21)
#define CPUID1_ECX_TSC_DEADLINE         (1u << 24)
#define CPUID1_ECX_OSXSAVE              (1u << 27)
#define CPUID1_ECX_HYPERVISOR           (1u << 31)
#define CPUID1_EDX_APIC                 (1u << 9)
#define CPUID80000007_EDX_INVARIANT_TSC (1u << 8)

/* MSRs (Intel SDM vol. 4). */
#define MSR_APIC_BASE    0x1b
#define MSR_PAT          0x277
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_EFER         0xc0000080
#define MSR_GS_BASE      0xc0000101

#define CR4_PCIDE   (1ull << 17)
#define CR4_OSXSAVE (1ull << 18)

/* A spinlock for arch/x86_64's own short critical sections, taken with interrupts off. */
static inline unsigned long x86_lock(volatile int *lock)
{
	unsigned long flags = read_rflags();
	cpu_cli();
	while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(lock, __ATOMIC_RELAXED))
			cpu_pause();
	return flags;
}

static inline void x86_unlock(volatile int *lock, unsigned long flags)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
	if (flags & RFLAGS_IF)
		cpu_sti();
}

/*
 * Interrupt vectors (Intel SDM vol. 3A, 6.2). The upper four bits are the
 * LAPIC priority class, so IPIs and the timer sit above device interrupts.
 */
#define VEC_PIC_FIRST  0x20 /* the 8259s, remapped here and masked: only spurious ones arrive */
#define VEC_PIC_LAST   0x2f
#define VEC_DEV_FIRST  0x30 /* I/O APIC lines and MSIs, allocated by irq.c */
#define VEC_DEV_LAST   0xef
#define VEC_IPI_FIRST  0xf0 /* + enum arch_ipi */
#define VEC_TIMER      0xfd
#define VEC_APIC_ERROR 0xfe
#define VEC_SPURIOUS   0xff /* low four bits all ones, as P6-era xAPICs require */

struct trap_frame;
struct acpi_info;

/* ---- arch/x86_64 internal interfaces, grouped by the file that defines them ---- */

/* trap.c */
void x86_cpu_tables_load(unsigned cpu, uintptr_t emergency_stack_top);

/* platform.c: the ACPI view of the machine (never NULL after platform_init). */
void platform_save_bda(void); /* from arch_boot, before page 0 is unmapped */
const struct acpi_info *platform_init(const struct boot_info *bi);
const struct acpi_info *platform(void);

/* apic.c */
int apic_init_bsp(void);  /* x2APIC or xAPIC; then apic_init_cpu() */
void apic_init_cpu(void); /* this CPU's LAPIC on, LVTs set, spurious vector */
bool apic_is_x2apic(void);
uint32_t apic_id(void);
void apic_eoi(void);
uint32_t apic_error_status(void);
void apic_send_ipi(uint32_t dest, uint32_t vector);
void apic_send_init(uint32_t dest);
void apic_send_sipi(uint32_t dest, uint8_t page);
void apic_timer_set_mode(bool tsc_deadline); /* LVT timer: VEC_TIMER, one-shot or TSC-deadline */
void apic_timer_start(uint32_t count);       /* one-shot from count (divide by 1); 0 stops it */
uint32_t apic_timer_current(void);

/* ioapic.c */
void pic_disable(void);
void ioapic_init(const struct acpi_info *acpi);
int ioapic_route(uint32_t gsi, uint8_t vector, uint32_t dest, bool level, bool active_low);
int ioapic_mask(uint32_t gsi, bool masked);

/* irq.c */
void x86_irq_dispatch(struct trap_frame *tf);

/* rtc.c: the CMOS clock's time registers as read, and what they mean (host-tested). */
struct rtc_time {
	unsigned sec, min, hour, day, month, year, century;
};
int rtc_decode(struct rtc_time t, uint8_t reg_b, bool have_century, int64_t *unix_sec);

/* calibrate.c: where the TSC's (and the LAPIC timer's) rate comes from. */
struct tsc_rate {
	uint64_t tsc_hz;
	uint64_t apic_hz; /* 0 when not known */
	const char *how;  /* for the boot log: "cpuid ..." or the reference measured against */
	uint32_t window_us, ppm, polled_us; /* a measurement's span, precision and polling */
};
void calibrate_begin(void); /* arch_boot: the PIT's window opens, unless CPUID states the rate */
void calibrate_begin_apic(void); /* the LAPIC set up: its count, and the PM timer's window */
int tsc_rate_calibrate(struct tsc_rate *r, bool need_apic); /* arch_time_init: the rates */

/* tsc_cpuid.c: CPUID's timing leaves, judged (pure: host-tested). */
struct tsc_cpuid {
	uint32_t max_basic;                /* CPUID 0 EAX */
	uint32_t max_hv;                   /* CPUID 0x40000000 EAX; 0 without a hypervisor */
	uint32_t hv_tsc_khz, hv_bus_khz;   /* CPUID 0x40000010 EAX, EBX */
	uint32_t crystal_den, crystal_num; /* CPUID 0x15 EAX, EBX: TSC / crystal ratio */
	uint32_t crystal_hz;               /* CPUID 0x15 ECX */
	uint32_t base_mhz;                 /* CPUID 0x16 EAX[15:0] */
};
/* 0, -ENOENT when no leaf states a rate, -ERANGE when one states an implausible rate. */
int tsc_rate_from_cpuid(const struct tsc_cpuid *c, struct tsc_rate *r); /* 0x40000010, 0x15 */
int tsc_rate_from_base(const struct tsc_cpuid *c, struct tsc_rate *r);  /* 0x16: approximate */

/* time.c */
void x86_timer_cpu_init(void);
void x86_delay_us(uint64_t us);
uint64_t x86_tsc_hz(void);

/* smp.c */
void x86_percpu_init_bsp(void);
void x86_smp_reserve(struct boot_info *bi);
void x86_cpus_enumerate(void);
void x86_ipi_hook(unsigned kind);

#endif
