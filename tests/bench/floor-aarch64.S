/*
 * The floor of ./noos bench on aarch64: the least a kernel can do under the
 * bench's QEMU flags. An arm64 Image header (Linux Documentation/arm64/
 * booting.rst) so that QEMU's -kernel loads it and enters at offset 0 with the
 * MMU off, one line written to the PL011 of QEMU's virt board (0x09000000;
 * PL011 TRM: UARTCR at 0x30 enables it, UARTDR at 0x00 transmits), and exit
 * through semihosting SYS_EXIT (Arm "Semihosting for AArch32 and AArch64"
 * 2.0: HLT #0xF000, w0 = 0x18, x1 -> {ADP_Stopped_ApplicationExit, status}).
 * Whatever noos spends beyond this is noos's; this much is QEMU's.
 */
#define PL011_BASE   0x09000000
#define UARTCR       0x30
#define UARTCR_ON    0x301 /* UARTEN | TXE | RXE */
#define SYS_EXIT     0x18

	.text
	.global _start
_start:
	b	entry                 /* code0 */
	.long	0                     /* code1 */
	.quad	0                     /* text_offset: QEMU loads at RAM base + 2 MiB */
	.quad	image_end - _start    /* image_size (non-zero: text_offset is valid) */
	.quad	0                     /* flags: little-endian */
	.quad	0, 0, 0               /* res2..res4 */
	.ascii	"ARM\x64"             /* magic */
	.long	0                     /* res5 */

entry:
	mov	x1, #PL011_BASE
	mov	w2, #UARTCR_ON
	str	w2, [x1, #UARTCR]
	adr	x3, msg
1:	ldrb	w2, [x3], #1
	cbz	w2, 2f
	str	w2, [x1]
	b	1b
2:	mov	w0, #SYS_EXIT
	adr	x1, exit_block
	hlt	#0xf000
3:	wfi
	b	3b

	.p2align 3
exit_block:
	.quad	0x20026               /* ADP_Stopped_ApplicationExit */
	.quad	0                     /* status */
msg:	.asciz	"Hello from the floor!\n"
	.p2align 3
image_end:
