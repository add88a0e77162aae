/*
 * aarch64 kernel page tables (arch.h, "Virtual memory"): the identity map
 * built with rt/pagetable.c and loaded into TTBR0_EL1 (mmu_switch in
 * entry.S, for every CPU), device mappings on demand, TLB and instruction
 * cache maintenance (ARM ARM D8 and D7.5).
 *
 * The identity map, coarse to fine (later steps overwrite earlier ones):
 *   1. the boot map's device windows, Device-nGnRE, RW, never executable:
 *      [2 MiB, 1 GiB) and [256 GiB, 1 TiB) (QEMU virt: GIC, UART, RTC,
 *      virtio-mmio, PCIe ECAM and windows; aarch64.h). [0, 2 MiB), flash
 *      on virt, stays unmapped so that null pointers with small offsets fault;
 *   2. every RAM range from the DTB: Normal write-back, RW, never executable;
 *   3. the image: text RX, rodata R, data and bss RW;
 *   4. the boot stack's guard page unmapped.
 * 2 MiB and 1 GiB blocks wherever alignment allows. Anything else a driver
 * reaches is mapped when it asks (arch_map_device).
 */
#include <errno.h>

#include "aarch64.h"
#include "pte.h"
#include "rt.h"

#define NULL_WINDOW     (2ull << 20)
#define FLUSH_ALL_PAGES 32 /* beyond this many pages one TLBI VMALLE1 is cheaper */

void mmu_switch(uint64_t ttbr0); /* entry.S */
uint64_t kernel_ttbr0;           /* read by secondary_entry (entry.S); 0 = boot tables */

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

static int map_devices(void)
{
	const unsigned dev = ARCH_PROT_READ | ARCH_PROT_WRITE | ARCH_PROT_DEVICE;
	/* One 1 GiB block, then the null window cut out of it: fewer entries to write. */
	int err = pt_set(0, 0, BOOT_DEVICE_LOW_END, dev, PT_LARGE | PT_REPLACE);
	if (!err)
		err = pt_set(0, 0, NULL_WINDOW, 0, PT_LARGE | PT_CLEAR | PT_REPLACE);
	if (!err)
		err = pt_set(BOOT_NORMAL_END, BOOT_NORMAL_END,
		             BOOT_DEVICE_HIGH_END - BOOT_NORMAL_END, dev, PT_LARGE | PT_REPLACE);
	return err;
}

static int map_section(const char *start, const char *end, unsigned prot)
{
	uintptr_t s = (uintptr_t)start, e = (uintptr_t)end;
	return pt_set(s, s, e - s, prot, PT_REPLACE);
}

/* Text RX, rodata R, everything after it (data, bss, stacks) RW; link.ld aligns them. */
static int map_image(void)
{
	int err = map_section(__text_start, __text_end, ARCH_PROT_READ | ARCH_PROT_EXEC);
	if (!err)
		err = map_section(__rodata_start, __rodata_end, ARCH_PROT_READ);
	if (!err)
		err = map_section(__rodata_end, __image_end, ARCH_PROT_READ | ARCH_PROT_WRITE);
	return err;
}

int arch_mmu_init(const struct boot_info *bi)
{
	int err = pt_init();
	if (!err)
		err = map_devices();
	if (!err)
		err = map_ram(bi);
	if (!err)
		err = map_image();
	if (!err)
		err = pt_set((uintptr_t)boot_stack_bottom - PAGE_SIZE, 0, PAGE_SIZE, 0,
		             PT_CLEAR | PT_REPLACE);
	if (err)
		return err;
	__asm__ volatile("dsb ishst" : : : "memory"); /* the tables, before any walk */
	mmu_switch(pt_root_pa());
	__atomic_store_n(&kernel_ttbr0, pt_root_pa(), __ATOMIC_RELEASE);
	return 0;
}

/* What entry.S's boot map reaches as device memory (before arch_mmu_init). */
static bool boot_device_window(uint64_t pa, uint64_t end)
{
	return (end <= BOOT_DEVICE_LOW_END) ||
	       (pa >= BOOT_NORMAL_END && end <= BOOT_DEVICE_HIGH_END);
}

uintptr_t arch_map_device(uint64_t pa, uint64_t size)
{
	uint64_t start = pa & ~(PAGE_SIZE - 1), end = pa + size;
	if (size == 0 || end < pa || start < PAGE_SIZE || end > ARCH_VM_BASE)
		return 0;
	if (!__atomic_load_n(&kernel_ttbr0, __ATOMIC_ACQUIRE))
		return boot_device_window(pa, end) ? (uintptr_t)pa : 0;
	end = (end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	return pt_map_device(start, end) == 0 ? (uintptr_t)pa : 0;
}

/*
 * TLBI VAE1 (every level of the walk, so freed tables are forgotten too)
 * takes VA[55:12] in bits [43:0] and the ASID, 0 here, above (ARM ARM C5.5).
 */
void arch_tlb_flush_local(uintptr_t va, size_t size)
{
	__asm__ volatile("dsb nshst" : : : "memory");
	if (size / PAGE_SIZE > FLUSH_ALL_PAGES)
		__asm__ volatile("tlbi vmalle1" : : : "memory");
	else
		for (uintptr_t p = va & ~(PAGE_SIZE - 1); p < va + size; p += PAGE_SIZE)
			__asm__ volatile("tlbi vae1, %0" : : "r"(p >> PAGE_SHIFT) : "memory");
	__asm__ volatile("dsb nsh\n\tisb" : : : "memory");
}

/* The Inner Shareable forms reach every CPU in the system (ARM ARM D8.13.4). */
bool arch_tlb_flush_broadcast(uintptr_t va, size_t size)
{
	__asm__ volatile("dsb ishst" : : : "memory");
	if (size / PAGE_SIZE > FLUSH_ALL_PAGES)
		__asm__ volatile("tlbi vmalle1is" : : : "memory");
	else
		for (uintptr_t p = va & ~(PAGE_SIZE - 1); p < va + size; p += PAGE_SIZE)
			__asm__ volatile("tlbi vae1is, %0" : : "r"(p >> PAGE_SHIFT) : "memory");
	__asm__ volatile("dsb ish\n\tisb" : : : "memory");
	return true;
}

/*
 * Clean the data cache to the point of unification, then invalidate the
 * instruction cache, by VA over the range (ARM ARM D7.5.9.2, "Ordering and
 * completion of data and instruction cache instructions").
 */
void arch_sync_icache(uintptr_t va, size_t size)
{
	uint64_t ctr = read_sysreg(ctr_el0);
	uintptr_t dline = 4ul << ((ctr >> 16) & 0xf), iline = 4ul << (ctr & 0xf);
	for (uintptr_t p = va & ~(dline - 1); p < va + size; p += dline)
		__asm__ volatile("dc cvau, %0" : : "r"(p) : "memory");
	__asm__ volatile("dsb ish" : : : "memory");
	for (uintptr_t p = va & ~(iline - 1); p < va + size; p += iline)
		__asm__ volatile("ic ivau, %0" : : "r"(p) : "memory");
	__asm__ volatile("dsb ish\n\tisb" : : : "memory");
}
