/*
 * x86_64 kernel page tables (arch.h, "Virtual memory"): the identity map
 * built with rt/pagetable.c and loaded into CR3, device mappings on demand,
 * and TLB invalidation (Intel SDM vol. 3A chapter 4).
 *
 * The identity map, coarse to fine (later steps overwrite earlier ones):
 *   1. [0, 4 GiB) uncached, RW, NX: the legacy holes, ACPI tables, the
 *      LAPIC, I/O APIC, HPET, ECAM and the 32-bit PCI window, as the boot
 *      tables had them reachable (their cacheability now from PAT, not
 *      only from the firmware's MTRRs);
 *   2. every RAM range, above 4 GiB too: write-back, RW, NX;
 *   3. the image: text RX, rodata R+NX, data and bss RW+NX;
 *   4. the null page and the boot stack's guard page unmapped.
 * 2 MiB pages where alignment allows, 1 GiB pages where the CPU has them.
 * Devices above 4 GiB (64-bit BARs) are mapped when a driver asks
 * (arch_map_device). CR0.WP (entry.S) makes read-only pages read-only for
 * ring 0 too; EFER.NXE (entry.S) makes NX mean something.
 */
#include <errno.h>

#include "pte.h"
#include "rt.h"
#include "x86.h"

#define LOW_4G          (4ull << 30)
#define FLUSH_ALL_PAGES 32 /* beyond this many pages a CR3 reload is cheaper than INVLPGs */
#define EFER_NXE        (1ull << 11)
#define CPUID_EXT_NX    (1u << 20) /* CPUID 80000001H:EDX */
#define CPUID_EXT_1G    (1u << 26)

uint64_t x86_pte_nx;
bool x86_pte_1g;
static bool mmu_live; /* CR3 holds our tables */

static void detect_features(void)
{
	uint32_t r[4];
	cpuid(0x80000000, 0, r);
	if (r[0] < 0x80000001)
		return;
	cpuid(0x80000001, 0, r);
	if ((r[3] & CPUID_EXT_NX) && (rdmsr(MSR_EFER) & EFER_NXE))
		x86_pte_nx = PTE_NX;
	x86_pte_1g = r[3] & CPUID_EXT_1G;
}

static int map_ram(const struct boot_info *bi)
{
	static struct mem_range ram[PMM_MAX_RANGES];
	unsigned n = pmm_ram_ranges(bi, ARCH_VM_BASE, ram);
	for (unsigned i = 0; i < n; i++) {
		int err = pt_set(ram[i].base, ram[i].base, ram[i].size,
		                 ARCH_PROT_READ | ARCH_PROT_WRITE, PT_LARGE | PT_REPLACE);
		if (err)
			return err;
	}
	return 0;
}

static int map_section(const char *start, const char *end, unsigned prot)
{
	uintptr_t s = (uintptr_t)start, e = (uintptr_t)end;
	return pt_set(s, s, e - s, prot, PT_REPLACE);
}

/* Text RX, rodata R, everything after it (data, bss, boot stack) RW; link.ld aligns them. */
static int map_image(void)
{
	int err = map_section(__text_start, __text_end, ARCH_PROT_READ | ARCH_PROT_EXEC);
	if (!err)
		err = map_section(__rodata_start, __rodata_end, ARCH_PROT_READ);
	if (!err)
		err = map_section(__rodata_end, __image_end, ARCH_PROT_READ | ARCH_PROT_WRITE);
	return err;
}

static int unmap_page(uintptr_t va)
{
	return pt_set(va, 0, PAGE_SIZE, 0, PT_CLEAR | PT_REPLACE);
}

int arch_mmu_init(const struct boot_info *bi)
{
	detect_features();
	int err = pt_init();
	if (!err)
		err = pt_set(0, 0, LOW_4G, ARCH_PROT_READ | ARCH_PROT_WRITE | ARCH_PROT_DEVICE,
		             PT_LARGE | PT_REPLACE);
	if (!err)
		err = map_ram(bi);
	if (!err)
		err = map_image();
	if (!err)
		err = unmap_page(0);
	if (!err)
		err = unmap_page((uintptr_t)boot_stack_bottom - PAGE_SIZE);
	if (err)
		return err;
	/* The root came from the first free pages, below 4 GiB: the AP trampoline can load it. */
	__asm__ volatile("mov %0, %%cr3" : : "r"(pt_root_pa()) : "memory");
	mmu_live = true;
	return 0;
}

uintptr_t arch_map_device(uint64_t pa, uint64_t size)
{
	uint64_t start = pa & ~(PAGE_SIZE - 1), end = pa + size;
	if (size == 0 || end < pa || start < PAGE_SIZE || end > ARCH_VM_BASE)
		return 0;
	if (!mmu_live) /* the boot tables: the low 4 GiB only */
		return end <= LOW_4G ? (uintptr_t)pa : 0;
	end = (end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	return pt_map_device(start, end) == 0 ? (uintptr_t)pa : 0;
}

void arch_tlb_flush_local(uintptr_t va, size_t size)
{
	if (size / PAGE_SIZE > FLUSH_ALL_PAGES) {
		/* MOV to CR3 flushes every non-global translation (SDM 4.10.4.1); none are global.
		 */
		__asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" : : : "rax", "memory");
		return;
	}
	for (uintptr_t p = va & ~(PAGE_SIZE - 1); p < va + size; p += PAGE_SIZE)
		__asm__ volatile("invlpg (%0)" : : "r"(p) : "memory");
}

bool arch_tlb_flush_broadcast(uintptr_t va, size_t size)
{
	(void)va, (void)size;
	return false; /* x86 has no broadcast invalidation: rt/tlb.c sends IPIs */
}

/* Instruction fetch snoops the data cache on x86 (SDM vol. 3A 11.6); nothing to do. */
void arch_sync_icache(uintptr_t va, size_t size)
{
	(void)va, (void)size;
}
