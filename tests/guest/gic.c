/*
 * gic (aarch64): a real device line and MSIs through the arch interrupt API,
 * on QEMU virt's GICv2 (with its GICv2m frame) or GICv3 (with its ITS).
 *
 * The line: the PL031 RTC's alarm (SPI 2, level-high in QEMU's device
 * tree; PL031 TRM DDI 0224: RTCMR match sets RTCRIS, RTCIMSC passes it to
 * the interrupt, RTCICR clears it). QEMU raises it at once when the match
 * register is written with the current count. Registered with no flags, so
 * the trigger comes from the device tree. Checks: the handler runs with its
 * context, in interrupt context, on the boot CPU; two handlers share the
 * line; a trigger that contradicts the tree is refused; mask holds the
 * interrupt back and unmask delivers it; unregister stops it; bad calls get
 * their errors.
 *
 * MSIs: one per online CPU, raised by the CPU itself writing the message to
 * its doorbell (GICv2m MSI_SETSPI_NS, or GITS_TRANSLATER, which QEMU
 * attributes to requester ID 0); each must arrive on the CPU it names, and
 * not at all once freed, not even to the handle's next owner. Then handles are taken until the
 * controller runs out, and all given back.
 *
 * Prints "gic: ok" and returns 0, or FAIL lines and 1.
 */
#include <errno.h>
#include <stdio.h>

#include "arch.h"
#include "io.h"
#include "fail.h"

#define PL031_BASE  0x09010000 /* QEMU virt (hw/arm/virt.c memory map) */
#define PL031_INTID 34         /* SPI 2 */
#define RTCDR       0x00
#define RTCMR       0x04
#define RTCIMSC     0x10
#define RTCRIS      0x14
#define RTCICR      0x1c
#define PCELL_ID0   0xff0
#define TIMER_PPI   27
#define MS          1000000ull
#define WAIT_NS     (200 * MS) /* a delivered interrupt arrives long before this */
#define MSI_MAX     1024

static uintptr_t rtc;
static int count_a, count_b, wrong_context;
static int ctx_a, ctx_b;
static int msi_hits, msi_cpu, stale_hits;

/* Both handlers quiet the device (a level line must be low before the EOI). */
static void on_alarm(void *ctx)
{
	if ((ctx != &ctx_a && ctx != &ctx_b) || !arch_in_interrupt() || arch_irq_enabled() ||
	    arch_cpu_id() != 0)
		__atomic_fetch_add(&wrong_context, 1, __ATOMIC_RELAXED);
	mmio_write32(rtc + RTCICR, 1);
	__atomic_fetch_add(ctx == &ctx_a ? &count_a : &count_b, 1, __ATOMIC_RELEASE);
}

/*
 * Match register := the count: QEMU raises the alarm at once (retry if the
 * second turned in between). Interrupts stay off until the raw status says
 * so, or a handler would have cleared it already.
 */
static void trigger(void)
{
	unsigned long s = arch_irq_save();
	for (int i = 0; i < 3 && !(mmio_read32(rtc + RTCRIS) & 1); i++)
		mmio_write32(rtc + RTCMR, mmio_read32(rtc + RTCDR));
	bool raised = mmio_read32(rtc + RTCRIS) & 1;
	arch_irq_restore(s);
	if (!raised)
		FAIL("the PL031 alarm did not go off\n");
}

/* Wait until *counter reaches want, or WAIT_NS; then a little longer for any extra. */
static int wait_count(int *counter, int want)
{
	uint64_t end = arch_time_ns() + WAIT_NS;
	while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < want && arch_time_ns() < end)
		;
	uint64_t settle = arch_time_ns() + 5 * MS;
	while (arch_time_ns() < settle)
		;
	return __atomic_load_n(counter, __ATOMIC_ACQUIRE);
}

static bool rtc_present(void)
{
	static const uint8_t cell[4] = {0x0d, 0xf0, 0x05, 0xb1};
	rtc = io_map(PL031_BASE, 0x1000);
	for (unsigned i = 0; rtc && i < 4; i++)
		if ((mmio_read32(rtc + PCELL_ID0 + 4 * i) & 0xff) != cell[i])
			return false;
	return rtc != 0;
}

static void check_shared_line(void)
{
	int a = count_a, b = count_b;
	if (arch_irq_register(PL031_INTID, 0, on_alarm, &ctx_b) != 0)
		FAIL("a second handler on the line was refused\n");
	trigger();
	if (wait_count(&count_b, b + 1) != b + 1 || count_a != a + 1)
		FAIL("shared line: handler a ran %d times, b %d, want 1 each\n", count_a - a,
		     count_b - b);
	if (arch_irq_register(PL031_INTID, ARCH_IRQ_EDGE, on_alarm, &ctx_a) != -EBUSY)
		FAIL("an edge handler on a level line was not refused with -EBUSY\n");
}

static void check_mask(void)
{
	int a = count_a;
	if (arch_irq_mask(PL031_INTID) != 0)
		FAIL("arch_irq_mask refused\n");
	trigger();
	if (wait_count(&count_a, a + 1) != a)
		FAIL("a masked line was delivered\n");
	if (arch_irq_unmask(PL031_INTID) != 0)
		FAIL("arch_irq_unmask refused\n");
	if (wait_count(&count_a, a + 1) != a + 1)
		FAIL("unmasking did not deliver the held-back interrupt\n");
}

static void check_unregister(void)
{
	int a = count_a, b = count_b;
	if (arch_irq_unregister(PL031_INTID, on_alarm, &ctx_a) != 0)
		FAIL("unregister of handler a refused\n");
	trigger();
	if (wait_count(&count_b, b + 1) != b + 1 || count_a != a)
		FAIL("after unregistering a: a ran %d times, b %d\n", count_a - a, count_b - b);
	if (arch_irq_unregister(PL031_INTID, on_alarm, &ctx_b) != 0)
		FAIL("unregister of handler b refused\n");
	if (arch_irq_unregister(PL031_INTID, on_alarm, &ctx_b) != -ENOENT)
		FAIL("a second unregister was not refused with -ENOENT\n");
	trigger();
	if (wait_count(&count_b, b + 2) != b + 1)
		FAIL("a line with no handlers was delivered\n");
	mmio_write32(rtc + RTCICR, 1);
}

static void check_bad_calls(void)
{
	if (arch_irq_register(3, 0, on_alarm, &ctx_a) != -EINVAL)
		FAIL("an SGI was not refused with -EINVAL\n");
	if (arch_irq_register(TIMER_PPI, 0, on_alarm, &ctx_a) != -EBUSY)
		FAIL("the timer's PPI was not refused with -EBUSY\n");
	if (arch_irq_register(5000, 0, on_alarm, &ctx_a) != -EINVAL)
		FAIL("INTID 5000 was not refused with -EINVAL\n");
	if (arch_irq_register(PL031_INTID, ARCH_IRQ_ACTIVE_LOW, on_alarm, &ctx_a) != -EINVAL)
		FAIL("an active-low line was not refused with -EINVAL (GIC inputs are "
		     "active-high)\n");
	if (arch_irq_register(PL031_INTID, 0, NULL, NULL) != -EINVAL)
		FAIL("a NULL handler was not refused\n");
	if (arch_irq_mask(PL031_INTID + 1) != -ENOENT)
		FAIL("masking a line without handlers was not refused with -ENOENT\n");
}

static void check_line(void)
{
	mmio_write32(rtc + RTCIMSC, 0);
	mmio_write32(rtc + RTCICR, 1);
	if (arch_irq_register(PL031_INTID, 0, on_alarm, &ctx_a) != 0) {
		FAIL("registering the PL031's line failed\n");
		return;
	}
	mmio_write32(rtc + RTCIMSC, 1);
	trigger();
	if (wait_count(&count_a, 1) != 1)
		FAIL("the alarm was delivered %d times, want 1\n", count_a);
	check_shared_line();
	check_mask();
	check_unregister();
	check_bad_calls();
	mmio_write32(rtc + RTCIMSC, 0);
	if (wrong_context)
		FAIL("a line handler ran in the wrong context %d times\n", wrong_context);
}

static void on_msi(void *ctx)
{
	(void)ctx;
	__atomic_store_n(&msi_cpu, (int)arch_cpu_id(), __ATOMIC_RELAXED);
	__atomic_fetch_add(&msi_hits, 1, __ATOMIC_RELEASE);
}

static void on_stale(void *ctx)
{
	(void)ctx;
	__atomic_fetch_add(&stale_hits, 1, __ATOMIC_RELEASE);
}

static void check_msi_to(unsigned cpu)
{
	struct arch_msi m;
	int h = arch_msi_alloc(cpu, 0, on_msi, NULL, &m), hits = msi_hits;
	uintptr_t bell = h >= 0 ? io_map(m.address, 4) : 0;
	if (!bell) {
		FAIL("no MSI for cpu %u (%d), or its doorbell %#lx is not mapped\n", cpu, h,
		     (unsigned long)m.address);
		return;
	}
	mmio_write32(bell, m.data);
	if (wait_count(&msi_hits, hits + 1) != hits + 1 || msi_cpu != (int)cpu)
		FAIL("MSI to cpu %u: %d deliveries, on cpu %d\n", cpu, msi_hits - hits, msi_cpu);
	if (arch_msi_free(h) != 0 || arch_msi_free(h) != -EINVAL)
		FAIL("arch_msi_free: not 0 and then -EINVAL\n");
	mmio_write32(bell, m.data);
	if (wait_count(&msi_hits, hits + 2) != hits + 1)
		FAIL("a freed MSI was delivered\n");
	/* That message must not reach the next owner of the handle either. */
	int stale = stale_hits;
	h = arch_msi_alloc(cpu, 0, on_stale, NULL, &m);
	if (h < 0 || wait_count(&stale_hits, stale + 1) != stale)
		FAIL("a new MSI (%d) took a message written before it was allocated\n", h);
	if (h >= 0)
		arch_msi_free(h);
}

static void check_msis(void)
{
	static int handles[MSI_MAX];
	struct arch_msi m;
	for (unsigned cpu = 0; cpu < cpu_count(); cpu++)
		check_msi_to(cpu);
	int n = 0, last = 0;
	while (n < MSI_MAX && (last = arch_msi_alloc(0, 8, on_msi, NULL, &m)) >= 0)
		handles[n++] = last;
	if (n == 0 || n == MSI_MAX || last != -ENOSPC)
		FAIL("%d MSIs before %d, want some and then -ENOSPC\n", n, last);
	for (int i = 0; i < n; i++)
		if (arch_msi_free(handles[i]) != 0)
			FAIL("freeing MSI handle %d failed\n", handles[i]);
	printf("gic: %d MSI handles\n", n);
	if (arch_msi_alloc(cpu_count(), 0, on_msi, NULL, &m) != -EINVAL)
		FAIL("an MSI for a cpu not online was not refused with -EINVAL\n");
}

int main(void)
{
	printf("gic: %s, %u cpus\n", arch_irq_describe(), cpu_count());
	uint64_t spurious = arch_irq_spurious_count();
	if (!rtc_present())
		FAIL("no PL031 at %#x: not QEMU virt?\n", PL031_BASE);
	else
		check_line();
	check_msis();
	if (arch_irq_spurious_count() != spurious)
		FAIL("%lu spurious interrupts\n",
		     (unsigned long)(arch_irq_spurious_count() - spurious));
	if (failures)
		return 1;
	printf("gic: ok\n");
	return 0;
}
