/*
 * Time on aarch64: the generic timer (ARM ARM D11, "The Generic Timer in
 * AArch64 state"). The virtual count CNTVCT_EL0 at CNTFRQ_EL0 Hz is the
 * monotonic clock; it is one system counter, so every CPU reads the same
 * time (entry.S zeroes CNTVOFF_EL2 when it owns EL2). Each CPU's virtual
 * timer (CNTV_CVAL_EL0 / CNTV_CTL_EL0) is its one-shot deadline, on the
 * PPI the DTB's /timer node gives (arm,arch_timer.yaml: the third
 * interrupt; 27 on SBSA machines). There is no periodic tick: a CPU with no
 * deadline takes no timer interrupts.
 */
#include <libfdt.h>

#include "aarch64.h"
#include "fdt_read.h"
#include "gic_reg.h"
#include "rt.h"

#define NS_PER_SEC        1000000000ull
#define CNTV_CTL_ENABLE   (1u << 0)
#define TIMER_VIRT_INDEX  2  /* secure phys, non-secure phys, virtual, hypervisor */
#define TIMER_PPI_DEFAULT 27 /* SBSA: the EL1 virtual timer */

static uint64_t cnt_hz, cnt_base;
static uint64_t ns_per_tick_q32, ticks_per_ns_q32;
static unsigned timer_ppi;
static char describe[64];

/* A rate as a 32.32 fixed-point factor: out = in * q32 >> 32, with no 128-bit division. */
static uint64_t q32_ratio(uint64_t num, uint64_t den)
{
	uint64_t whole = num / den, rest = num % den;
	return (whole << 32) + (rest << 32) / den; /* rest < den <= 2^32 keeps this in range */
}

/* v * q32 >> 32, saturating at UINT64_MAX. */
static uint64_t q32_mul(uint64_t v, uint64_t q32)
{
	unsigned __int128 p = (unsigned __int128)v * q32;
	return (p >> 96) ? UINT64_MAX : (uint64_t)(p >> 32);
}

/* ISB first: without it the counter may be read ahead of earlier instructions (D11.2.2). */
static uint64_t counter(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

uint64_t arch_time_ns(void)
{
	return q32_mul(counter() - cnt_base, ns_per_tick_q32);
}

const char *arch_time_describe(void)
{
	return describe;
}

/*
 * A plausible counter rate. System counters run at 1–50 MHz, and at 1 GHz
 * from Armv8.6 (ARM ARM D11.1.2); a rate far outside that is a broken
 * device tree or register, and time built on it would be wrong by orders
 * of magnitude (or overflow the tick conversions).
 */
#define COUNTER_HZ_MIN 100000ull
#define COUNTER_HZ_MAX 10000000000ull
static bool counter_hz_ok(uint64_t hz)
{
	return hz >= COUNTER_HZ_MIN && hz <= COUNTER_HZ_MAX;
}

/*
 * The counter's rate: /timer's clock-frequency when the device tree gives
 * one (as Linux, for firmware that leaves CNTFRQ_EL0 unset or wrong), else
 * CNTFRQ_EL0; 0 when neither is plausible.
 */
static uint64_t counter_hz(int node)
{
	int len;
	const fdt32_t *p =
	    node >= 0 ? fdtr_getprop(platform_fdt, node, "clock-frequency", &len) : NULL;
	if (p && len == 4) {
		if (counter_hz_ok(fdt32_ld(p)))
			return fdt32_ld(p);
		printf("time: ignoring the device tree's timer clock-frequency %u Hz\n",
		       fdt32_ld(p));
	}
	uint64_t hz = read_sysreg(cntfrq_el0) & 0xffffffffu;
	return counter_hz_ok(hz) ? hz : 0;
}

int arch_time_init(void)
{
	int node = dtb_nodes.timer;
	cnt_hz = counter_hz(node);
	if (cnt_hz == 0) {
		printf("time: the generic timer's frequency is unknown (CNTFRQ_EL0 is %lu Hz)\n",
		       (unsigned long)(read_sysreg(cntfrq_el0) & 0xffffffffu));
		return -ENODEV;
	}
	ns_per_tick_q32 = q32_ratio(NS_PER_SEC, cnt_hz);
	ticks_per_ns_q32 = q32_ratio(cnt_hz, NS_PER_SEC);
	unsigned flags = 0;
	if (node < 0 || irq_dtb_interrupt(node, TIMER_VIRT_INDEX, &timer_ppi, &flags) != 0 ||
	    timer_ppi < GIC_SGI_COUNT || timer_ppi >= GIC_SPI_FIRST) {
		timer_ppi = TIMER_PPI_DEFAULT;
		printf("time: no virtual timer PPI in the device tree, using INTID %u\n",
		       timer_ppi);
	}
	cnt_base = counter();
	arch_timer_stop();
	int err = irq_timer_line(timer_ppi, flags & ARCH_IRQ_EDGE);
	if (err) {
		printf("time: the timer's interrupt %u is not a PPI\n", timer_ppi);
		return err;
	}
	snprintf(describe, sizeof(describe), "generic timer %lu.%02lu MHz, PPI %u",
	         (unsigned long)(cnt_hz / 1000000), (unsigned long)(cnt_hz % 1000000 / 10000),
	         timer_ppi);
	return 0;
}

/* ---- the per-CPU one-shot timer ---- */

/*
 * The compare value for deadline_ns, rounded up a tick so the timer never
 * fires before arch_time_ns() reaches the deadline; a deadline in the past
 * fires at once (the condition CVAL <= count holds, D11.2.4). Interrupts off.
 */
void arch_timer_program(uint64_t deadline_ns)
{
	uint64_t ticks = q32_mul(deadline_ns, ticks_per_ns_q32);
	uint64_t cval = ticks >= UINT64_MAX - cnt_base - 1 ? UINT64_MAX : cnt_base + ticks + 1;
	write_sysreg(cntv_cval_el0, cval);
	write_sysreg(cntv_ctl_el0, CNTV_CTL_ENABLE);
	isb();
}

/* Also the first step of the timer's interrupt (irq.c): its output is a level. */
void arch_timer_stop(void)
{
	write_sysreg(cntv_ctl_el0, 0);
	isb();
}
