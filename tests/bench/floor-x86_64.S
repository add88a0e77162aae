/*
 * The floor of ./noos bench on x86_64: the least a kernel can do under the
 * bench's QEMU flags. QEMU enters it through the PVH ELF note (32-bit
 * protected mode, paging off, flat segments: xen/include/public/arch-x86/
 * hvm/start_info.h), it writes one line to the 16550 at COM1 (port 0x3f8;
 * QEMU transmits whatever is written to THR, no setup needed) and exits
 * through isa-debug-exit (port 0xf4: QEMU exits with (v << 1) | 1, here 1).
 * Whatever noos spends beyond this is noos's; this much is QEMU's.
 */
#define COM1_THR       0x3f8
#define ISA_DEBUG_EXIT 0xf4

	/* XEN_ELFNOTE_PHYS32_ENTRY (18), the entry address as a 64-bit desc in an ELF64 image */
	.section .note.pvh, "a", @note
	.p2align 2
	.long 4
	.long 8
	.long 18
	.asciz "Xen"
	.p2align 2
	.quad _start

	.text
	.code32
	.global _start
_start:
	mov $msg, %esi
	mov $COM1_THR, %dx
1:	lodsb
	test %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	xor %eax, %eax
	outl %eax, $ISA_DEBUG_EXIT
3:	hlt
	jmp 3b

msg:	.asciz "Hello from the floor!\n"
