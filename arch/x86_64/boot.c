/*
 * x86_64 boot information: translate the PVH start info or the multiboot2
 * information structure into struct boot_info (the parsing is bootinfo.c),
 * then hand over to rt_boot().
 */
#include "arch.h"
#include "bootinfo.h"
#include "rt.h"
#include "x86.h"

#define BOOT_PVH        1
#define BOOT_MULTIBOOT2 2

/* Only the low 4 GiB are mapped while booting; boot data beyond it is ignored. */
#define BOOT_MAPPED_LIMIT (4ull << 30)

static struct boot_info boot_info;

uint64_t arch_mapped_limit(void)
{
	return BOOT_MAPPED_LIMIT; /* entry.S maps the first 4 GiB with 2 MiB pages */
}

static bool boot_ptr_ok(uint64_t paddr, uint64_t len)
{
	return paddr != 0 && paddr < BOOT_MAPPED_LIMIT && len <= BOOT_MAPPED_LIMIT - paddr;
}

static void reserve(uint64_t base, uint64_t size)
{
	boot_info_add_range(boot_info.reserved, &boot_info.reserved_count, base, size);
}

/* The boot parsers (bootinfo.c) read the identity-mapped low 4 GiB. */
static const void *boot_map(void *ctx, uint64_t paddr, uint64_t len)
{
	(void)ctx;
	return boot_ptr_ok(paddr, len) ? (const void *)(uintptr_t)paddr : NULL;
}

void arch_boot(uint32_t protocol, uint32_t info) __attribute__((noreturn));
void arch_boot(uint32_t protocol, uint32_t info)
{
	boot_info.cmdline = "";
	arch_console_init(&boot_info);
	const struct boot_mem mem = {.map = boot_map};
	unsigned bad = protocol == BOOT_PVH ? bootinfo_parse_pvh(&mem, info, &boot_info)
	                                    : bootinfo_parse_multiboot2(&mem, info, &boot_info);
	if (bad)
		printf("noos: %s boot information: %u malformed parts ignored\n",
		       boot_info.protocol, bad);
	reserve((uintptr_t)__image_start, (uintptr_t)__image_end - (uintptr_t)__image_start);
	reserve(0, 4096);            /* real-mode IVT/BDA page; also keeps the null page out */
	platform_save_bda();         /* the BIOS data area's EBDA pointer, for the ACPI/MP scans */
	x86_smp_reserve(&boot_info); /* the AP start-up page below 1 MiB (smp.c) */
	arch_trap_init();
	platform_init(&boot_info); /* ACPI: the PM timer's port, before calibrate_begin needs it */
	calibrate_begin();         /* the TSC's calibration window spans the rest of boot */
	rt_boot(&boot_info);
}
