/*
 * aarch64 thread state besides switch.S: a new thread's first frame, the
 * FP/SIMD save area's size and first contents, and the TLS base
 * (TPIDR_EL0, ARM ARM D17.2.139), all per arch.h's "Threads".
 */
#include <string.h>

#include "aarch64.h"

#define FPU_BYTES 528 /* q0-q31, then FPCR and FPSR (switch.S) */
#define FPU_ALIGN 64

extern char arch_thread_trampoline[];

/*
 * switch.S loads x19-x30 from the frame and returns through x30: the
 * trampoline then finds fn in x19 and arg in x20, with x29 = 0.
 */
uintptr_t arch_context_init(uintptr_t stack_top, void (*fn)(void *), void *arg)
{
	uint64_t *sp = (uint64_t *)(stack_top & ~(uintptr_t)15) - 12;
	memset(sp, 0, 12 * sizeof(*sp));
	sp[0] = (uintptr_t)fn;
	sp[1] = (uintptr_t)arg;
	sp[11] = (uintptr_t)arch_thread_trampoline;
	return (uintptr_t)sp;
}

size_t arch_fpu_size(void)
{
	return (FPU_BYTES + FPU_ALIGN - 1) & ~(size_t)(FPU_ALIGN - 1);
}

/* Zero registers, FPCR 0 (round to nearest, no traps, no flush-to-zero), FPSR 0. */
void arch_fpu_init(void *area)
{
	memset(area, 0, FPU_BYTES);
}

void arch_tls_set(uintptr_t base)
{
	write_sysreg(tpidr_el0, base);
}

uintptr_t arch_tls_get(void)
{
	return read_sysreg(tpidr_el0);
}
