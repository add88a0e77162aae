/* x86_64 CPU services: frame-pointer walking and hardware entropy. */
#include "arch.h"
#include "x86.h"

const char *arch_name(void)
{
	return "x86_64";
}

/* Frame layout with -fno-omit-frame-pointer: [rbp] = caller's rbp, [rbp+8] = return address. */
bool arch_frame_next(uintptr_t *fp, uintptr_t *ret)
{
	uintptr_t f = *fp;
	if (f == 0 || (f & 7) != 0 || f < 4096)
		return false;
	const uintptr_t *frame = (const uintptr_t *)f;
	*ret = frame[1];
	uintptr_t next = frame[0];
	if (next != 0 && next <= f)
		return false; /* frames must move towards the stack's top */
	*fp = next;
	return *ret != 0;
}

static bool rdrand64(uint64_t *v)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	if (!(r[2] & (1u << 30)))
		return false;
	for (int tries = 0; tries < 10; tries++) {
		unsigned char ok;
		__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
	}
	return false;
}

/* RDSEED: CPUID.(EAX=7,ECX=0):EBX bit 18 (Intel SDM Vol. 2B, RDSEED). */
static bool rdseed64(uint64_t *v)
{
	static int present = -1;
	if (present < 0) {
		uint32_t r[4];
		cpuid(0, 0, r);
		present = 0;
		if (r[0] >= 7) {
			cpuid(7, 0, r);
			present = (r[1] >> 18) & 1;
		}
	}
	if (!present)
		return false;
	/* RDSEED may run dry under load; a short retry loop is what Intel's guide suggests. */
	for (int tries = 0; tries < 64; tries++) {
		unsigned char ok;
		__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
		if (ok)
			return true;
		__asm__ volatile("pause");
	}
	return false;
}

/*
 * Entropy for rt/random.c's pool: RDSEED (a conditioned entropy source)
 * first, else RDRAND (a DRBG the hardware reseeds from that source; Intel's
 * Digital Random Number Generator implementation guide). rt/random.c credits
 * both as entropy, as the design asks (DESIGN.md, "real entropy source").
 */
bool arch_hw_random(uint64_t *out)
{
	return rdseed64(out) || rdrand64(out);
}

uint64_t arch_random_seed(void)
{
	uint64_t v;
	if (rdrand64(&v))
		return v;
	/* No RDRAND: the TSC at this point varies with host timing; better than a constant. */
	uint64_t t = rdtsc();
	return t * 0x9e3779b97f4a7c15ull ^ (t >> 29);
}
