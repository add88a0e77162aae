/*
 * aarch64 page-table entries for rt/pagetable.c: VMSAv8-64 stage 1, 4 KiB
 * granule, 48-bit VAs (ARM ARM D8.3, "Translation table descriptor
 * formats"). rt's level 0 is the architecture's lookup level 3 (pages),
 * level 1 its level 2 (2 MiB blocks), level 2 its level 1 (1 GiB blocks),
 * level 3 its level 0 (tables only). An entry of 0 is invalid.
 *
 * Memory attributes index MAIR_EL1 (aarch64.h: Normal write-back, or
 * Device-nGnRE for devices). Every mapping is privileged only (AP[1] = 0)
 * and never executable at EL0 (UXN).
 *
 * A page mapped with no access at all (PROT_NONE over committed memory) is
 * an invalid descriptor that keeps its address and PTE_SW_NONE: bits [63:1]
 * of an invalid descriptor are ignored by hardware (D8.3.1).
 */
#ifndef NOOS_AARCH64_PTE_H
#define NOOS_AARCH64_PTE_H

#include <stdbool.h>
#include <stdint.h>

#include "aarch64.h"
#include "arch.h"

typedef uint64_t pte_t;

#define PT_LEVELS  4
#define PT_ENTRIES 512

#define PTE_VALID    (1ull << 0)
#define PTE_TYPE_BIT (1ull << 1) /* 1: table (levels 1-3 of rt) or page (level 0); 0: block */
#define PTE_ATTR(i)  ((uint64_t)(i) << 2)
#define PTE_ATTR_MSK (7ull << 2)
#define PTE_AP_RO    (1ull << 7) /* AP[2]: read-only */
#define PTE_SH_INNER (3ull << 8)
#define PTE_AF       (1ull << 10)
#define PTE_PXN      (1ull << 53)
#define PTE_UXN      (1ull << 54)
#define PTE_SW_NONE  (1ull << 55) /* software, with VALID clear: a page mapped with no access */
#define PTE_ADDR     0x0000fffffffff000ull

static inline bool pte_block_ok(unsigned level)
{
	return level <= 2;
}

static inline pte_t pte_table(uint64_t pa)
{
	return pa | PTE_VALID | PTE_TYPE_BIT;
}

static inline bool pte_is_table(pte_t e, unsigned level)
{
	return level > 0 && (e & (PTE_VALID | PTE_TYPE_BIT)) == (PTE_VALID | PTE_TYPE_BIT);
}

static inline uint64_t pte_addr(pte_t e, unsigned level)
{
	uint64_t mask = PTE_ADDR;
	if (level > 0 && !(e & PTE_TYPE_BIT))
		mask &= ~((1ull << (12 + 9 * level)) - 1);
	return e & mask;
}

static inline pte_t pte_leaf(uint64_t pa, unsigned prot, unsigned level)
{
	if (!(prot & ARCH_PROT_READ))
		return pa | PTE_SW_NONE;
	pte_t e = pa | PTE_VALID | PTE_AF | PTE_UXN | (level == 0 ? PTE_TYPE_BIT : 0);
	if (prot & ARCH_PROT_DEVICE)
		e |= PTE_ATTR(MT_DEVICE_nGnRE);
	else
		e |= PTE_ATTR(MT_NORMAL) | PTE_SH_INNER;
	if (!(prot & ARCH_PROT_WRITE))
		e |= PTE_AP_RO;
	if (!(prot & ARCH_PROT_EXEC))
		e |= PTE_PXN;
	return e;
}

static inline unsigned pte_prot(pte_t e, unsigned level)
{
	(void)level;
	if (!(e & PTE_VALID))
		return 0;
	unsigned prot = ARCH_PROT_READ;
	if (!(e & PTE_AP_RO))
		prot |= ARCH_PROT_WRITE;
	if (!(e & PTE_PXN))
		prot |= ARCH_PROT_EXEC;
	if ((e & PTE_ATTR_MSK) == PTE_ATTR(MT_DEVICE_nGnRE))
		prot |= ARCH_PROT_DEVICE;
	return prot;
}

/*
 * Table stores must complete before a walk may read them (ARM ARM D8.2.6):
 * DSB ISHST for every CPU's walker, ISB for this CPU's instruction stream.
 */
static inline void pte_publish(void)
{
	__asm__ volatile("dsb ishst\n\tisb" : : : "memory");
}

#endif
