/*
 * x86_64 entry: the PVH ELF note and the multiboot2 header, the 32-bit entry
 * both protocols use, the switch to long mode with our own identity page
 * tables, and the jump to C (arch_boot) on the boot stack.
 *
 * PVH (xen/include/public/arch-x86/hvm/start_info.h): entered in 32-bit
 * protected mode, paging off, %ebx = physical address of hvm_start_info.
 * Multiboot2 (multiboot2 spec 3.3): %eax = 0x36d76289, %ebx = info structure.
 */

#define BOOT_PVH        1
#define BOOT_MULTIBOOT2 2

#define MB2_MAGIC      0xe85250d6
#define MB2_ARCH_I386  0
#define MB2_BOOT_MAGIC 0x36d76289

#define CR0_PE  (1 << 0)
#define CR0_MP  (1 << 1)
#define CR0_EM  (1 << 2)
#define CR0_WP  (1 << 16)
#define CR0_PG  (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR     (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER  0xc0000080
#define EFER_LME  (1 << 8)
#define EFER_NXE  (1 << 11)

#define PTE_P  0x001
#define PTE_W  0x002
#define PTE_PS 0x080

	/* ---- PVH: XEN_ELFNOTE_PHYS32_ENTRY (18); 64-bit desc in an ELF64 image ---- */
	.section .note.pvh, "a"
	.p2align 2   /* QEMU pads the name to the PT_NOTE alignment: keep it 4 */
	.long 4                 /* namesz: "Xen\0" */
	.long 8                 /* descsz */
	.long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.p2align 2
	.quad pvh_entry

	/* ---- multiboot2 header (spec 3.1.1), first in .text ---- */
	.section .multiboot2, "a"
	.p2align 3
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* end tag */
	.word 0
	.word 0
	.long 8
mb2_header_end:

	.section .boot32, "ax"
	.code32
	.global pvh_entry
pvh_entry:
	cli
	cld
	mov $BOOT_PVH, %edi
	mov %ebx, %esi
	jmp start32

	.global mb2_entry
mb2_entry:
	cli
	cld
	mov $BOOT_MULTIBOOT2, %edi
	mov %ebx, %esi
	cmp $MB2_BOOT_MAGIC, %eax
	je start32
	hlt
	jmp mb2_entry

start32:
	/* Zero .bss: neither loader promises it (PVH loads segments, GRUB may not clear). */
	mov %edi, %ebp
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl
	mov %ebp, %edi

	/*
	 * Identity-map the first 4 GiB with 2 MiB pages: PML4[0] -> PDPT,
	 * PDPT[0..3] -> four page directories of 512 entries each. The memory
	 * code replaces these tables with W^X ones once C runs.
	 */
	mov $boot_pd, %ebx
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $(PTE_P | PTE_W | PTE_PS), %eax
	mov %eax, (%ebx, %ecx, 8)
	mov %ecx, %eax
	shr $11, %eax              /* bits 32+ of (i << 21) */
	mov %eax, 4(%ebx, %ecx, 8)
	inc %ecx
	cmp $2048, %ecx
	jne 1b

	xor %ecx, %ecx
2:	mov %ecx, %eax
	shl $12, %eax
	add $boot_pd, %eax
	or $(PTE_P | PTE_W), %eax
	mov %eax, boot_pdpt(, %ecx, 8)
	inc %ecx
	cmp $4, %ecx
	jne 2b

	mov $boot_pdpt, %eax
	or $(PTE_P | PTE_W), %eax
	mov %eax, boot_pml4

	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov %cr4, %eax
	or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	mov %eax, %cr4

	/* EFER.LME, and EFER.NXE when the CPU has NX (CPUID 0x80000001 EDX bit 20). */
	mov $boot_stack_top, %esp
	push %esi
	push %edi
	mov $0x80000001, %eax
	cpuid
	mov $EFER_LME, %esi
	bt $20, %edx
	jnc 3f
	or $EFER_NXE, %esi
3:	mov $MSR_EFER, %ecx
	rdmsr
	or %esi, %eax
	wrmsr
	pop %edi
	pop %esi

	mov %cr0, %eax
	and $~CR0_EM, %eax
	or $(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
	mov %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $start64

	.code64
	.text
start64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	lea boot_stack_top(%rip), %rsp
	xor %ebp, %ebp
	/* %edi = protocol, %esi = its info pointer (zero-extended by the 32-bit moves). */
	call arch_boot
	ud2

	.section .rodata
	.p2align 3
boot_gdt:
	.quad 0                       /* null */
	.quad 0x00af9a000000ffff      /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff      /* 0x10: data */
boot_gdt_end:
	.global boot_gdt_ptr
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	.bss
	.p2align 12
	.global boot_pml4
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4 * 4096
	/* Unmapped by arch_mmu_init (mmu.c): overflowing the boot stack faults here. */
boot_stack_guard:	.skip 4096
	.global boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.skip 65536
boot_stack_top:
