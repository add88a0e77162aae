/*
 * timer: the monotonic clock never goes backwards; one-shot timers fire on
 * the CPU that armed them, never before their deadline, wake a halted CPU,
 * can be replaced and cancelled; every CPU's timer works and its clock agrees
 * with the boot CPU's; the wall clock is plausible (2024 or later).
 *
 * Lateness is printed, never checked: under TCG a vCPU may be descheduled
 * for as long as the host likes. Prints "timer: ok" and returns 0, or FAIL
 * lines and 1. A timer that never fires leaves the CPU halted: the harness's
 * timeout fails the test then. Like cpus.c, it owns the timer and IPI hooks
 * while it runs.
 */
#include <stdio.h>

#include "arch.h"
#include "noos.h"
#include "rt.h"
#include "fail.h"

#define MS            1000000ull
#define TIMEOUT_NS    (2000 * MS)
#define YEAR_2024_SEC 1704067200ll
#define YEAR_2100_SEC 4102444800ll

static int fire_count[ARCH_MAX_CPUS];
static uint64_t fire_time[ARCH_MAX_CPUS];
static uint64_t deadline_of[ARCH_MAX_CPUS];
static uint64_t ipi_time[ARCH_MAX_CPUS];
static int answered;

static void on_timer(void)
{
	unsigned id = arch_cpu_id();
	fire_time[id] = arch_time_ns();
	__atomic_fetch_add(&fire_count[id], 1, __ATOMIC_RELEASE);
}

static void check_monotonic(void)
{
	uint64_t first = arch_time_ns(), prev = first;
	for (int i = 0; i < 100000; i++) {
		uint64_t t = arch_time_ns();
		if (t < prev) {
			FAIL("clock went back from %lu to %lu ns\n", (unsigned long)prev,
			     (unsigned long)t);
			return;
		}
		prev = t;
	}
	if (prev == first)
		FAIL("clock stood still over 100000 reads\n");
}

/* Arm on this CPU, halt until it fires; returns how late it was, or fails if early. */
static uint64_t oneshot_on_boot_cpu(int64_t delay_ns)
{
	unsigned long s = arch_irq_save();
	int before = fire_count[0];
	uint64_t deadline = arch_time_ns() + delay_ns;
	cpu_timer_oneshot(deadline);
	while (__atomic_load_n(&fire_count[0], __ATOMIC_ACQUIRE) == before)
		arch_cpu_idle();
	arch_irq_restore(s);
	if (fire_count[0] != before + 1)
		FAIL("a %ld ns timer fired %d times\n", (long)delay_ns, fire_count[0] - before);
	if (fire_time[0] < deadline)
		FAIL("a %ld ns timer fired %lu ns early\n", (long)delay_ns,
		     (unsigned long)(deadline - fire_time[0]));
	return fire_time[0] > deadline ? fire_time[0] - deadline : 0;
}

static void spin_ns(uint64_t ns)
{
	uint64_t end = arch_time_ns() + ns;
	while (arch_time_ns() < end)
		;
}

static void check_cancel_and_replace(void)
{
	int before = fire_count[0];
	unsigned long s = arch_irq_save();
	cpu_timer_oneshot(arch_time_ns() + 2 * MS);
	cpu_timer_cancel();
	arch_irq_restore(s);
	spin_ns(20 * MS);
	if (fire_count[0] != before)
		FAIL("a cancelled timer fired\n");

	s = arch_irq_save();
	cpu_timer_oneshot(arch_time_ns() + 15 * MS); /* replaced at once by the nearer one */
	arch_irq_restore(s);
	oneshot_on_boot_cpu(3 * MS);
	spin_ns(30 * MS);
	if (fire_count[0] != before + 1)
		FAIL("a replaced deadline fired as well (%d fires)\n", fire_count[0] - before);

	/* A later deadline replaces a nearer one: the hardware, left armed, fires early; once. */
	s = arch_irq_save();
	cpu_timer_oneshot(arch_time_ns() + 2 * MS);
	arch_irq_restore(s);
	oneshot_on_boot_cpu(12 * MS);
	/* A cancel after a replacement: nothing fires, though the hardware stays armed. */
	s = arch_irq_save();
	cpu_timer_oneshot(arch_time_ns() + 2 * MS);
	cpu_timer_oneshot(arch_time_ns() + 4 * MS);
	cpu_timer_cancel();
	arch_irq_restore(s);
	spin_ns(20 * MS);
	if (fire_count[0] != before + 2)
		FAIL("replaced and cancelled deadlines: %d fires, want 2\n",
		     fire_count[0] - before);
}

/* On each CPU, from its IPI handler: note the time, arm that CPU's timer 2 ms ahead. */
static void on_ipi(enum arch_ipi kind)
{
	(void)kind;
	unsigned id = arch_cpu_id();
	ipi_time[id] = arch_time_ns();
	deadline_of[id] = ipi_time[id] + 2 * MS;
	cpu_timer_oneshot(deadline_of[id]);
	__atomic_fetch_add(&answered, 1, __ATOMIC_RELEASE);
}

static void check_every_cpu(unsigned n)
{
	int before[ARCH_MAX_CPUS];
	for (unsigned i = 0; i < n; i++)
		before[i] = __atomic_load_n(&fire_count[i], __ATOMIC_ACQUIRE);
	arch_ipi_set_handler(on_ipi);
	uint64_t sent = arch_time_ns();
	for (unsigned i = 0; i < n; i++)
		arch_ipi_send(i, ARCH_IPI_WAKEUP);
	uint64_t end = sent + TIMEOUT_NS;
	for (unsigned i = 0; i < n; i++)
		while (__atomic_load_n(&fire_count[i], __ATOMIC_ACQUIRE) == before[i] &&
		       arch_time_ns() < end)
			;
	uint64_t done = arch_time_ns();
	arch_ipi_set_handler(NULL);
	for (unsigned i = 0; i < n; i++) {
		if (fire_count[i] != before[i] + 1) {
			FAIL("cpu %u: its timer fired %d times, want 1\n", i,
			     fire_count[i] - before[i]);
			continue;
		}
		if (fire_time[i] < deadline_of[i])
			FAIL("cpu %u: timer fired %lu ns early\n", i,
			     (unsigned long)(deadline_of[i] - fire_time[i]));
		/* The CPU read its clock between our two reads: the clocks agree. */
		if (ipi_time[i] < sent || ipi_time[i] > done)
			FAIL("cpu %u: its clock read %lu, outside [%lu, %lu] of cpu 0's\n", i,
			     (unsigned long)ipi_time[i], (unsigned long)sent, (unsigned long)done);
	}
}

static void check_wallclock(void)
{
	int64_t w = noos_wallclock_ns();
	if (w < 0) {
		FAIL("no wall clock (%ld)\n", (long)w);
		return;
	}
	int64_t sec = w / 1000000000;
	printf("wall clock: %ld s since 1970\n", (long)sec);
	if (sec < YEAR_2024_SEC || sec >= YEAR_2100_SEC)
		FAIL("wall clock %ld s is not between 2024 and 2100\n", (long)sec);
	spin_ns(10 * MS);
	int64_t later = noos_wallclock_ns();
	if (later - w < (int64_t)(10 * MS))
		FAIL("wall clock advanced %ld ns over 10 ms\n", (long)(later - w));
}

int main(void)
{
	unsigned n = cpu_count();
	printf("timer: %u cpus, %s\n", n, arch_time_describe());
	check_monotonic();
	cpu_timer_set_handler(on_timer);
	static const int64_t delays[] = {-1000, 0, 50000, 1000000, 10000000};
	for (unsigned i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		uint64_t late = oneshot_on_boot_cpu(delays[i]);
		printf("one-shot %ld ns: fired %lu us late\n", (long)delays[i],
		       (unsigned long)(late / 1000));
	}
	check_cancel_and_replace();
	check_every_cpu(n);
	cpu_timer_set_handler(NULL);
	check_wallclock();
	if (failures)
		return 1;
	printf("timer: ok\n");
	return 0;
}
