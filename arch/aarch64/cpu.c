/* aarch64 CPU services: frame-record walking and hardware entropy. */
#include "aarch64.h"
#include "arch.h"

#define PAR_F            1ull /* PAR_EL1.F: the translation faulted */
#define PAR_ATTR_SHIFT   56
#define ISAR0_RNDR_SHIFT 60
#define RNDR             "s3_3_c2_c4_0" /* FEAT_RNG random number register */

const char *arch_name(void)
{
	return "aarch64";
}

/*
 * Whether va is mapped as Normal memory that EL1 may read, asked of the MMU
 * itself (AT S1E1R, ARM ARM C5.5.3 and D17.2.103 PAR_EL1), so walking a
 * corrupt frame chain cannot fault. Device memory has ATTR[7:4] == 0.
 */
static bool readable_normal(uintptr_t va)
{
	__asm__ volatile("at s1e1r, %0" : : "r"(va));
	isb();
	uint64_t par = read_sysreg(par_el1);
	return !(par & PAR_F) && (par >> (PAR_ATTR_SHIFT + 4)) != 0;
}

/* AAPCS64 frame record (6.4.6): [x29] = the caller's x29, [x29 + 8] = the return address. */
bool arch_frame_next(uintptr_t *fp, uintptr_t *ret)
{
	uintptr_t f = *fp;
	if (f == 0 || (f & 7) != 0 || !readable_normal(f) || !readable_normal(f + 8))
		return false;
	const uintptr_t *frame = (const uintptr_t *)f;
	*ret = frame[1];
	uintptr_t next = frame[0];
	if (next != 0 && next <= f)
		return false; /* frames must move towards the stack's top */
	*fp = next;
	return *ret != 0;
}

/* FEAT_RNG's RNDR (ARM ARM D17.2.133), when ID_AA64ISAR0_EL1.RNDR says the CPU has it. */
bool arch_hw_random(uint64_t *v)
{
	if (((read_sysreg(id_aa64isar0_el1) >> ISAR0_RNDR_SHIFT) & 0xf) == 0)
		return false;
	for (int tries = 0; tries < 10; tries++) {
		uint64_t r;
		uint32_t ok;
		/* RNDR sets NZCV to 0b0100 when it has no entropy right now. */
		__asm__ volatile("mrs %0, " RNDR "\n\tcset %w1, ne" : "=r"(r), "=r"(ok) : : "cc");
		if (ok) {
			*v = r;
			return true;
		}
	}
	return false;
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Seed material from the boot loader (/chosen/rng-seed), mixed into every seed. */
static uint64_t seed_pool;

void cpu_mix_seed(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	for (size_t i = 0; i < len; i++)
		seed_pool = (seed_pool ^ p[i]) * 0x100000001b3ull; /* FNV-1a step */
}

uint64_t arch_random_seed(void)
{
	uint64_t v;
	/* Without FEAT_RNG the counter varies with host timing: better than nothing. */
	if (!arch_hw_random(&v))
		v = mix64(read_sysreg(cntpct_el0));
	seed_pool = mix64(seed_pool + 0x9e3779b97f4a7c15ull);
	return v ^ seed_pool;
}
