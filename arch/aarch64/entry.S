/*
 * aarch64 entry: the arm64 Linux Image header, the drop from EL2 to EL1,
 * FP/SIMD on, the exception vectors, an identity map with the MMU and caches
 * on, .bss cleared, the stacks, and the jump to C (arch_boot).
 *
 * Boot protocol (Linux Documentation/arm64/booting.rst): the loader (QEMU's
 * -kernel) puts this raw image at a 2 MiB-aligned RAM base + text_offset and
 * enters at offset 0 with the MMU off, x0 = physical address of the DTB,
 * x1..x3 = 0, interrupts masked, at EL2 or EL1. Only the boot CPU comes here:
 * QEMU keeps the secondaries powered off in its PSCI emulation until smp.c
 * starts them at secondary_entry (below).
 *
 * Stacks: C code runs in EL1t, on SP_EL0 (the boot stack now, thread stacks
 * later). Exceptions always switch to SP_EL1, which is a separate exception
 * stack that nothing else uses, so a thread stack overflow that faults on a
 * guard page is still reported cleanly.
 *
 * Everything before the MMU is on uses PC-relative addressing (adr/adrp), so
 * the image would also run loaded at another 2 MiB-aligned base; C code
 * (small code model, adrp) is PC-relative too, apart from absolute pointers
 * stored in data.
 */
#include "aarch64.h"

#define TEXT_OFFSET 0x200000 /* image at RAM base + 2 MiB: 0x40200000 on QEMU virt */
#define IMAGE_FLAGS 0x2      /* booting.rst: bit 0 = 0 little-endian, bits 1-2 = 1 4K pages */

#define CURRENTEL_EL1 (1 << 2)
#define CURRENTEL_EL2 (2 << 2)

/* EL2 setup, ARM ARM D13.2 (HCR_EL2, CNTHCTL_EL2, CPTR_EL2) and GICv3 12.11.7 (ICC_SRE_EL2). */
#define HCR_EL2_RW       (1 << 31)           /* EL1 is AArch64 */
#define HCR_EL2_API_APK  (3 << 40)           /* pointer authentication keys/insns not trapped */
#define CNTHCTL_EL1PCTEN (1 << 0)            /* EL1 may read CNTPCT_EL0 */
#define CNTHCTL_EL1PCEN  (1 << 1)            /* EL1 may use the physical timer */
#define CPTR_EL2_RES1    0x33ff              /* TFP (bit 10) clear: FP/SIMD not trapped */
#define ICC_SRE_EL2      s3_4_c12_c9_5
#define ICC_SRE_SRE      (1 << 0)            /* system register interface at EL2 */
#define ICC_SRE_ENABLE   (1 << 3)            /* EL1 may use ICC_SRE_EL1 */
#define SPSR_EL1H_MASKED 0x3c5               /* D, A, I, F masked; M = EL1h */

/* SCTLR_EL1, ARM ARM D17.2.118: the ARMv8.0 RES1 bits, then the ones we turn on. */
#define SCTLR_EL1_RES1 ((1 << 29) | (1 << 28) | (1 << 23) | (1 << 22) | (1 << 20) | (1 << 11))
#define SCTLR_M        (1 << 0)  /* MMU */
#define SCTLR_C        (1 << 2)  /* data cache */
#define SCTLR_SA       (1 << 3)  /* SP alignment check at EL1 */
#define SCTLR_I        (1 << 12) /* instruction cache */
#define CPACR_FPEN     (3 << 20) /* FP/SIMD not trapped at EL1/EL0 (D17.2.30) */

/* TCR_EL1, D17.2.131: 48-bit VA from TTBR0 (walk starts at level 0), 4 KiB granule. */
#define TCR_T0SZ       (64 - 48)
#define TCR_IRGN0_WBWA (1 << 8)
#define TCR_ORGN0_WBWA (1 << 10)
#define TCR_SH0_INNER  (3 << 12)
#define TCR_T1SZ       ((64 - 48) << 16)
#define TCR_EPD1       (1 << 23) /* no TTBR1 walks: nothing lives in the upper half */
#define TCR_VALUE      (TCR_T0SZ | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_T1SZ | TCR_EPD1)
#define TCR_IPS_SHIFT  32
#define PARANGE_48BIT  5

/* VMSAv8-64 descriptors, D8.3: level 1 blocks are 1 GiB. */
#define PTE_TABLE       3
#define PTE_BLOCK       1
#define PTE_ATTR(i)     ((i) << 2)
#define PTE_SH_INNER    (3 << 8)
#define PTE_AF          (1 << 10)
#define PTE_PXN         (1 << 53)
#define PTE_UXN         (1 << 54)
#define BLOCK_NORMAL    (PTE_BLOCK | PTE_ATTR(MT_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_UXN)
#define BLOCK_DEVICE    (PTE_BLOCK | PTE_ATTR(MT_DEVICE_nGnRE) | PTE_AF | PTE_PXN | PTE_UXN)
#define GIB_SHIFT       30
#define PT_ENTRIES      512
#define PT_BYTES        4096

	.section .text.head, "ax"
	.global _start
_start:
	/* arm64 Image header (booting.rst, "Call the kernel image") */
	b	primary_entry           /* code0 */
	.long	0                       /* code1 */
	.quad	TEXT_OFFSET             /* text_offset */
	.quad	__image_size            /* image_size, .bss included: non-zero, so QEMU honours text_offset */
	.quad	IMAGE_FLAGS             /* flags */
	.quad	0, 0, 0                 /* res2, res3, res4 */
	.ascii	"ARM\x64"               /* magic */
	.long	0                       /* res5: no PE/COFF header */

primary_entry:
	mov	x19, x0                 /* the DTB address survives in x19 until arch_boot */
	msr	daifset, #0xf
	adr	x20, el1_entry          /* where el2_entry continues, at EL1 */
	mrs	x0, CurrentEL
	cmp	x0, #CURRENTEL_EL2
	b.eq	el2_entry
	cmp	x0, #CURRENTEL_EL1
	b.eq	el1_entry
	/* EL3 (or anything else): not a booting.rst entry state. Stop here. */
	b	park

/*
 * Started at EL2 (QEMU -M virt,virtualization=on): configure EL2 so it
 * stays out of EL1's way, then drop to EL1h at x20 with everything masked.
 * Clobbers x0 only.
 */
el2_entry:
	mov	x0, #HCR_EL2_RW
	orr	x0, x0, #HCR_EL2_API_APK
	msr	hcr_el2, x0
	mov	x0, #(CNTHCTL_EL1PCTEN | CNTHCTL_EL1PCEN)
	msr	cnthctl_el2, x0
	msr	cntvoff_el2, xzr        /* virtual counter == physical counter */
	mov	x0, #CPTR_EL2_RES1
	msr	cptr_el2, x0
	msr	hstr_el2, xzr
	mrs	x0, midr_el1            /* EL1 reads of MIDR/MPIDR see the real values */
	msr	vpidr_el2, x0
	mrs	x0, mpidr_el1
	msr	vmpidr_el2, x0
	/* ID_AA64PFR0_EL1.GIC != 0: a GICv3 CPU interface is there; EL1 may use it. */
	mrs	x0, id_aa64pfr0_el1
	ubfx	x0, x0, #24, #4
	cbz	x0, 1f
	mrs	x0, ICC_SRE_EL2
	orr	x0, x0, #ICC_SRE_SRE
	orr	x0, x0, #ICC_SRE_ENABLE
	msr	ICC_SRE_EL2, x0
	isb
1:	ldr	x0, =SCTLR_EL1_RES1
	msr	sctlr_el1, x0
	mov	x0, #SPSR_EL1H_MASKED
	msr	spsr_el2, x0
	msr	elr_el2, x20
	eret

el1_entry:
	ldr	x0, =SCTLR_EL1_RES1     /* MMU and caches off, little-endian, until the tables exist */
	msr	sctlr_el1, x0
	isb
	/* FP/SIMD on before any C: libfdt.a and application code use the SIMD registers. */
	mov	x0, #CPACR_FPEN
	msr	cpacr_el1, x0
	/* Vectors first, so even a fault in the code below has a handler. */
	adrp	x0, exception_vectors
	add	x0, x0, :lo12:exception_vectors
	msr	vbar_el1, x0
	isb

	bl	boot_map_identity
	bl	mmu_enable

	/* Clear .bss with the caches on (the page tables live outside it). */
	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __bss_end
	add	x1, x1, :lo12:__bss_end
2:	cmp	x0, x1
	b.hs	3f
	stp	xzr, xzr, [x0], #16
	b	2b

3:	adrp	x0, exception_stack_top /* SPSel is 1 here: this sets SP_EL1 */
	add	x0, x0, :lo12:exception_stack_top
	mov	sp, x0
	adrp	x0, boot_stack_top
	add	x0, x0, :lo12:boot_stack_top
	msr	sp_el0, x0
	msr	spsel, #0               /* run on SP_EL0 from now on (EL1t) */
	mov	x0, x19
	mov	x29, xzr                /* the end of the frame-pointer chain */
	mov	x30, xzr
	bl	arch_boot
park:	wfe
	b	park

/*
 * A secondary CPU, started by PSCI CPU_ON (smp.c) with the MMU off, at EL2
 * or EL1 (DEN0022 6.4: the caller's highest Non-secure EL), x0 = context_id
 * = its struct secondary_boot. It sets up EL1 as the boot CPU did: EL2 out
 * of the way, FP/SIMD on, vectors, the same page tables; nothing in memory
 * is read before the MMU (and so coherency) is on. Then its exception stack
 * (SP_EL1), its thread stack (SP_EL0), TPIDR_EL1 = its struct cpu, and C.
 */
	.global secondary_entry
secondary_entry:
	msr	daifset, #0xf
	mov	x19, x0
	adr	x20, secondary_el1
	mrs	x0, CurrentEL
	cmp	x0, #CURRENTEL_EL2
	b.eq	el2_entry
	cmp	x0, #CURRENTEL_EL1
	b.ne	park
secondary_el1:
	ldr	x0, =SCTLR_EL1_RES1
	msr	sctlr_el1, x0
	isb
	mov	x0, #CPACR_FPEN
	msr	cpacr_el1, x0
	adrp	x0, exception_vectors
	add	x0, x0, :lo12:exception_vectors
	msr	vbar_el1, x0
	isb
	bl	mmu_enable
	/* Then the kernel's own tables (mmu.c), before the first load or store through them. */
	adrp	x0, kernel_ttbr0
	ldr	x0, [x0, :lo12:kernel_ttbr0]
	cbz	x0, 1f
	bl	mmu_switch
1:	ldr	x0, [x19, #SECONDARY_SP_EL1]
	mov	sp, x0                  /* SPSel is 1 here: this sets SP_EL1 */
	ldr	x0, [x19, #SECONDARY_SP_EL0]
	msr	sp_el0, x0
	ldr	x0, [x19, #SECONDARY_CPU]
	msr	tpidr_el1, x0
	msr	spsel, #0
	mov	x29, xzr
	mov	x30, xzr
	bl	aarch64_secondary_main
	b	park

/*
 * Identity map, 1 GiB blocks (see aarch64.h for the windows):
 *   L0[0] -> L1 low:  [0, 1 GiB) device, [1 GiB, 256 GiB) normal RAM, [256 GiB, 512 GiB) device
 *   L0[1] -> L1 high: [512 GiB, 1 TiB) device
 * everything above 1 TiB faults. Written with the data cache off, so stale
 * cache lines over the tables are invalidated before and after.
 * Clobbers x0-x9; no stack.
 */
boot_map_identity:
	mov	x8, x30
	adrp	x0, boot_pt_l0
	add	x1, x0, #(3 * PT_BYTES)
	bl	dcache_inval_range
	adrp	x0, boot_pt_l0
	add	x1, x0, #PT_BYTES       /* L1 low */
	add	x2, x1, #PT_BYTES       /* L1 high */
	orr	x3, x1, #PTE_TABLE
	str	x3, [x0]
	orr	x3, x2, #PTE_TABLE
	str	x3, [x0, #8]
	mov	x4, #2
1:	str	xzr, [x0, x4, lsl #3]
	add	x4, x4, #1
	cmp	x4, #PT_ENTRIES
	b.lo	1b

	ldr	x5, =BLOCK_DEVICE
	ldr	x6, =BLOCK_NORMAL
	mov	x7, #(BOOT_NORMAL_END >> GIB_SHIFT)
	mov	x4, #0
2:	lsl	x3, x4, #GIB_SHIFT
	/* lo after these two: BOOT_NORMAL_BASE <= x3 < BOOT_NORMAL_END (else C is forced to 1) */
	cmp	x4, #(BOOT_NORMAL_BASE >> GIB_SHIFT)
	ccmp	x4, x7, #2, hs
	csel	x9, x6, x5, lo
	orr	x3, x3, x9
	str	x3, [x1, x4, lsl #3]
	add	x4, x4, #1
	cmp	x4, #PT_ENTRIES
	b.lo	2b

	mov	x4, #0
3:	add	x3, x4, #PT_ENTRIES
	lsl	x3, x3, #GIB_SHIFT
	orr	x3, x3, x5
	str	x3, [x2, x4, lsl #3]
	add	x4, x4, #1
	cmp	x4, #PT_ENTRIES
	b.lo	3b

	dsb	sy
	adrp	x0, boot_pt_l0
	add	x1, x0, #(3 * PT_BYTES)
	bl	dcache_inval_range
	mov	x30, x8
	ret

/* dc ivac over [x0, x1); line size from CTR_EL0.DminLine. Clobbers x0, x2, x3. */
dcache_inval_range:
	mrs	x3, ctr_el0
	ubfx	x3, x3, #16, #4
	mov	x2, #4
	lsl	x2, x2, x3
	sub	x3, x2, #1
	bic	x0, x0, x3
1:	dc	ivac, x0
	add	x0, x0, x2
	cmp	x0, x1
	b.lo	1b
	dsb	sy
	ret

/* MAIR, TCR (IPS from ID_AA64MMFR0_EL1.PARange, at most 48 bits), TTBR0, then SCTLR. */
mmu_enable:
	ldr	x0, =MAIR_VALUE
	msr	mair_el1, x0
	ldr	x0, =TCR_VALUE
	mrs	x1, id_aa64mmfr0_el1
	ubfx	x1, x1, #0, #4
	mov	x2, #PARANGE_48BIT
	cmp	x1, x2
	csel	x1, x1, x2, ls
	bfi	x0, x1, #TCR_IPS_SHIFT, #3
	msr	tcr_el1, x0
	adrp	x0, boot_pt_l0
	msr	ttbr0_el1, x0
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	mrs	x0, sctlr_el1
	mov	x1, #(SCTLR_M | SCTLR_C | SCTLR_SA | SCTLR_I)
	orr	x0, x0, x1
	msr	sctlr_el1, x0
	isb
	ic	iallu
	dsb	nsh
	isb
	ret
	.ltorg

/*
 * Switch TTBR0_EL1 to the tables at x0 (mmu.c's) with the MMU off for the
 * few instructions in between, so no translation of the old tables (1 GiB
 * blocks) can meet one of the new (other sizes, other attributes) in the
 * TLB: break-before-make for the whole address space (ARM ARM D8.14.1).
 * Nothing is loaded or stored meanwhile; everything is identity-mapped.
 * Clobbers x1, x2.
 */
	.global mmu_switch
mmu_switch:
	mrs	x1, sctlr_el1
	bic	x2, x1, #SCTLR_M
	dsb	ish
	msr	sctlr_el1, x2
	isb
	msr	ttbr0_el1, x0
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	msr	sctlr_el1, x1
	isb
	ret

	/* Outside .bss, so clearing .bss cannot wipe them once the MMU uses them. */
	.section .boot_pagetables, "aw", %nobits
	.p2align 12
	.global boot_pt_l0
boot_pt_l0:	.skip 3 * PT_BYTES

	.section .bss.boot_stacks, "aw", %nobits
	.p2align 12
	/* Unmapped by arch_mmu_init (mmu.c): overflowing the boot stack faults here. */
boot_stack_guard:
	.skip 4096
	.global boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.skip BOOT_STACK_SIZE
boot_stack_top:
	/* Above the boot stack: an overflow of it grows away from this one. */
	.global exception_stack_bottom, exception_stack_top
exception_stack_bottom:
	.skip EXCEPTION_STACK_SIZE
exception_stack_top:
