/*
 * aarch64 exception vectors (ARM ARM D1.10.2): VBAR_EL1 points at a 2 KiB
 * aligned table of 16 entries of 128 bytes, four groups (current EL on
 * SP_EL0, current EL on SP_ELx, lower EL AArch64, lower EL AArch32) of four
 * types (synchronous, IRQ, FIQ, SError). Every entry saves the registers into
 * a struct trap_frame (trap.h) on SP_EL1 and calls aarch64_trap(frame); if
 * that returns (a recovered probe, later an interrupt), the frame is restored
 * and the exception returns.
 *
 * The kernel runs on SP_EL0 (entry.S), so an exception from it lands in the
 * first group on the separate SP_EL1 stack; the second group means an
 * exception inside a handler. The one exception to that: an IRQ from EL1t
 * switches back to SP_EL0 and is handled on the interrupted stack (as
 * arch.h promises), so a timer or IPI hook may switch threads there. A bad
 * SP_EL0 then faults on the push, which still reports on SP_EL1.
 */
#include "aarch64.h"

.macro VENTRY kind
	.p2align 7
	sub	sp, sp, #TF_SIZE
	stp	x0, x1, [sp, #TF_X0]
	mov	x0, #\kind
	b	trap_entry
.endm

.macro VENTRY_ON_SP0 kind
	.p2align 7
	msr	spsel, #0
	sub	sp, sp, #TF_SIZE
	stp	x0, x1, [sp, #TF_X0]
	mov	x0, #\kind
	b	trap_entry
.endm

	.section .text.vectors, "ax"
	.p2align 11
	.global exception_vectors
exception_vectors:
	VENTRY 0
	VENTRY_ON_SP0 1
	VENTRY 2
	VENTRY 3
	VENTRY 4
	VENTRY 5
	VENTRY 6
	VENTRY 7
	VENTRY 8
	VENTRY 9
	VENTRY 10
	VENTRY 11
	VENTRY 12
	VENTRY 13
	VENTRY 14
	VENTRY 15

/* x0 = kind; x0 and x1 are saved already. */
trap_entry:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	/*
	 * The interrupted SP: SP_EL0 when this frame is on SP_EL1 and the
	 * exception came from EL1t or EL0; else (from EL1h, or an IRQ handled
	 * on SP_EL0) the SP above this frame. SP_EL0 cannot be read while
	 * it is the current SP (MRS is UNDEFINED then), hence the branches.
	 */
	add	x2, sp, #TF_SIZE
	mrs	x3, spsel
	cbz	x3, 1f
	lsr	x4, x0, #2
	cmp	x4, #VEC_GROUP_CUR_SPX
	b.eq	1f
	mrs	x2, sp_el0
1:
	stp	x30, x2, [sp, #TF_X30]
	mrs	x1, elr_el1
	mrs	x2, spsr_el1
	stp	x1, x2, [sp, #TF_ELR]
	mrs	x3, esr_el1
	mrs	x4, far_el1
	stp	x3, x4, [sp, #TF_ESR]
	stp	x0, xzr, [sp, #TF_KIND]
	/* A frame record {fp, elr}: a backtrace from the handler walks on into the interrupted code. */
	stp	x29, x1, [sp, #-16]!
	mov	x29, sp
	add	x0, sp, #16
	bl	aarch64_trap

	add	sp, sp, #16
	/* The handler may have changed ELR (a recovered probe resumes elsewhere). */
	ldp	x1, x2, [sp, #TF_ELR]
	msr	elr_el1, x1
	msr	spsr_el1, x2
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #TF_X30]
	ldp	x0, x1, [sp, #TF_X0]
	add	sp, sp, #TF_SIZE
	eret
