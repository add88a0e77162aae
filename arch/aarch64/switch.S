/*
 * aarch64 thread switch (arch.h, "Threads"). A thread that is not running is
 * its saved stack pointer: arch_context_switch stores the registers AAPCS64
 * (6.1.1) makes callee-saved, x19-x28, the frame pointer x29 and the link
 * register x30, on the current stack (SP_EL0: the kernel runs in EL1t),
 * stores sp, loads the other thread's and returns through its x30.
 *
 * The FP/SIMD save and restore live here too, so the C code stays
 * general-registers-only: q0-q31, FPCR and FPSR (ARM ARM C5.2.7, C5.2.8).
 * SVE and SME stay trapped (CPACR_EL1.ZEN/SMEN are 0), so there is no
 * wider state to save.
 */
	.arch_extension fp
	.arch_extension simd
	.text

/* void arch_context_switch(uintptr_t *save_sp x0, uintptr_t load_sp x1) */
	.global arch_context_switch
	.type arch_context_switch, %function
	.p2align 4
arch_context_switch:
	sub	sp, sp, #96
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	mov	x9, sp
	str	x9, [x0]
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	add	sp, sp, #96
	ret
	.size arch_context_switch, . - arch_context_switch

/*
 * A new thread's first return lands here (context.c built the frame):
 * x19 = fn, x20 = arg, x29 = 0 so a backtrace ends at this frame.
 */
	.global arch_thread_trampoline
	.type arch_thread_trampoline, %function
	.p2align 4
arch_thread_trampoline:
	mov	x0, x20
	blr	x19
	brk	#0x5c                  /* fn must not return */
	.size arch_thread_trampoline, . - arch_thread_trampoline

/* void arch_fpu_save(void *area x0): 32 x 16 bytes of q registers, then FPCR, FPSR. */
	.global arch_fpu_save
	.type arch_fpu_save, %function
	.p2align 4
arch_fpu_save:
	stp	q0, q1, [x0, #0]
	stp	q2, q3, [x0, #32]
	stp	q4, q5, [x0, #64]
	stp	q6, q7, [x0, #96]
	stp	q8, q9, [x0, #128]
	stp	q10, q11, [x0, #160]
	stp	q12, q13, [x0, #192]
	stp	q14, q15, [x0, #224]
	stp	q16, q17, [x0, #256]
	stp	q18, q19, [x0, #288]
	stp	q20, q21, [x0, #320]
	stp	q22, q23, [x0, #352]
	stp	q24, q25, [x0, #384]
	stp	q26, q27, [x0, #416]
	stp	q28, q29, [x0, #448]
	stp	q30, q31, [x0, #480]
	mrs	x1, fpcr
	mrs	x2, fpsr
	add	x3, x0, #512
	stp	x1, x2, [x3]
	ret
	.size arch_fpu_save, . - arch_fpu_save

/* void arch_fpu_restore(const void *area x0) */
	.global arch_fpu_restore
	.type arch_fpu_restore, %function
	.p2align 4
arch_fpu_restore:
	ldp	q0, q1, [x0, #0]
	ldp	q2, q3, [x0, #32]
	ldp	q4, q5, [x0, #64]
	ldp	q6, q7, [x0, #96]
	ldp	q8, q9, [x0, #128]
	ldp	q10, q11, [x0, #160]
	ldp	q12, q13, [x0, #192]
	ldp	q14, q15, [x0, #224]
	ldp	q16, q17, [x0, #256]
	ldp	q18, q19, [x0, #288]
	ldp	q20, q21, [x0, #320]
	ldp	q22, q23, [x0, #352]
	ldp	q24, q25, [x0, #384]
	ldp	q26, q27, [x0, #416]
	ldp	q28, q29, [x0, #448]
	ldp	q30, q31, [x0, #480]
	add	x3, x0, #512
	ldp	x1, x2, [x3]
	msr	fpcr, x1
	msr	fpsr, x2
	ret
	.size arch_fpu_restore, . - arch_fpu_restore
