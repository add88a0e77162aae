/*
 * libFuzzer target for arch/x86_64/bootinfo.c: the PVH start info and the
 * multiboot2 information, both read from the same fuzzed physical memory.
 * The input's first 4 bytes (little-endian) are the structure's physical
 * address; the rest is memory from address 0, in a buffer of exactly that
 * size so AddressSanitizer catches any read past it. Address 0 is not
 * mapped, as in the guest (boot.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bootinfo.h"
#include "flat_mem.h"

static struct flat_mem fm;

static int in_memory(const char *p)
{
	return p >= (const char *)fm.base && p < (const char *)fm.base + fm.size;
}

/* What rt_boot relies on, whatever the VMM wrote. */
static void check(const struct boot_info *bi, const char *empty, int mb2)
{
	if (bi->ram_count > BOOT_MAX_RANGES || bi->reserved_count > BOOT_MAX_RANGES)
		abort();
	for (unsigned i = 0; i < bi->ram_count; i++)
		if (bi->ram[i].size == 0 || bi->ram[i].base + bi->ram[i].size < bi->ram[i].base)
			abort();
	/* A command line is the "" it started as or a terminated string in memory. */
	if (bi->cmdline != empty &&
	    (!in_memory(bi->cmdline) ||
	     !memchr(bi->cmdline, 0, fm.size - (size_t)(bi->cmdline - (const char *)fm.base))))
		abort();
	/* multiboot2's RSDP is a copy inside the information: at least an ACPI 1.0 RSDP of it. */
	if (mb2 && bi->acpi_rsdp && !flat_mem_map(&fm, bi->acpi_rsdp, 20))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint32_t info;
	memcpy(&info, data, 4);
	fm.size = size - 4;
	fm.base = malloc(fm.size ? fm.size : 1);
	if (!fm.base)
		return 0;
	memcpy(fm.base, data + 4, fm.size);
	const struct boot_mem m = {.map = flat_mem_map, .ctx = &fm};
	static const char empty[] = "";
	struct boot_info bi = {.cmdline = empty};
	bootinfo_parse_pvh(&m, info, &bi);
	check(&bi, empty, 0);
	memset(&bi, 0, sizeof(bi));
	bi.cmdline = empty;
	bootinfo_parse_multiboot2(&m, info, &bi);
	check(&bi, empty, 1);
	free(fm.base);
	return 0;
}
