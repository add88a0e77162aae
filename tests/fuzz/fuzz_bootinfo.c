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

static uint8_t *mem;
static size_t mem_size;

static const void *fuzz_map(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	if (phys == 0 || phys >= mem_size || len > mem_size - phys)
		return NULL;
	return mem + phys;
}

static int in_memory(const char *p)
{
	return p >= (const char *)mem && p < (const char *)mem + mem_size;
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
	     !memchr(bi->cmdline, 0, mem_size - (size_t)(bi->cmdline - (const char *)mem))))
		abort();
	/* multiboot2's RSDP is a copy inside the information: at least an ACPI 1.0 RSDP of it. */
	if (mb2 && bi->acpi_rsdp && !fuzz_map(NULL, bi->acpi_rsdp, 20))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	uint32_t info;
	memcpy(&info, data, 4);
	mem_size = size - 4;
	mem = malloc(mem_size ? mem_size : 1);
	if (!mem)
		return 0;
	memcpy(mem, data + 4, mem_size);
	const struct boot_mem m = {.map = fuzz_map};
	static const char empty[] = "";
	struct boot_info bi = {.cmdline = empty};
	bootinfo_parse_pvh(&m, info, &bi);
	check(&bi, empty, 0);
	memset(&bi, 0, sizeof(bi));
	bi.cmdline = empty;
	bootinfo_parse_multiboot2(&m, info, &bi);
	check(&bi, empty, 1);
	free(mem);
	return 0;
}
