/*
 * x86_64 exception and interrupt entry stubs (Intel SDM vol. 3A, 6.12). Each stub makes the
 * stack look the same (error code or 0, then the vector number), the common
 * path saves the general registers into a struct trap_frame (trap.h) and
 * calls x86_trap(frame).
 */
	.text

.macro STUB vec, has_error
	.p2align 4
trap_stub_\vec:
	.if \has_error == 0
	pushq $0
	.endif
	pushq $\vec
	jmp trap_common
.endm

/* Vectors with a CPU-pushed error code: 8, 10-14, 17, 21, 29, 30. */
STUB 0, 0
STUB 1, 0
STUB 2, 0
STUB 3, 0
STUB 4, 0
STUB 5, 0
STUB 6, 0
STUB 7, 0
STUB 8, 1
STUB 9, 0
STUB 10, 1
STUB 11, 1
STUB 12, 1
STUB 13, 1
STUB 14, 1
STUB 15, 0
STUB 16, 0
STUB 17, 1
STUB 18, 0
STUB 19, 0
STUB 20, 0
STUB 21, 1
STUB 22, 0
STUB 23, 0
STUB 24, 0
STUB 25, 0
STUB 26, 0
STUB 27, 0
STUB 28, 0
STUB 29, 1
STUB 30, 1
STUB 31, 0

/*
 * Interrupt vectors 32-255: one stub each at irq_stubs + 16 * (vector - 32),
 * as trap.c's IDT expects (each is at most 12 bytes: push imm8, push imm32,
 * jmp rel32), no CPU error code, the same common path.
 */
	.p2align 4
	.global irq_stubs
irq_stubs:
	.set irq_vec, 32
	.rept 224
	.p2align 4
	pushq $0
	pushq $irq_vec
	jmp trap_common
	.set irq_vec, irq_vec + 1
	.endr

trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	mov %rsp, %rdi
	/* Link a frame so backtraces walk from the handler into the interrupted code. */
	pushq 0x88(%rsp)          /* saved rip */
	pushq %rbp
	mov %rsp, %rbp
	and $~15, %rsp
	cld
	call x86_trap
	lea 16(%rbp), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	add $16, %rsp             /* vector, error code */
	iretq

	.section .rodata
	.p2align 3
	.global trap_stubs
trap_stubs:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad trap_stub_\v
.endr
