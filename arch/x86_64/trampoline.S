/*
 * Application processor start-up (Intel SDM vol. 3A, 8.4.4 and 9.9). A
 * STARTUP IPI starts an AP in real mode at CS = page << 8, IP = 0, so this
 * position-independent blob is copied to a page below 1 MiB (smp.c) and its
 * data block filled in. It goes to protected mode on its own GDT, turns on
 * paging with the boot CPU's CR4/EFER on entry.S's boot page tables (they
 * identity-map the low 4 GiB executable, this page included, where noos's
 * own tables map RAM no-execute), enters compatibility mode and jumps to
 * ap_start64 in the image. That switches to the boot CPU's current page
 * tables, takes a stack and calls C.
 *
 * The trampoline GDT's 0x08 (64-bit code) and 0x10 (data) selectors match
 * trap.c's GDT, so the segment registers stay valid when C loads that one.
 */
#define MSR_EFER 0xc0000080
#define CR0_PE   1

	.section .rodata.trampoline, "a"
	.code16
	.p2align 4
	.global tramp_start
tramp_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	xor %ebx, %ebx
	mov %ax, %bx
	shl $4, %ebx                    /* %ebx = the page's physical address, kept to the end */
	lgdtl tramp_gdtr - tramp_start
	mov %cr0, %eax
	or $CR0_PE, %eax
	mov %eax, %cr0
	ljmpl *(tramp_pm32 - tramp_start)

	.code32
tramp_protected:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov (tramp_cr4 - tramp_start)(%ebx), %eax
	mov %eax, %cr4                  /* PAE and friends; PCIDE only once in long mode */
	mov (tramp_cr3 - tramp_start)(%ebx), %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	mov (tramp_efer - tramp_start)(%ebx), %eax
	mov (tramp_efer + 4 - tramp_start)(%ebx), %edx
	wrmsr                           /* LME (and NXE, as the boot CPU has it) */
	mov (tramp_cr0 - tramp_start)(%ebx), %eax
	mov %eax, %cr0                  /* PG: now in compatibility mode */
	ljmpl *(tramp_lm64 - tramp_start)(%ebx)

	.p2align 3
tramp_gdt:
	.quad 0
	.quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff        /* 0x10: data */
	.quad 0x00cf9a000000ffff        /* 0x18: 32-bit code, for the step into protected mode */
tramp_gdt_end:

	/* ---- the data block smp.c fills in ---- */
	.p2align 3
	.global tramp_gdtr, tramp_pm32, tramp_lm64, tramp_cr0, tramp_cr3, tramp_cr4, tramp_efer
tramp_gdtr:
	.word tramp_gdt_end - tramp_gdt - 1
	.long 0                         /* page + (tramp_gdt - tramp_start) */
	.p2align 3
tramp_pm32:
	.long 0                         /* page + (tramp_protected - tramp_start) */
	.word 0x18
	.p2align 3
tramp_lm64:
	.long ap_start64                /* in the image, below 4 GiB */
	.word 0x08
	.p2align 3
tramp_cr0:	.long 0
tramp_cr3:	.long 0
tramp_cr4:	.long 0
	.p2align 3
tramp_efer:	.quad 0
	.global tramp_end, tramp_gdt_offset, tramp_protected_offset
tramp_end:

	.p2align 2
tramp_gdt_offset:
	.long tramp_gdt - tramp_start
tramp_protected_offset:
	.long tramp_protected - tramp_start

	/*
	 * 64-bit, in the image: take the next stack ticket (APs arrive in any
	 * order), switch to that stack and call x86_ap_main(ticket). An AP that
	 * finds no stack left parks with interrupts off.
	 */
	.text
	.code64
	.global ap_start64
ap_start64:
	mov ap_kernel_cr3(%rip), %rax   /* before any stack: it may lie above 4 GiB */
	and $~0xfff, %rax
	mov %rax, %cr3
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	mov $1, %eax
	lock xaddl %eax, ap_ticket(%rip)
	cmp ap_stack_count(%rip), %eax
	jae 1f
	lea ap_stack_tops(%rip), %rcx
	mov (%rcx, %rax, 8), %rsp
	mov %eax, %edi
	xor %ebp, %ebp
	call x86_ap_main
1:	cli
	hlt
	jmp 1b
