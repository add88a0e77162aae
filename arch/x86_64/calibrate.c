/*
 * The TSC's rate: stated by CPUID where the hypervisor or CPU gives a
 * plausible one (tsc_cpuid.c), else measured against a timer of known
 * frequency without waiting for it. The window opens early in boot and
 * closes where the rate is first needed, so boot's own work fills it:
 *
 *   arch_boot       calibrate_begin       PIT channel 0 starts and a start edge is
 *                                         timed (without a PIT, on the ACPI PM timer,
 *                                         whose port platform_init has just read)
 *   apic_init_bsp   calibrate_begin_apic  the LAPIC timer starts counting
 *   arch_time_init  tsc_rate_calibrate    an end edge is timed; the rates follow
 *
 * Only a window too short for the precision wanted polls on; the boot log says
 * how long the window was, its precision and how long it polled.
 *
 * The references wrap (PIT: 16 bits at 1.193182 MHz, 55 ms; PM timer: 24 bits
 * at 3.579545 MHz, 4.7 s) and boot does not read them in between, so a wrap in
 * the gap cannot be counted. It is detected instead: right after the start
 * edge, the TSC's rate is taken over a short window too (CHECK_US). A window
 * that really lasted W + k*P (W < P, the period) reads as W, so its rate
 * comes out more than twice the short window's; rates disagreeing by more
 * than a quarter mean measure again, waiting this time.
 */
#include <errno.h>

#include "acpi.h"
#include "rt.h"
#include "x86.h"

#define PM_TIMER_HZ 3579545 /* ACPI 6.5, 4.8.3.3 */
#define PIT_HZ      1193182 /* 8254: 14.31818 MHz / 12 */
#define PIT_CH0     0x40
#define PIT_MODE    0x43

/*
 * Precision, as the two edges' uncertainty over the window's span: TSC_PPM at
 * once (a fixed 1 ms window got 220-310 ppm under TCG, its bound was 400);
 * when the host keeps preempting the reads, twice that after polling 1 ms,
 * 8 times after 10 ms, anything after 40 ms. The LAPIC timer only times
 * interrupts (one that comes early is re-armed), so it needs less.
 */
#define TSC_PPM      200
#define APIC_PPM     500
#define WAIT_US      1000
#define MAX_WAIT_US  10000
#define CHECK_US     20   /* the short window after the start edge, that shows a wrap */
#define CHECK_SHARE  4    /* the two windows' rates agree within 1/4 */
#define DEAD_SAMPLES 1000 /* a reference that has not moved after this many reads is absent */
#define MIN(a, b)                                                                                  \
	((a) < (b) ? (a) : (b)) /* the LAPIC timer's window: its reads' uncertainty below this */

/* A reference counter: latch (may be NULL) fixes the value, fetch reads it, counting up. */
struct ref_clock {
	void (*latch)(void);
	uint32_t (*fetch)(void);
	uint32_t mask;
	uint64_t hz;
	const char *name;
};

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

/* A window's start edge, and the TSC's rate over a short window after it. */
struct window {
	struct edge e0;
	uint64_t check_hz;
};

/* The LAPIC timer's count at a TSC time, bracketed like a reference read. */
struct apic_read {
	uint64_t tsc, width;
	uint32_t left;
};

/* What calibrate_begin* started, for tsc_rate_calibrate to finish. Boot CPU only. */
static struct {
	struct tsc_cpuid cpuid;
	int cpuid_err; /* tsc_rate_from_cpuid's answer */
	struct tsc_rate stated;
	const struct ref_clock *ref; /* the open window's reference; NULL: none open */
	struct window win;
	bool apic_open;
	struct apic_read apic0;
} cal;

static uint16_t pm_port;
static struct ref_clock pm = {NULL, NULL, 0, PM_TIMER_HZ, "acpi pm timer"};

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

static const struct ref_clock pit = {pit_latch, pit_fetch, 0xffff, PIT_HZ, "pit"};

/*
 * Channel 0, not channel 2 (the one calibration code often takes, as it drives
 * no interrupt): channel 2's gate is bit 0 of port 0x61, which QEMU's microvm
 * does not decode (it reads 0xff there), and in mode 2 a low gate stops the
 * count (8254 data sheet). QEMU counts anyway; another VMM need not. IRQ 0 is
 * masked or interrupts are off meanwhile.
 */
static void pit_start(void)
{
	outb(PIT_MODE, 0x34); /* channel 0, lobyte/hibyte, mode 2 (rate generator), binary */
	outb(PIT_CH0, 0);     /* reload 0 = 65536: wraps every 55 ms */
	outb(PIT_CH0, 0);
}

static void pit_quiet(void)
{
	outb(PIT_MODE, 0x30); /* mode 0: one terminal count (its IRQ is masked), then quiet */
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
}

static const struct ref_clock *pm_clock(void)
{
	const struct acpi_info *a = platform();
	if (!a->pm_timer_port)
		return NULL;
	pm_port = a->pm_timer_port;
	pm.fetch = pm_fetch;
	pm.mask = a->pm_timer_32bit ? 0xffffffffu : 0xffffffu;
	return &pm;
}

/* ---- edges ---- */

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

/* The edges' uncertainty as a share of the span between them, in ppm. */
static uint64_t ppm_between(const struct edge *a, const struct edge *b)
{
	if (b->tsc <= a->tsc)
		return UINT64_MAX;
	return (a->width + b->width) / 2 * 1000000 / (b->tsc - a->tsc);
}

/* The uncertainty accepted after polling for `polled_us` (see TSC_PPM). */
static uint64_t ppm_allowed(uint64_t ppm, uint64_t polled_us)
{
	if (polled_us < WAIT_US)
		return ppm;
	if (polled_us < MAX_WAIT_US)
		return 2 * ppm;
	return polled_us < 4 * MAX_WAIT_US ? 8 * ppm : UINT64_MAX;
}

/* ---- a window: open early, closed late ---- */

/*
 * Edges from *last until one is narrow (no wider than four reads) and at
 * least `min` have passed, adding up the ticks.
 */
static bool narrow_edge(const struct ref_clock *c, struct read *last, int min, struct edge *e,
                        uint64_t *ticks)
{
	for (int i = 1; i <= 64; i++) {
		uint32_t prev = last->ref;
		if (!next_edge(c, last, e))
			return false;
		*ticks += (e->ref - prev) & c->mask;
		if (i >= min && e->width <= 4 * (last->b - last->a))
			return true;
	}
	return false;
}

/* a * b / c without overflow in between (the image has no 128-bit division); saturates. */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t ab;
	if (!__builtin_mul_overflow(a, b, &ab))
		return ab / c;
	unsigned __int128 n = (unsigned __int128)a * b, q = 0, rem = 0;
	for (int bit = 127; bit >= 0; bit--) {
		rem = rem << 1 | (uint64_t)(n >> bit & 1);
		if (rem >= c) {
			rem -= c;
			q |= (unsigned __int128)1 << bit;
		}
	}
	return q >> 64 ? UINT64_MAX : (uint64_t)q;
}

static uint64_t rate(uint64_t tsc_span, uint64_t ref_hz, uint64_t ticks)
{
	return mul_div(tsc_span, ref_hz, ticks);
}

static uint32_t tsc_us(uint64_t tsc, uint64_t hz)
{
	uint64_t us = mul_div(tsc, 1000000, hz);
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/*
 * A window's start: a narrow edge e0 after a warm-up (an emulator translates
 * the loop on its first pass), and the TSC's rate over the CHECK_US after it,
 * which the whole window's must match (no wrap). That short window is timed
 * here because reads are quick now (0.1 us under TCG), while the first reads
 * at the window's end were seen to take 30-150 us each, which would stretch
 * a short window to a millisecond before its edges were narrow enough.
 */
static bool window_open(const struct ref_clock *c, struct window *w)
{
	struct read last;
	uint64_t ticks = 0, check = c->hz * CHECK_US / 1000000;
	take(c, &last);
	if (!narrow_edge(c, &last, 4, &w->e0, &ticks))
		return false;
	struct edge e;
	ticks = 0;
	do {
		uint32_t prev = last.ref;
		if (!next_edge(c, &last, &e))
			return false;
		ticks += (e.ref - prev) & c->mask;
	} while (ticks < check ||
	         (w->e0.width + e.width) / 2 * CHECK_SHARE * 2 > e.tsc - w->e0.tsc);
	w->check_hz = rate(e.tsc - w->e0.tsc, c->hz, ticks);
	return true;
}

/* The end of a window: its last edge, the reference ticks since e0 and how long it polled. */
struct window_end {
	struct edge e;
	uint64_t ticks; /* as counted: a wrap in the gap is missed */
	uint64_t polled_tsc;
};

/* Poll edges until one is narrow enough next to the window, by ppm_allowed's standard. */
static bool window_close(const struct ref_clock *c, const struct edge *e0, struct window_end *w)
{
	struct read last;
	take(c, &last);
	uint64_t start = last.a, polled = 0;
	w->ticks = (last.ref - e0->ref) & c->mask;
	do {
		uint32_t prev = last.ref;
		if (!next_edge(c, &last, &w->e))
			return false;
		uint64_t d = (w->e.ref - prev) & c->mask;
		w->ticks += d;
		polled += d;
	} while (ppm_between(e0, &w->e) > ppm_allowed(TSC_PPM, polled * 1000000 / c->hz));
	w->polled_tsc = last.b - start;
	return true;
}

/* The TSC's rate over a window; -EAGAIN when it disagrees with the check (a wrap, see the top). */
static int window_rate(const struct ref_clock *c, const struct window *win, struct tsc_rate *r)
{
	struct window_end w;
	if (!window_close(c, &win->e0, &w) || w.ticks == 0)
		return -EIO;
	uint64_t whole = rate(w.e.tsc - win->e0.tsc, c->hz, w.ticks), part = win->check_hz;
	if (whole == 0 || (whole > part ? whole - part : part - whole) > part / CHECK_SHARE)
		return -EAGAIN;
	*r = (struct tsc_rate){.tsc_hz = whole,
	                       .how = c->name,
	                       .window_us = tsc_us(w.e.tsc - win->e0.tsc, whole),
	                       .ppm = (uint32_t)MIN(ppm_between(&win->e0, &w.e), UINT32_MAX),
	                       .polled_us = tsc_us(w.polled_tsc, whole)};
	return 0;
}

/* A window of its own, waited for: when none was open, or the open one failed. */
static int measure(const struct ref_clock *c, struct tsc_rate *r)
{
	struct window w;
	if (c == &pit)
		pit_start();
	int err = window_open(c, &w) ? window_rate(c, &w, r) : -EIO;
	if (c == &pit)
		pit_quiet();
	return err;
}

/* ---- the LAPIC timer, against the TSC ---- */

__attribute__((noinline)) static void apic_take(struct apic_read *r)
{
	uint64_t a = rdtsc();
	r->left = apic_timer_current();
	uint64_t b = rdtsc();
	*r = (struct apic_read){a + (b - a) / 2, b - a, r->left};
}

/* Twice, so that the kept read does not pay for an emulator translating new code. */
static void apic_begin(void)
{
	apic_timer_start(
	    0xffffffffu); /* masked LVT (apic_init_cpu): it counts without interrupting */
	apic_take(&cal.apic0);
	apic_take(&cal.apic0);
	cal.apic_open = true;
}

/*
 * LAPIC counts per second from apic0 on. The window ran since
 * calibrate_begin_apic (nothing between resets the count or the divider);
 * polls on only while it is too short for the reads' uncertainty, up to
 * 40 ms. A count that ran out is restarted.
 */
static uint64_t apic_close(uint64_t tsc_hz)
{
	if (!cal.apic_open)
		apic_begin();
	struct apic_read a1;
	uint64_t start = rdtsc(), polled_us;
	for (;;) {
		apic_take(&a1);
		polled_us = tsc_us(a1.tsc - start, tsc_hz);
		if (a1.left == 0 && polled_us < 4 * MAX_WAIT_US) {
			apic_begin(); /* it ran out: counted too fast, or the window was long */
			continue;
		}
		uint64_t width = (cal.apic0.width + a1.width) / 2;
		uint64_t allowed = ppm_allowed(APIC_PPM, polled_us);
		if (allowed == UINT64_MAX || width * 1000000 / allowed <= a1.tsc - cal.apic0.tsc)
			break;
	}
	apic_timer_start(0);
	cal.apic_open = false;
	if (a1.left == 0 || a1.left >= cal.apic0.left || a1.tsc <= cal.apic0.tsc)
		return 0;
	return mul_div(cal.apic0.left - a1.left, tsc_hz, a1.tsc - cal.apic0.tsc);
}

/* ---- the three steps ---- */

/* The timing leaves as this CPU (or its hypervisor) states them; tsc_cpuid.c judges them. */
static void tsc_cpuid_read(struct tsc_cpuid *c)
{
	uint32_t r[4];
	*c = (struct tsc_cpuid){0};
	cpuid(0, 0, r);
	c->max_basic = r[0];
	if (c->max_basic >= 0x15) {
		cpuid(0x15, 0, r);
		c->crystal_den = r[0];
		c->crystal_num = r[1];
		c->crystal_hz = r[2];
	}
	if (c->max_basic >= 0x16) {
		cpuid(0x16, 0, r);
		c->base_mhz = r[0] & 0xffff;
	}
	cpuid(1, 0, r);
	if (!(r[2] & CPUID1_ECX_HYPERVISOR))
		return;
	cpuid(0x40000000, 0, r);
	c->max_hv = r[0];
	if (c->max_hv >= 0x40000010 && c->max_hv < 0x40000100) {
		cpuid(0x40000010, 0, r);
		c->hv_tsc_khz = r[0];
		c->hv_bus_khz = r[1];
	}
}

void calibrate_begin(void)
{
	tsc_cpuid_read(&cal.cpuid);
	cal.cpuid_err = tsc_rate_from_cpuid(&cal.cpuid, &cal.stated);
	if (cal.cpuid_err == 0)
		return;
	pit_start();
	if (window_open(&pit, &cal.win)) {
		cal.ref = &pit;
		return;
	}
	pit_quiet();
	if (pm_clock() && window_open(&pm, &cal.win))
		cal.ref = &pm;
}

void calibrate_begin_apic(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	if (!(r[2] & CPUID1_ECX_TSC_DEADLINE) && !(cal.cpuid_err == 0 && cal.stated.apic_hz))
		apic_begin();
}

static int measure_tsc(struct tsc_rate *r)
{
	const struct ref_clock *open = cal.ref;
	cal.ref = NULL;
	if (open) {
		int err = window_rate(open, &cal.win, r);
		if (open == &pit)
			pit_quiet();
		if (err == 0)
			return 0;
		printf("time: the %s %s during boot; measuring again\n", open->name,
		       err == -EAGAIN ? "wrapped or stalled" : "stopped counting");
	}
	if (pm_clock() && measure(&pm, r) == 0)
		return 0;
	return measure(&pit, r);
}

int tsc_rate_calibrate(struct tsc_rate *r, bool need_apic)
{
	if (cal.cpuid_err == -ERANGE)
		printf("time: CPUID states an implausible TSC rate; measuring it\n");
	int err = 0;
	if (cal.cpuid_err == 0)
		*r = cal.stated;
	else if ((err = measure_tsc(r)) != 0)
		err = tsc_rate_from_base(&cal.cpuid, r);
	if (err == 0 && need_apic && r->apic_hz == 0)
		r->apic_hz = apic_close(r->tsc_hz);
	else if (cal.apic_open)
		apic_timer_start(0);
	return err;
}
