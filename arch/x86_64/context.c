/*
 * x86_64 thread state besides switch.S: a new thread's first frame, the
 * FP/SIMD save area (FXSAVE, or XSAVE when the OS has enabled it in CR4)
 * and the TLS base (FS base), all per arch.h's "Threads".
 */
#include <string.h>

#include "arch.h"
#include "x86.h"

#define MSR_FS_BASE     0xc0000100
#define FXSAVE_BYTES    512
#define FPU_ALIGN       64     /* XSAVE needs 64, FXSAVE 16 (SDM vol. 1, 13.4 and 10.5) */
#define FCW_DEFAULT     0x037f /* FNINIT's control word: all exceptions masked, 64-bit precision */
#define MXCSR_DEFAULT   0x1f80 /* all SIMD exceptions masked, round to nearest */
#define XSAVE_HDR_BYTES 64

extern char arch_thread_trampoline[];

/*
 * switch.S pops r15, r14, r13, r12, rbx, rbp and returns: the trampoline
 * then finds fn in r12 and arg in r13, and %rsp 16-byte aligned at its call.
 */
uintptr_t arch_context_init(uintptr_t stack_top, void (*fn)(void *), void *arg)
{
	uint64_t *sp = (uint64_t *)((stack_top & ~(uintptr_t)15) - 16) - 7;
	memset(sp, 0, 7 * sizeof(*sp));
	sp[3] = (uintptr_t)fn;
	sp[2] = (uintptr_t)arg;
	sp[6] = (uintptr_t)arch_thread_trampoline;
	return (uintptr_t)sp;
}

/* ---- FP/SIMD ---- */

static struct {
	bool probed, xsave;
	uint64_t xcr0; /* the components XSAVE saves: all the OS enabled */
	size_t bytes;  /* save area size for those (CPUID.(EAX=0DH,ECX=0):EBX) */
} fpu;

/* All CPUs share the boot CPU's CR4 and XCR0 (smp.c copies them), so one probe serves all. */
static void fpu_probe(void)
{
	if (fpu.probed)
		return;
	fpu.bytes = FXSAVE_BYTES;
	if (read_cr4() & CR4_OSXSAVE) {
		uint32_t r[4];
		cpuid(0xd, 0, r);
		fpu.xsave = true;
		fpu.xcr0 = xgetbv(0);
		fpu.bytes =
		    r[1] > FXSAVE_BYTES + XSAVE_HDR_BYTES ? r[1] : FXSAVE_BYTES + XSAVE_HDR_BYTES;
	}
	fpu.probed = true;
}

size_t arch_fpu_size(void)
{
	fpu_probe();
	return (fpu.bytes + FPU_ALIGN - 1) & ~(size_t)(FPU_ALIGN - 1);
}

/*
 * The state FNINIT and a reset MXCSR give. For XSAVE an all-zero header
 * (XSTATE_BV = 0) makes XRSTOR load every component's initial
 * configuration, except MXCSR, which comes from the legacy area (SDM vol. 1,
 * 13.8.1).
 */
void arch_fpu_init(void *area)
{
	fpu_probe();
	memset(area, 0, fpu.bytes);
	uint16_t fcw = FCW_DEFAULT;
	uint32_t mxcsr = MXCSR_DEFAULT;
	memcpy((char *)area + 0, &fcw, sizeof(fcw));
	memcpy((char *)area + 24, &mxcsr, sizeof(mxcsr));
}

void arch_fpu_save(void *area)
{
	if (fpu.xsave)
		__asm__ volatile("xsave64 (%0)"
		                 :
		                 : "r"(area), "a"((uint32_t)fpu.xcr0),
		                   "d"((uint32_t)(fpu.xcr0 >> 32))
		                 : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void arch_fpu_restore(const void *area)
{
	if (fpu.xsave)
		__asm__ volatile("xrstor64 (%0)"
		                 :
		                 : "r"(area), "a"((uint32_t)fpu.xcr0),
		                   "d"((uint32_t)(fpu.xcr0 >> 32))
		                 : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

/* ---- TLS: the FS base (SDM vol. 3A, 3.4.4.1); nothing in the kernel uses %fs. ---- */

void arch_tls_set(uintptr_t base)
{
	wrmsr(MSR_FS_BASE, base);
}

uintptr_t arch_tls_get(void)
{
	return rdmsr(MSR_FS_BASE);
}
