/*
 * Page-table entries for host builds of rt/pagetable.c (tests/host): an
 * encoding of our own with the shape both arches' pte.h have, so the walker
 * (levels, large leaves, splitting, pruning, entries kept with no access)
 * is tested natively. "Physical" addresses are host pointers (phys_to_virt
 * is the identity there), which fit below bit 48.
 */
#ifndef NOOS_HOST_PTE_H
#define NOOS_HOST_PTE_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"

typedef uint64_t pte_t;

#define PT_LEVELS  4
#define PT_ENTRIES 512

#define PTE_P       (1ull << 0)
#define PTE_W       (1ull << 1)
#define PTE_X       (1ull << 2)
#define PTE_DEV     (1ull << 3)
#define PTE_LEAF    (1ull << 7) /* levels 1 and 2: a large leaf, not a table */
#define PTE_SW_NONE (1ull << 9)
#define PTE_ADDR    0x0000fffffffff000ull

static inline bool pte_block_ok(unsigned level)
{
	return level <= 2;
}

static inline pte_t pte_table(uint64_t pa)
{
	return pa | PTE_P;
}

static inline bool pte_is_table(pte_t e, unsigned level)
{
	return level > 0 && (e & PTE_P) && !(e & PTE_LEAF);
}

static inline uint64_t pte_addr(pte_t e, unsigned level)
{
	uint64_t mask = PTE_ADDR;
	if (level > 0 && (e & PTE_LEAF))
		mask &= ~((1ull << (12 + 9 * level)) - 1);
	return e & mask;
}

static inline pte_t pte_leaf(uint64_t pa, unsigned prot, unsigned level)
{
	if (!(prot & ARCH_PROT_READ))
		return pa | PTE_SW_NONE;
	return pa | PTE_P | (level > 0 ? PTE_LEAF : 0) | ((prot & ARCH_PROT_WRITE) ? PTE_W : 0) |
	       ((prot & ARCH_PROT_EXEC) ? PTE_X : 0) | ((prot & ARCH_PROT_DEVICE) ? PTE_DEV : 0);
}

static inline unsigned pte_prot(pte_t e, unsigned level)
{
	(void)level;
	if (!(e & PTE_P))
		return 0;
	return ARCH_PROT_READ | ((e & PTE_W) ? ARCH_PROT_WRITE : 0) |
	       ((e & PTE_X) ? ARCH_PROT_EXEC : 0) | ((e & PTE_DEV) ? ARCH_PROT_DEVICE : 0);
}

static inline void pte_publish(void)
{
}

#endif
