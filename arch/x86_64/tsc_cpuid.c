/*
 * What CPUID's timing leaves say about the TSC's and the LAPIC timer's
 * rates, judged before it is believed. The leaves come from the CPU or from
 * the hypervisor, and a broken or hostile one may state 0 Hz, a ratio of 0
 * or a rate no machine has; such a statement is refused (and the rate is
 * measured instead), never divided by or used to program timers.
 *
 * Pure functions over values read elsewhere (calibrate.c), so the host tests
 * feed them fake leaves (tests/host/test_tsc_cpuid.c).
 */
#include <errno.h>

#include "x86.h"

#define TSC_HZ_MIN     1000000ull      /* 1 MHz: below any CPU that has a TSC */
#define TSC_HZ_MAX     100000000000ull /* 100 GHz: far above any clock rate built */
#define CRYSTAL_HZ_MIN 1000000u        /* the core crystal: 19.2, 24, 25, 38.4 MHz in practice */
#define CRYSTAL_HZ_MAX 1000000000u
#define RATIO_MAX      1024 /* TSC / crystal: around 100 in practice, never below 1 */

#define HV_LEAF_TIMING 0x40000010u

static bool plausible(uint64_t hz)
{
	return hz >= TSC_HZ_MIN && hz <= TSC_HZ_MAX;
}

/*
 * The hypervisor timing leaf (VMware's, also offered by KVM and QEMU): TSC
 * kHz in EAX, LAPIC bus kHz in EBX. A bus rate out of bounds is dropped
 * alone: the LAPIC timer's rate is then measured against the TSC.
 */
static int from_hypervisor(const struct tsc_cpuid *c, struct tsc_rate *r)
{
	if (c->max_hv < HV_LEAF_TIMING || c->max_hv >= 0x40000100u)
		return -ENOENT; /* no such leaf (a max beyond the range is not a leaf count) */
	uint64_t tsc = c->hv_tsc_khz * 1000ull, bus = c->hv_bus_khz * 1000ull;
	if (c->hv_tsc_khz == 0)
		return -ENOENT; /* the leaf exists but the hypervisor does not know */
	if (!plausible(tsc))
		return -ERANGE;
	*r = (struct tsc_rate){
	    .tsc_hz = tsc, .apic_hz = plausible(bus) ? bus : 0, .how = "cpuid 0x40000010"};
	return 0;
}

/*
 * SDM vol. 2A, CPUID leaf 15H: TSC = crystal (ECX) * EBX / EAX, and the
 * LAPIC timer counts at the crystal's rate. EBX = 0 or ECX = 0 means "not
 * enumerated" (ECX = 0 on several Intel parts: the crystal is then known only
 * from the model, which noos does not guess).
 */
static int from_crystal(const struct tsc_cpuid *c, struct tsc_rate *r)
{
	if (c->max_basic < 0x15 || c->crystal_den == 0 || c->crystal_num == 0 || c->crystal_hz == 0)
		return -ENOENT;
	if (c->crystal_hz < CRYSTAL_HZ_MIN || c->crystal_hz > CRYSTAL_HZ_MAX ||
	    c->crystal_num < c->crystal_den || c->crystal_num / c->crystal_den > RATIO_MAX)
		return -ERANGE;
	uint64_t tsc = (uint64_t)c->crystal_hz * c->crystal_num / c->crystal_den;
	if (!plausible(tsc))
		return -ERANGE;
	*r = (struct tsc_rate){.tsc_hz = tsc, .apic_hz = c->crystal_hz, .how = "cpuid 0x15"};
	return 0;
}

int tsc_rate_from_cpuid(const struct tsc_cpuid *c, struct tsc_rate *r)
{
	int hv = from_hypervisor(c, r);
	if (hv == 0)
		return 0;
	int crystal = from_crystal(c, r);
	if (crystal == 0)
		return 0;
	return hv == -ERANGE || crystal == -ERANGE ? -ERANGE : -ENOENT;
}

/* CPUID leaf 16H: the processor's base frequency in MHz, close to but not exactly the TSC's. */
int tsc_rate_from_base(const struct tsc_cpuid *c, struct tsc_rate *r)
{
	if (c->max_basic < 0x16 || c->base_mhz == 0)
		return -ENOENT;
	uint64_t tsc = c->base_mhz * 1000000ull;
	if (!plausible(tsc))
		return -ERANGE;
	*r = (struct tsc_rate){.tsc_hz = tsc, .how = "cpuid 0x16, approximate"};
	return 0;
}
