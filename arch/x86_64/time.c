/*
 * Time on x86_64: the TSC as the monotonic clock (Intel SDM vol. 3B, 17.17),
 * its rate from CPUID when the CPU or hypervisor states it and measured
 * against a fixed-rate timer otherwise (calibrate.c), and a one-shot timer
 * interrupt per CPU: TSC-deadline mode when offered (SDM 10.5.4.1), else the
 * LAPIC's one-shot count at a rate measured in the same calibration window.
 * There is no periodic tick: a CPU with no deadline takes no timer interrupts.
 */
#include <errno.h>

#include "rt.h"
#include "x86.h"

#define NS_PER_SEC 1000000000ull

/* A rate as a 32.32 fixed-point factor: out = in * q32 >> 32, without 128-bit division. */
static uint64_t q32_ratio(uint64_t num, uint64_t den)
{
	uint64_t whole = num / den, rest = num % den;
	return (whole << 32) + (rest << 32) / den; /* rest < den <= 2^32 keeps this in range */
}

static uint64_t q32_mul(uint64_t v, uint64_t q32)
{
	return (uint64_t)(((unsigned __int128)v * q32) >> 32);
}

static uint64_t tsc_hz, tsc_base;
static uint64_t ns_per_tsc_q32, tsc_per_ns_q32, apic_per_ns_q32;
static bool use_tsc_deadline;
static char describe[160];

uint64_t arch_time_ns(void)
{
	return q32_mul(rdtsc() - tsc_base, ns_per_tsc_q32);
}

uint64_t x86_tsc_hz(void)
{
	return tsc_hz;
}

/* Busy-wait on the TSC (SMP start-up delays); needs arch_time_init first. */
void x86_delay_us(uint64_t us)
{
	uint64_t end = arch_time_ns() + us * 1000;
	while (arch_time_ns() < end)
		cpu_pause();
}

const char *arch_time_describe(void)
{
	return describe;
}

/* "pit over 4.87 ms, +-81 ppm, 198 us polling" for a measured rate, else where it came from. */
static void describe_rate(const struct tsc_rate *r, char *buf, size_t size)
{
	if (!r->window_us) {
		snprintf(buf, size, "%s", r->how);
		return;
	}
	snprintf(buf, size, "%s over %lu.%02lu ms, +-%lu ppm, %lu us polling", r->how,
	         (unsigned long)r->window_us / 1000, (unsigned long)r->window_us % 1000 / 10,
	         (unsigned long)r->ppm, (unsigned long)r->polled_us);
}

static void set_rates(const struct tsc_rate *rate)
{
	uint64_t hz = rate->tsc_hz;
	tsc_hz = hz;
	ns_per_tsc_q32 = q32_ratio(NS_PER_SEC, hz);
	tsc_per_ns_q32 = q32_ratio(hz, NS_PER_SEC);
	if (rate->apic_hz)
		apic_per_ns_q32 = q32_ratio(rate->apic_hz, NS_PER_SEC);
	uint32_t r[4];
	cpuid(0x80000000, 0, r);
	bool invariant = false;
	if (r[0] >= 0x80000007) {
		cpuid(0x80000007, 0, r);
		invariant = r[3] & CPUID80000007_EDX_INVARIANT_TSC;
	}
	char how[80];
	describe_rate(rate, how, sizeof(how));
	snprintf(describe, sizeof(describe), "tsc %lu.%02lu GHz (%s%s)%s",
	         (unsigned long)(hz / NS_PER_SEC), (unsigned long)(hz % NS_PER_SEC / 10000000), how,
	         invariant ? "" : ", not invariant",
	         use_tsc_deadline ? ", tsc-deadline timer" : ", lapic timer");
}

int arch_time_init(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	use_tsc_deadline = r[2] & CPUID1_ECX_TSC_DEADLINE;
	struct tsc_rate rate = {0};
	if (tsc_rate_calibrate(&rate, !use_tsc_deadline) != 0) {
		printf("time: no way to tell the TSC's rate\n");
		return -ENODEV;
	}
	if (!use_tsc_deadline && rate.apic_hz == 0) {
		printf("time: no TSC-deadline timer and the LAPIC timer does not count\n");
		return -ENODEV;
	}
	tsc_base = rdtsc();
	set_rates(&rate);
	x86_timer_cpu_init();
	return 0;
}

/* ---- the per-CPU one-shot timer ---- */

void x86_timer_cpu_init(void)
{
	apic_timer_set_mode(use_tsc_deadline);
	arch_timer_stop();
}

/*
 * Program the hardware for deadline_ns, relative to now so that fixed-point
 * rounding stays proportional to the wait; it errs late by a tick or two, and
 * cpu_timer_expired (rt/cpu_timer.c) re-arms for the rest if the hardware
 * fired early anyway. Interrupts off.
 */
void arch_timer_program(uint64_t deadline_ns)
{
	uint64_t tsc = rdtsc();
	uint64_t now = q32_mul(tsc - tsc_base, ns_per_tsc_q32);
	uint64_t delta = deadline_ns > now ? deadline_ns - now : 0;
	if (use_tsc_deadline) {
		wrmsr(MSR_TSC_DEADLINE, tsc + q32_mul(delta, tsc_per_ns_q32) + 2);
		return;
	}
	uint64_t ticks = q32_mul(delta, apic_per_ns_q32) + 1;
	apic_timer_start(ticks > 0xffffffffu ? 0xffffffffu : (uint32_t)ticks);
}

void arch_timer_stop(void)
{
	if (use_tsc_deadline)
		wrmsr(MSR_TSC_DEADLINE, 0);
	else
		apic_timer_start(0);
}
