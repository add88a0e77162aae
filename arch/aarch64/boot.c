/*
 * aarch64 boot information: the arm64 Linux boot protocol
 * (Documentation/arm64/booting.rst) hands over a flattened device tree;
 * translate it into struct boot_info (the tree's parts are read by
 * boot_dtb.c), then hand over to rt_boot().
 */
#include <libfdt.h>

#include "aarch64.h"
#include "arch.h"
#include "rt.h"

static struct boot_info boot_info;

uint64_t arch_mapped_limit(void)
{
	return BOOT_NORMAL_END; /* entry.S maps RAM as Normal memory up to 256 GiB */
}

static void reserve(uint64_t base, uint64_t size)
{
	boot_info_add_range(boot_info.reserved, &boot_info.reserved_count, base, size);
}

/* A DTB we cannot use is bad input, not a bug: say so (console.c falls back to semihosting). */
__attribute__((noreturn)) static void boot_fail(uint64_t dtb, const char *why)
{
	printf("noos: cannot boot: bad device tree at %#lx: %s\n", (unsigned long)dtb, why);
	arch_exit(PANIC_EXIT_STATUS);
}

void arch_boot(uint64_t dtb) __attribute__((noreturn));
void arch_boot(uint64_t dtb)
{
	void *fdt = (void *)(uintptr_t)dtb;
	const char *why;
	boot_info.protocol = "linux-arm64";
	boot_info.cmdline = "";
	bool usable = dtb_validate(fdt, &why) == 0;
	boot_info.dtb = usable ? fdt : NULL;
	arch_console_init(&boot_info);
	if (!usable)
		boot_fail(dtb, why);
	psci_init(fdt);
	dtb_boot_info(fdt, &boot_info);
	reserve(dtb, fdt_totalsize(fdt));
	reserve((uintptr_t)__image_start, (uintptr_t)__image_end - (uintptr_t)__image_start);
	if (dtb_errors)
		printf("noos: device tree: %u malformed entries ignored\n", dtb_errors);
	if (boot_info.ram_count == 0)
		printf("noos: device tree: no usable /memory node\n");
	arch_trap_init();
	rt_boot(&boot_info);
}
