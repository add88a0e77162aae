/*
 * x86_64 thread switch (arch.h, "Threads"). A thread that is not running is
 * its saved stack pointer: arch_context_switch pushes the registers the
 * System V AMD64 ABI (3.2.1) makes callee-saved, stores %rsp, loads the
 * other thread's and pops its registers; the return address on that stack
 * resumes it. FP/SIMD state and the FS base are switched in C (context.c,
 * rt/sched.c): the kernel never uses them.
 */
	.text

/* void arch_context_switch(uintptr_t *save_sp %rdi, uintptr_t load_sp %rsi) */
	.global arch_context_switch
	.type arch_context_switch, @function
	.p2align 4
arch_context_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	mov %rsp, (%rdi)
	mov %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size arch_context_switch, . - arch_context_switch

/*
 * A new thread's first return lands here (context.c built the frame):
 * %r12 = fn, %r13 = arg, %rbp = 0 so a backtrace ends at this frame, and
 * %rsp 16-byte aligned for the call, as the ABI requires.
 */
	.global arch_thread_trampoline
	.type arch_thread_trampoline, @function
	.p2align 4
arch_thread_trampoline:
	mov %r13, %rdi
	call *%r12
	ud2                       /* fn must not return */
	.size arch_thread_trampoline, . - arch_thread_trampoline
