/*
 * aarch64 exceptions: install the vectors (vectors.S), decode ESR_EL1 into
 * a readable reason (ARM ARM D17.2.37, "ESR_EL1, Exception Syndrome
 * Register") and end in panic_trap(). The exceptions that return are IRQs
 * from EL1t (irq.c dispatches them) and the semihosting probe's
 * (semihost.c), which resumes after the probe.
 */
#include "aarch64.h"
#include "arch.h"
#include "rt.h"
#include "trap.h"

extern char exception_vectors[];

/* ESR_EL1.EC values, D17.2.37. */
#define EC_UNKNOWN     0x00
#define EC_WFX         0x01
#define EC_FP_ACCESS   0x07
#define EC_BTI         0x0d
#define EC_ILLEGAL     0x0e
#define EC_SVC64       0x15
#define EC_HVC64       0x16
#define EC_SMC64       0x17
#define EC_SYSREG      0x18
#define EC_SVE         0x19
#define EC_FPAC        0x1c
#define EC_IABT_LOWER  0x20
#define EC_IABT_CUR    0x21
#define EC_PC_ALIGN    0x22
#define EC_DABT_LOWER  0x24
#define EC_DABT_CUR    0x25
#define EC_SP_ALIGN    0x26
#define EC_FP_EXC64    0x2c
#define EC_SERROR      0x2f
#define EC_BREAKPT_CUR 0x31
#define EC_SSTEP_CUR   0x33
#define EC_WATCHPT_CUR 0x35
#define EC_BRK64       0x3c

#define ESR_EC(esr)     (((esr) >> 26) & 0x3f)
#define ESR_ISS(esr)    ((esr)&0x1ffffff)
#define ISS_FSC(iss)    ((iss)&0x3f)
#define ISS_WNR         (1u << 6)  /* data abort: caused by a write */
#define ISS_S1PTW       (1u << 7)  /* on the stage 2 walk of a stage 1 table */
#define ISS_CM          (1u << 8)  /* cache maintenance */
#define ISS_FNV         (1u << 10) /* FAR not valid */
#define DAIF_SERROR_BIT (1u << 2)  /* DAIFClr immediate: A */

void arch_trap_init(void)
{
	/* entry.S installed the table already; this keeps the call symmetric with x86. */
	write_sysreg(vbar_el1, (uintptr_t)exception_vectors);
	isb();
	cpu_boot_init(); /* arch_this_cpu() works from here on */
	/* Let asynchronous aborts (SError) be reported; IRQ and FIQ stay masked. */
	__asm__ volatile("msr daifclr, %0" : : "i"(DAIF_SERROR_BIT));
}

/* Data/instruction fault status code (DFSC/IFSC), D17.2.37 ISS encoding for aborts. */
static const char *fault_status(unsigned fsc, int *level)
{
	*level = fsc & 3;
	switch (fsc & 0x3c) {
	case 0x00:
		return "address size fault";
	case 0x04:
		return "translation fault";
	case 0x08:
		return "access flag fault";
	case 0x0c:
		return "permission fault";
	case 0x14:
		return "synchronous external abort on table walk";
	}
	*level = -1;
	switch (fsc) {
	case 0x10:
		return "synchronous external abort";
	case 0x11:
		return "tag check fault";
	case 0x18:
		return "synchronous parity/ECC error";
	case 0x21:
		return "alignment fault";
	case 0x30:
		return "TLB conflict abort";
	case 0x31:
		return "unsupported atomic hardware update";
	case 0x35:
		return "unsupported exclusive or atomic access";
	}
	return "unknown fault status";
}

/* A fault just below or at the stack pointer is most likely a stack overflow. */
static const char *stack_hint(const struct trap_frame *tf, uint64_t addr)
{
	return addr < tf->sp + 256 && addr + 65536 > tf->sp ? " (near sp: stack overflow?)" : "";
}

/* A data or instruction abort as rt/vm.c's ARCH_FAULT_* bits. */
static unsigned abort_kind(const struct trap_frame *tf)
{
	unsigned ec = ESR_EC(tf->esr), iss = ESR_ISS(tf->esr);
	bool data = ec == EC_DABT_CUR || ec == EC_DABT_LOWER;
	bool write = (iss & ISS_WNR) && !(iss & ISS_CM); /* cache maintenance reads */
	unsigned fault = !data ? ARCH_FAULT_EXEC : write ? ARCH_FAULT_WRITE : ARCH_FAULT_READ;
	return fault | ((ISS_FSC(iss) & 0x3c) == 0x0c ? ARCH_FAULT_PRESENT : 0);
}

/* A translation or permission fault at EL1 that rt/vm.c resolves (a demand-zero page). */
static bool abort_resolved(const struct trap_frame *tf)
{
	unsigned ec = ESR_EC(tf->esr), iss = ESR_ISS(tf->esr), fsc = ISS_FSC(iss) & 0x3c;
	if ((ec != EC_DABT_CUR && ec != EC_IABT_CUR) || (iss & ISS_FNV) ||
	    (fsc != 0x04 && fsc != 0x0c))
		return false;
	return vm_fault(tf->far, abort_kind(tf));
}

__attribute__((noreturn)) static void abort_panic(const struct trap_frame *tf, bool data)
{
	unsigned iss = ESR_ISS(tf->esr);
	if (data && !(iss & ISS_FNV))
		console_fault_at(tf->far);
	int level;
	const char *what = fault_status(ISS_FSC(iss), &level);
	char lvl[16] = "";
	if (level >= 0)
		snprintf(lvl, sizeof(lvl), ", level %d", level);
	const char *access = !data             ? "execute"
	                     : (iss & ISS_CM)  ? "cache maintenance"
	                     : (iss & ISS_WNR) ? "write"
	                                       : "read";
	if (iss & ISS_FNV)
		panic_trap(tf, "%s abort: %s%s (%s), address unknown, at pc %#lx",
		           data ? "data" : "instruction", what, lvl, access, tf->elr);
	char vm[112];
	bool overflow = vm_describe(tf->far, abort_kind(tf), vm, sizeof(vm));
	panic_trap(tf, "%s abort at address %#lx: %s%s (%s)%s%s%s%s at pc %#lx",
	           data ? "data" : "instruction", tf->far, what, lvl, access,
	           (iss & ISS_S1PTW) ? " on a table walk" : "",
	           overflow ? "" : stack_hint(tf, tf->far), vm[0] ? ": " : "", vm, tf->elr);
}

static const char *class_name(unsigned ec)
{
	switch (ec) {
	case EC_UNKNOWN:
		return "undefined instruction";
	case EC_WFX:
		return "trapped WFI/WFE";
	case EC_FP_ACCESS:
		return "FP/SIMD access trapped";
	case EC_BTI:
		return "branch target exception";
	case EC_ILLEGAL:
		return "illegal execution state";
	case EC_HVC64:
		return "unexpected HVC";
	case EC_SMC64:
		return "unexpected SMC";
	case EC_SYSREG:
		return "trapped system register access";
	case EC_SVE:
		return "SVE access trapped";
	case EC_FPAC:
		return "pointer authentication failure";
	case EC_FP_EXC64:
		return "floating-point exception";
	case EC_BREAKPT_CUR:
		return "hardware breakpoint";
	case EC_SSTEP_CUR:
		return "software step";
	case EC_WATCHPT_CUR:
		return "watchpoint";
	}
	return "unexpected exception";
}

static void sync_panic(const struct trap_frame *tf)
{
	unsigned ec = ESR_EC(tf->esr), iss = ESR_ISS(tf->esr);
	switch (ec) {
	case EC_DABT_CUR:
	case EC_DABT_LOWER:
		abort_panic(tf, true);
	case EC_IABT_CUR:
	case EC_IABT_LOWER:
		abort_panic(tf, false);
	case EC_PC_ALIGN:
		panic_trap(tf, "PC alignment fault: pc %#lx", tf->far);
	case EC_SP_ALIGN:
		panic_trap(tf, "SP alignment fault: sp %#lx at pc %#lx", tf->sp, tf->elr);
	case EC_BRK64:
		panic_trap(tf, "BRK #%#x (breakpoint or __builtin_trap) at pc %#lx", iss & 0xffff,
		           tf->elr);
	case EC_SVC64:
		panic_trap(tf, "unexpected SVC #%#x at pc %#lx", iss & 0xffff, tf->elr);
	}
	panic_trap(tf, "%s (EC %#x, ISS %#x) at pc %#lx", class_name(ec), ec, iss, tf->elr);
}

/* A probe that may UNDEF (semihost.c) resumes at its fallback instead of panicking. */
static bool recover_probe(struct trap_frame *tf)
{
	if (ESR_EC(tf->esr) != EC_UNKNOWN || tf->elr != (uintptr_t)semihost_probe_hlt)
		return false;
	tf->elr = (uintptr_t)semihost_probe_resume;
	return true;
}

void aarch64_trap(struct trap_frame *tf);
void aarch64_trap(struct trap_frame *tf)
{
	unsigned group = tf->kind >> 2, type = tf->kind & 3;
	if (group == VEC_GROUP_CUR_SP0 && type == VEC_TYPE_IRQ) {
		irq_dispatch();
		return;
	}
	if (group == VEC_GROUP_CUR_SP0 && type == VEC_TYPE_SYNC && recover_probe(tf))
		return;
	if (group == VEC_GROUP_CUR_SP0 && type == VEC_TYPE_SYNC && abort_resolved(tf))
		return; /* a demand-zero page is there now: run the instruction again */
	if (group == VEC_GROUP_CUR_SPX && type == VEC_TYPE_IRQ)
		panic_trap(tf,
		           "IRQ on the exception stack: interrupts unmasked in a handler, pc %#lx",
		           tf->elr);
	if (group == VEC_GROUP_CUR_SPX)
		printf("\nnoos: exception while handling an exception (on the exception stack)\n");
	if (group >= VEC_GROUP_LOWER_A64)
		panic_trap(tf, "exception from EL0 (%s), ESR %#lx at pc %#lx",
		           group == VEC_GROUP_LOWER_A64 ? "AArch64" : "AArch32", tf->esr, tf->elr);
	if (type == VEC_TYPE_SYNC)
		sync_panic(tf);
	if (type == VEC_TYPE_SERROR)
		panic_trap(tf, "SError (asynchronous abort), ESR %#lx, at or after pc %#lx",
		           tf->esr, tf->elr);
	panic_trap(tf, "unexpected %s with interrupts masked at pc %#lx",
	           type == VEC_TYPE_IRQ ? "IRQ" : "FIQ", tf->elr);
}

void arch_dump_trap(const struct trap_frame *tf)
{
	static const char *const groups[4] = {"EL1t", "EL1h", "EL0 AArch64", "EL0 AArch32"};
	static const char *const types[4] = {"sync", "IRQ", "FIQ", "SError"};
	for (int i = 0; i < 30; i += 3)
		printf("  x%-2d %016lx  x%-2d %016lx  x%-2d %016lx\n", i, tf->x[i], i + 1,
		       tf->x[i + 1], i + 2, tf->x[i + 2]);
	printf("  x30 %016lx  sp  %016lx  pc  %016lx\n", tf->x[30], tf->sp, tf->elr);
	printf("  spsr %08lx  esr %08lx  far %016lx  vector %s %s\n", tf->spsr, tf->esr, tf->far,
	       groups[(tf->kind >> 2) & 3], types[tf->kind & 3]);
}

uintptr_t arch_trap_pc(const struct trap_frame *tf)
{
	return tf->elr;
}

uintptr_t arch_trap_fp(const struct trap_frame *tf)
{
	return tf->x[29];
}
