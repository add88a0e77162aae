/*
 * x86_64 page-table entries for rt/pagetable.c (Intel SDM vol. 3A 4.5,
 * "4-level paging", tables 4-15 to 4-20). Level 0 entries map 4 KiB pages,
 * level 1 and 2 entries may map 2 MiB and 1 GiB pages (PS), level 3 is the
 * PML4. An entry of 0 maps nothing.
 *
 * Memory types come from the PAT through PAT/PCD/PWT (SDM 11.12.3); noos
 * leaves IA32_PAT at its power-up value, in which index 0 is WB and index 3
 * (PCD | PWT) is UC, so RAM uses index 0 and device memory index 3.
 *
 * A page mapped with no access at all (a language runtime's PROT_NONE over
 * committed memory) is an entry with P clear that keeps its address and
 * PTE_SW_NONE: hardware ignores every other bit of a non-present entry
 * (SDM 4.5.4), and the page can be made accessible again with its contents.
 */
#ifndef NOOS_X86_PTE_H
#define NOOS_X86_PTE_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"

typedef uint64_t pte_t;

#define PT_LEVELS  4
#define PT_ENTRIES 512

#define PTE_P       (1ull << 0)
#define PTE_W       (1ull << 1)
#define PTE_PWT     (1ull << 3)
#define PTE_PCD     (1ull << 4)
#define PTE_A       (1ull << 5)
#define PTE_D       (1ull << 6)
#define PTE_PS      (1ull << 7)  /* levels 1 and 2: this entry maps a large page */
#define PTE_SW_NONE (1ull << 9)  /* software, with P clear: a page mapped with no access */
#define PTE_NX      (1ull << 63) /* only when EFER.NXE is set, else a reserved bit */
#define PTE_ADDR    0x000ffffffffff000ull

/* Set by mmu.c from CPUID before the first entry is made. */
extern uint64_t x86_pte_nx; /* PTE_NX, or 0 when the CPU has no execute-disable */
extern bool x86_pte_1g;     /* 1 GiB pages (CPUID 80000001H:EDX.Page1GB) */

static inline bool pte_block_ok(unsigned level)
{
	return level <= 1 || (level == 2 && x86_pte_1g);
}

static inline pte_t pte_table(uint64_t pa)
{
	return pa | PTE_P | PTE_W | PTE_A; /* permissive: the leaf decides */
}

static inline bool pte_is_table(pte_t e, unsigned level)
{
	return level > 0 && (e & PTE_P) && !(e & PTE_PS);
}

static inline uint64_t pte_addr(pte_t e, unsigned level)
{
	uint64_t mask = PTE_ADDR;
	if (level > 0 && (e & PTE_PS)) /* bit 12 of a large page is its PAT bit */
		mask &= ~((1ull << (12 + 9 * level)) - 1);
	return e & mask;
}

static inline pte_t pte_leaf(uint64_t pa, unsigned prot, unsigned level)
{
	if (!(prot & ARCH_PROT_READ))
		return pa | PTE_SW_NONE;
	pte_t e = pa | PTE_P | PTE_A | (level > 0 ? PTE_PS : 0);
	if (prot & ARCH_PROT_WRITE)
		e |= PTE_W | PTE_D;
	if (!(prot & ARCH_PROT_EXEC))
		e |= x86_pte_nx;
	if (prot & ARCH_PROT_DEVICE)
		e |= PTE_PCD | PTE_PWT;
	return e;
}

static inline unsigned pte_prot(pte_t e, unsigned level)
{
	(void)level;
	if (!(e & PTE_P))
		return 0;
	unsigned prot = ARCH_PROT_READ;
	if (e & PTE_W)
		prot |= ARCH_PROT_WRITE;
	if (!(e & PTE_NX))
		prot |= ARCH_PROT_EXEC;
	if (e & PTE_PCD)
		prot |= ARCH_PROT_DEVICE;
	return prot;
}

/* Page walks read the tables coherently with the CPU's own stores (SDM 4.10.2). */
static inline void pte_publish(void)
{
	__asm__ volatile("" : : : "memory");
}

#endif
