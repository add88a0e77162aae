/*
 * The TSC's rate: stated by CPUID where the hypervisor or CPU gives it, else
 * measured against a timer of known frequency (the ACPI PM timer, or PIT
 * channel 0 where there is none, as on microvm) over a window of about 1 ms.
 * The LAPIC timer's count rate is measured in the same window, for CPUs that
 * lack the TSC-deadline timer.
 */
#include <errno.h>

#include "acpi.h"
#include "rt.h"
#include "x86.h"

#define PM_TIMER_HZ 3579545 /* ACPI 6.5, 4.8.3.3 */
#define PIT_HZ      1193182 /* 8254: 14.31818 MHz / 12 */
#define PIT_CH0     0x40
#define PIT_MODE    0x43

#define WINDOW_US     1000  /* calibration length when the reads are quick */
#define MAX_WINDOW_US 10000 /* ... and when the host keeps interrupting them */
#define BRACKET_PPM   400   /* accept once the edges' uncertainty is below this share */
#define DEAD_SAMPLES  10000 /* a reference that has not moved after this many reads is absent */

int tsc_rate_cpuid(struct tsc_rate *r)
{
	uint32_t c[4];
	cpuid(1, 0, c);
	if (c[2] & CPUID1_ECX_HYPERVISOR) {
		/* Hypervisor timing leaf (VMware's, also offered by KVM/QEMU): kHz in EAX, EBX. */
		cpuid(0x40000000, 0, c);
		if (c[0] >= 0x40000010 && c[0] < 0x40000100) {
			cpuid(0x40000010, 0, c);
			if (c[0]) {
				*r = (struct tsc_rate){c[0] * 1000ull, c[1] * 1000ull,
				                       "cpuid 0x40000010"};
				return 0;
			}
		}
	}
	cpuid(0, 0, c);
	if (c[0] < 0x15)
		return -ENOENT;
	/* SDM vol. 2A CPUID leaf 15H: TSC = crystal * EBX / EAX; the LAPIC timer runs at the
	 * crystal. */
	cpuid(0x15, 0, c);
	if (!c[0] || !c[1] || !c[2])
		return -ENOENT;
	*r = (struct tsc_rate){(uint64_t)c[2] * c[1] / c[0], c[2], "cpuid 0x15"};
	return 0;
}

int tsc_rate_cpuid_base(struct tsc_rate *r)
{
	uint32_t c[4];
	cpuid(0, 0, c);
	if (c[0] < 0x16)
		return -ENOENT;
	cpuid(0x16, 0, c); /* processor base frequency in MHz: close to, not exactly, the TSC's */
	if (!(c[0] & 0xffff))
		return -ENOENT;
	*r = (struct tsc_rate){(uint64_t)(c[0] & 0xffff) * 1000000, 0, "cpuid 0x16, approximate"};
	return 0;
}

/* A reference counter: latch (may be NULL) fixes the value, fetch reads it, counting up. */
struct ref_clock {
	void (*latch)(void);
	uint32_t (*fetch)(void);
	uint32_t mask;
	uint64_t hz;
	const char *name;
};

static uint16_t pm_port;

static uint32_t pm_fetch(void)
{
	return inl(pm_port);
}

static void pit_latch(void)
{
	outb(PIT_MODE, 0x00); /* counter latch command, channel 0 */
}

static uint32_t pit_fetch(void)
{
	uint32_t lo = inb(PIT_CH0), hi = inb(PIT_CH0);
	return (0x10000 - (lo | hi << 8)) & 0xffff; /* the PIT counts down */
}

/* One read of the reference, bracketed by TSC reads: it happened in [a, b]. */
struct read {
	uint64_t a, b;
	uint32_t ref;
};

static void take(const struct ref_clock *c, struct read *r)
{
	r->a = rdtsc();
	if (c->latch)
		c->latch();
	else
		r->ref = c->fetch();
	r->b = rdtsc();
	if (c->latch)
		r->ref = c->fetch();
}

/*
 * The moment the reference reached a new value: it lies between the read
 * before (which saw the old value) and the read that saw the new one. Timing
 * edges this way, instead of single reads, removes the reference's own
 * quantization (a PIT tick is 838 ns); what is left is the polling interval.
 */
struct edge {
	uint64_t tsc;   /* middle of the interval */
	uint64_t width; /* its length */
	uint32_t ref;
};

/* Poll from *last until the value changes; false if it never does. */
static bool next_edge(const struct ref_clock *c, struct read *last, struct edge *e)
{
	for (unsigned n = 0; n < DEAD_SAMPLES; n++) {
		struct read r;
		take(c, &r);
		if (r.ref != last->ref) {
			*e = (struct edge){last->a + (r.b - last->a) / 2, r.b - last->a, r.ref};
			*last = r;
			return true;
		}
		*last = r;
	}
	return false;
}

/* The edges' uncertainty, as a share of the span between them, is at most ppm. */
static bool narrow_enough(const struct edge *e0, const struct edge *e, uint64_t ppm)
{
	return (e0->width + e->width) / 2 * (1000000 / ppm) <= e->tsc - e0->tsc;
}

/*
 * From a start edge, follow the reference edge by edge until the window is
 * long enough and the end edge narrow next to it. When the host keeps
 * preempting the reads, stretch the window and relax the bound rather than
 * time an edge to within a millisecond. Returns the reference ticks, 0 if the
 * reference does not move.
 */
static uint64_t run_window(const struct ref_clock *c, struct edge *e0, struct edge *e)
{
	uint64_t ticks = 0, want = c->hz * WINDOW_US / 1000000;
	uint64_t most = c->hz * MAX_WINDOW_US / 1000000;
	struct read last;
	take(c, &last);
	/* Warm up (an emulator translates the loop on its first pass), then a narrow start edge. */
	for (int i = 0; i < 4 || e0->width > 4 * (last.b - last.a); i++)
		if (!next_edge(c, &last, e0) || i > 64)
			return 0;
	for (;;) {
		uint32_t prev = last.ref;
		if (!next_edge(c, &last, e))
			return 0;
		ticks += (e->ref - prev) & c->mask;
		if (ticks >= want && narrow_enough(e0, e, BRACKET_PPM))
			return ticks;
		if (ticks >= most && narrow_enough(e0, e, 4 * BRACKET_PPM))
			return ticks;
		if (ticks >= 4 * most)
			return ticks;
	}
}

/* The LAPIC timer's count at a TSC time, bracketed like a reference read. */
struct apic_read {
	uint64_t tsc;
	uint32_t left;
};

__attribute__((noinline)) static void apic_take(struct apic_read *r)
{
	uint64_t a = rdtsc();
	r->left = apic_timer_current();
	r->tsc = a + (rdtsc() - a) / 2;
}

/*
 * Counts per second of the LAPIC timer between two reads. Both reads go
 * through apic_take after a warm-up read, so neither pays for an emulator
 * translating new code between the count and its timestamp.
 */
static uint64_t apic_rate(const struct apic_read *a0, const struct apic_read *a1, uint64_t tsc_hz)
{
	if (a1->left == 0 || a1->left >= a0->left || a1->tsc <= a0->tsc)
		return 0;
	return (uint64_t)(a0->left - a1->left) * tsc_hz / (a1->tsc - a0->tsc);
}

static void apic_begin(struct apic_read *a0)
{
	apic_timer_start(0xffffffffu); /* masked LVT: it counts without interrupting */
	apic_take(a0);
	apic_take(a0);
}

static int measure(const struct ref_clock *c, struct tsc_rate *r)
{
	struct edge e0, e;
	struct apic_read a0, a1;
	apic_begin(&a0);
	uint64_t ticks = run_window(c, &e0, &e);
	apic_take(&a1);
	apic_timer_start(0);
	if (ticks == 0 || e.tsc <= e0.tsc)
		return -EIO;
	r->tsc_hz = (e.tsc - e0.tsc) * c->hz / ticks;
	r->apic_hz = apic_rate(&a0, &a1, r->tsc_hz);
	r->how = c->name;
	return r->tsc_hz ? 0 : -EIO;
}

static int measure_pit(struct tsc_rate *r)
{
	static const struct ref_clock pit = {pit_latch, pit_fetch, 0xffff, PIT_HZ,
	                                     "calibrated, pit"};
	outb(PIT_MODE, 0x34); /* channel 0, lobyte/hibyte, mode 2 (rate generator), binary */
	outb(PIT_CH0, 0);     /* reload 0 = 65536: wraps every 55 ms, polled far more often */
	outb(PIT_CH0, 0);
	int err = measure(&pit, r);
	outb(PIT_MODE, 0x30); /* mode 0: one terminal count (its IRQ is masked), then quiet */
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
	return err;
}

int tsc_rate_calibrate(struct tsc_rate *r)
{
	const struct acpi_info *a = platform();
	if (a->pm_timer_port) {
		pm_port = a->pm_timer_port;
		struct ref_clock pm = {NULL, pm_fetch, a->pm_timer_32bit ? 0xffffffffu : 0xffffffu,
		                       PM_TIMER_HZ, "calibrated, acpi pm timer"};
		if (measure(&pm, r) == 0)
			return 0;
		printf("time: the ACPI PM timer does not count; trying the PIT\n");
	}
	return measure_pit(r);
}

uint64_t apic_rate_against_tsc(uint64_t tsc_hz)
{
	struct apic_read a0, a1;
	apic_begin(&a0);
	uint64_t until = a0.tsc + tsc_hz / 2000; /* 500 us */
	while (rdtsc() < until)
		cpu_pause();
	apic_take(&a1);
	apic_timer_start(0);
	return apic_rate(&a0, &a1, tsc_hz);
}
