/*
 * irqline (x86_64): a real device interrupt through arch_irq_register. The
 * CMOS RTC's periodic interrupt (MC146818A: register B bit PIE, 1024 Hz by
 * default, acknowledged by reading register C) raises ISA IRQ 8, which the
 * arch routes through the I/O APIC (and any MADT/MP override). Checks: the
 * handler runs with its context, in interrupt context, on the boot CPU; two
 * handlers share the line; mask stops delivery and unmask resumes it;
 * unregister stops it; bad calls get their errors. Prints "irqline: ok".
 */
#include <errno.h>
#include <stdio.h>

#include "arch.h"
#include "io.h"
#include "fail.h"

#define RTC_IRQ    8
#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define RTC_REG_B  0x0b
#define RTC_REG_C  0x0c
#define REG_B_PIE  0x40
#define MS         1000000ull
#define TIMEOUT_NS (2000 * MS)

static int count_a, count_b, wrong_context;
static int ctx_a, ctx_b;

static uint8_t cmos_read(uint8_t reg)
{
	port_write8(CMOS_INDEX, reg);
	return port_read8(CMOS_DATA);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
	port_write8(CMOS_INDEX, reg);
	port_write8(CMOS_DATA, v);
}

/* The first handler quiets the device (reading C ends the interrupt); the second only counts. */
static void on_rtc_a(void *ctx)
{
	if (ctx != &ctx_a || !arch_in_interrupt() || arch_irq_enabled() || arch_cpu_id() != 0)
		wrong_context++;
	cmos_read(RTC_REG_C);
	__atomic_fetch_add(&count_a, 1, __ATOMIC_RELEASE);
}

static void on_rtc_b(void *ctx)
{
	if (ctx != &ctx_b)
		wrong_context++;
	__atomic_fetch_add(&count_b, 1, __ATOMIC_RELEASE);
}

static bool wait_count(int *count, int want)
{
	uint64_t end = arch_time_ns() + TIMEOUT_NS;
	while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < want)
		if (arch_time_ns() > end)
			return false;
	return true;
}

static void spin_ns(uint64_t ns)
{
	uint64_t end = arch_time_ns() + ns;
	while (arch_time_ns() < end)
		;
}

static void check_errors(void)
{
	if (arch_irq_register(RTC_IRQ, 0, NULL, NULL) != -EINVAL)
		FAIL("a NULL handler was accepted\n");
	if (arch_irq_register(RTC_IRQ, ARCH_IRQ_EDGE | ARCH_IRQ_LEVEL, on_rtc_b, &ctx_b) != -EINVAL)
		FAIL("edge and level at once were accepted\n");
	if (arch_irq_register(100000, 0, on_rtc_b, &ctx_b) != -EINVAL)
		FAIL("a line no interrupt controller has was accepted\n");
	if (arch_irq_mask(RTC_IRQ) != -ENOENT || arch_irq_unmask(RTC_IRQ) != -ENOENT)
		FAIL("masking a line without handlers did not say -ENOENT\n");
	if (arch_irq_unregister(RTC_IRQ, on_rtc_a, &ctx_a) != -ENOENT)
		FAIL("unregistering a handler never registered did not say -ENOENT\n");
}

static void check_delivery(void)
{
	int err = arch_irq_register(RTC_IRQ, 0, on_rtc_a, &ctx_a);
	if (err) {
		FAIL("arch_irq_register(%d) = %d\n", RTC_IRQ, err);
		return;
	}
	if (arch_irq_register(RTC_IRQ, ARCH_IRQ_LEVEL, on_rtc_b, &ctx_b) != -EBUSY)
		FAIL("a second handler with other flags than the line's was accepted\n");
	if ((err = arch_irq_register(RTC_IRQ, 0, on_rtc_b, &ctx_b)) != 0)
		FAIL("a second handler on the line: %d\n", err);
	cmos_write(RTC_REG_B, cmos_read(RTC_REG_B) | REG_B_PIE);
	cmos_read(RTC_REG_C);
	if (!wait_count(&count_a, 5) || !wait_count(&count_b, 5))
		FAIL("RTC interrupts: %d and %d, want 5 each\n", count_a, count_b);
}

static void check_mask(void)
{
	arch_irq_mask(RTC_IRQ);
	spin_ns(2 * MS); /* one already in flight may still land */
	int before = __atomic_load_n(&count_a, __ATOMIC_ACQUIRE);
	spin_ns(30 * MS);
	if (count_a != before)
		FAIL("%d interrupts arrived on a masked line\n", count_a - before);
	arch_irq_unmask(RTC_IRQ);
	cmos_read(RTC_REG_C); /* the RTC waits for this before raising the next edge */
	if (!wait_count(&count_a, before + 5))
		FAIL("no interrupts after unmask (%d)\n", count_a - before);
}

static void check_unregister(void)
{
	if (arch_irq_unregister(RTC_IRQ, on_rtc_b, &ctx_b) != 0)
		FAIL("unregistering the second handler failed\n");
	int b = __atomic_load_n(&count_b, __ATOMIC_ACQUIRE), a = count_a;
	if (!wait_count(&count_a, a + 5))
		FAIL("the first handler stopped with the second\n");
	if (count_b != b)
		FAIL("an unregistered handler ran %d more times\n", count_b - b);
	if (arch_irq_unregister(RTC_IRQ, on_rtc_a, &ctx_a) != 0)
		FAIL("unregistering the first handler failed\n");
	spin_ns(2 * MS);
	a = __atomic_load_n(&count_a, __ATOMIC_ACQUIRE);
	cmos_read(RTC_REG_C);
	spin_ns(30 * MS);
	if (count_a != a)
		FAIL("%d interrupts reached a handler after unregister\n", count_a - a);
	if (arch_irq_mask(RTC_IRQ) != -ENOENT)
		FAIL("the line still has a handler after both were unregistered\n");
}

int main(void)
{
	check_errors();
	check_delivery();
	check_mask();
	check_unregister();
	cmos_write(RTC_REG_B, cmos_read(RTC_REG_B) & ~REG_B_PIE);
	if (wrong_context)
		FAIL("%d handler calls with the wrong context, cpu or interrupt state\n",
		     wrong_context);
	printf("irqline: %d + %d interrupts, %lu spurious\n", count_a, count_b,
	       (unsigned long)arch_irq_spurious_count());
	if (failures)
		return 1;
	printf("irqline: ok\n");
	return 0;
}
