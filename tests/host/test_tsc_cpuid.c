/*
 * arch/x86_64/tsc_cpuid.c: which CPUID timing leaves are believed. Fake
 * leaves as real CPUs and hypervisors give them, and as a broken or hostile
 * hypervisor might: zero rates, absurd rates, ratios below 1, leaf counts
 * out of range. An implausible statement is -ERANGE (the rate is then
 * measured), an absent one -ENOENT; neither leaves a rate behind.
 */
#include <errno.h>

#include "check.h"
#include "x86.h"

#define HV_MAX 0x40000010u

/* An Intel part with a 24 MHz crystal, TSC = 24 MHz * 188 / 2 = 2.256 GHz, base 2.2 GHz. */
static const struct tsc_cpuid intel = {.max_basic = 0x16,
                                       .crystal_den = 2,
                                       .crystal_num = 188,
                                       .crystal_hz = 24000000,
                                       .base_mhz = 2200};

static int from_cpuid(struct tsc_cpuid c, struct tsc_rate *r)
{
	*r = (struct tsc_rate){0};
	return tsc_rate_from_cpuid(&c, r);
}

static void test_crystal(void)
{
	struct tsc_rate r;
	CHECK(from_cpuid(intel, &r) == 0 && r.tsc_hz == 2256000000ull && r.apic_hz == 24000000);
	struct tsc_cpuid c = intel;
	c.max_basic = 0x14; /* the leaf is beyond the CPU's last one: not read */
	CHECK(from_cpuid(c, &r) == -ENOENT && r.tsc_hz == 0);
	c = intel;
	c.crystal_hz = 0; /* SDM: crystal not enumerated */
	CHECK(from_cpuid(c, &r) == -ENOENT);
	c = intel;
	c.crystal_num = 0;
	CHECK(from_cpuid(c, &r) == -ENOENT);
	c = intel;
	c.crystal_den = 0; /* would divide by zero */
	CHECK(from_cpuid(c, &r) == -ENOENT);
	c = intel;
	c.crystal_num = 1; /* TSC slower than its crystal */
	CHECK(from_cpuid(c, &r) == -ERANGE && r.tsc_hz == 0);
	c = intel;
	c.crystal_num = 0xffffffffu; /* ratio 2^31 */
	CHECK(from_cpuid(c, &r) == -ERANGE);
	c = intel;
	c.crystal_hz = 1000; /* 1 kHz crystal */
	CHECK(from_cpuid(c, &r) == -ERANGE);
	c = intel;
	c.crystal_hz = 0xffffffffu; /* 4.3 GHz crystal */
	CHECK(from_cpuid(c, &r) == -ERANGE);
	c = intel;
	c.crystal_hz =
	    900000000; /* a plausible crystal, ratio 94: 84.6 GHz is still below the bound */
	CHECK(from_cpuid(c, &r) == 0 && r.tsc_hz == 84600000000ull);
	c.crystal_num = 2 * 1000; /* ratio 1000: 900 GHz */
	CHECK(from_cpuid(c, &r) == -ERANGE);
}

static void test_hypervisor(void)
{
	struct tsc_rate r;
	struct tsc_cpuid c = {.max_hv = HV_MAX, .hv_tsc_khz = 2593906, .hv_bus_khz = 1000000};
	CHECK(from_cpuid(c, &r) == 0 && r.tsc_hz == 2593906000ull && r.apic_hz == 1000000000ull);
	c.hv_bus_khz = 0; /* bus rate unknown: measured later */
	CHECK(from_cpuid(c, &r) == 0 && r.tsc_hz == 2593906000ull && r.apic_hz == 0);
	c.hv_bus_khz = 0xffffffffu; /* 4.3 THz bus: dropped alone */
	CHECK(from_cpuid(c, &r) == 0 && r.tsc_hz == 2593906000ull && r.apic_hz == 0);
	c.hv_tsc_khz = 0; /* the leaf is there, the rate is not */
	CHECK(from_cpuid(c, &r) == -ENOENT && r.tsc_hz == 0);
	c.hv_tsc_khz = 500; /* 500 kHz */
	CHECK(from_cpuid(c, &r) == -ERANGE);
	c.hv_tsc_khz = 0xffffffffu; /* 4.3 THz */
	CHECK(from_cpuid(c, &r) == -ERANGE);
	c = (struct tsc_cpuid){.max_hv = 0x4000000f, .hv_tsc_khz = 2593906};
	CHECK(from_cpuid(c, &r) == -ENOENT); /* the timing leaf is beyond the last one */
	c.max_hv = 0xffffffffu;              /* a leaf count outside the hypervisor range */
	CHECK(from_cpuid(c, &r) == -ENOENT);
}

/* A bad hypervisor leaf does not hide a good crystal leaf, and vice versa. */
static void test_both(void)
{
	struct tsc_rate r;
	struct tsc_cpuid c = intel;
	c.max_hv = HV_MAX;
	c.hv_tsc_khz = 1;
	CHECK(from_cpuid(c, &r) == 0 && r.tsc_hz == 2256000000ull);
	c.hv_tsc_khz = 3000000;
	CHECK(from_cpuid(c, &r) == 0 &&
	      r.tsc_hz == 3000000000ull); /* the hypervisor's comes first */
	c.crystal_num = 1;
	c.hv_tsc_khz = 0;
	CHECK(from_cpuid(c, &r) == -ERANGE); /* one implausible, none usable: said so */
	CHECK(from_cpuid((struct tsc_cpuid){0}, &r) == -ENOENT);
}

static void test_base(void)
{
	struct tsc_rate r = {0};
	CHECK(tsc_rate_from_base(&intel, &r) == 0 && r.tsc_hz == 2200000000ull && r.apic_hz == 0);
	struct tsc_cpuid c = intel;
	c.base_mhz = 0;
	CHECK(tsc_rate_from_base(&c, &r) == -ENOENT);
	c = intel;
	c.max_basic = 0x15;
	CHECK(tsc_rate_from_base(&c, &r) == -ENOENT);
}

int main(void)
{
	test_crystal();
	test_hypervisor();
	test_both();
	test_base();
	return check_report("tsc_cpuid");
}
