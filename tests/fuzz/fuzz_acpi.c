/*
 * libFuzzer target for arch/x86_64/acpi.c and mptable.c. The input is
 * physical memory from address 0 up, after a 5-byte prefix: 4 bytes say
 * where the RSDP is, and with the low bit of the fifth set the harness first
 * repairs the checksums of the RSDP, the root table and every table the root
 * lists (as a valid firmware would have them), so the fuzzer reaches the
 * MADT/MCFG/FADT parsers instead of stopping at a checksum; with it clear,
 * the damage stays and the rejection paths run. The same memory is then
 * read as MP tables, the floating pointer at that same address (repaired
 * likewise, signatures included, in the same mode).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "acpi_reg.h"

static uint8_t *mem;
static size_t mem_size;

static const void *fuzz_map(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	if (phys >= mem_size || len > mem_size - phys)
		return NULL;
	return mem + phys;
}

static uint32_t rd32(uint64_t at)
{
	uint32_t v = 0;
	if (at < mem_size && mem_size - at >= 4)
		memcpy(&v, mem + at, 4);
	return v;
}

static uint64_t rd64(uint64_t at)
{
	return rd32(at) | (uint64_t)rd32(at + 4) << 32;
}

static void fix_sum(uint64_t at, uint64_t len, uint64_t sum_at)
{
	if (at >= mem_size || len > mem_size - at || sum_at >= at + len)
		return;
	uint8_t s = 0;
	mem[sum_at] = 0;
	for (uint64_t i = 0; i < len; i++)
		s += mem[at + i];
	mem[sum_at] = (uint8_t)-s;
}

static void fix_table(uint64_t at)
{
	fix_sum(at, rd32(at + SDT_OFF_LENGTH), at + 9);
}

static void fix_all(uint64_t rsdp)
{
	fix_sum(rsdp, RSDP_V1_LENGTH, rsdp + 8);
	fix_sum(rsdp, rd32(rsdp + RSDP_OFF_LENGTH), rsdp + 32);
	uint64_t roots[2] = {rd32(rsdp + RSDP_OFF_RSDT), rd64(rsdp + RSDP_OFF_XSDT)};
	for (int r = 0; r < 2; r++) {
		uint64_t root = roots[r];
		uint32_t len = rd32(root + SDT_OFF_LENGTH);
		unsigned esize = r ? 8 : 4;
		for (uint32_t off = SDT_HEADER_LENGTH; off + esize <= len && off < 4096;
		     off += esize)
			fix_table(esize == 8 ? rd64(root + off) : rd32(root + off));
		fix_table(root);
	}
}

static void put(uint64_t at, const void *v, size_t n)
{
	if (at < mem_size && mem_size - at >= n)
		memcpy(mem + at, v, n);
}

/*
 * MP spec 4.1/4.2: signatures, no default configuration, then the floating
 * pointer's checksum and its table's, so the entry walk gets the inputs.
 */
static void fix_mp(uint64_t floating)
{
	uint64_t table = rd32(floating + 4);
	put(floating, "_MP_", 4);
	put(floating + 11, "", 1);
	put(table, "PCMP", 4);
	fix_sum(floating, 16, floating + 10);
	fix_sum(table, rd32(table + 4) & 0xffff, table + 7);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 5)
		return 0;
	uint32_t rsdp;
	memcpy(&rsdp, data, 4);
	bool repair = data[4] & 1;
	mem_size = size - 5;
	mem = malloc(mem_size ? mem_size : 1);
	if (!mem)
		return 0;
	memcpy(mem, data + 5, mem_size);
	if (repair)
		fix_all(rsdp);
	struct acpi_mem m = {.map = fuzz_map};
	struct acpi_info info;
	if (acpi_parse(&m, rsdp, &info) == 0) {
		/* What the rest of noos relies on, whatever the tables said. */
		if (info.cpu_count > ARCH_MAX_CPUS || info.ioapic_count > ACPI_MAX_IOAPICS ||
		    info.iso_count > ACPI_MAX_OVERRIDES || info.ecam_count > ACPI_MAX_ECAM)
			abort();
		for (unsigned i = 0; i < info.iso_count; i++)
			if (info.iso[i].isa_irq >= 16)
				abort();
	}
	uint64_t found;
	acpi_find_rsdp(&m, &found);
	/* The same memory as MP tables, the floating pointer where the RSDP was said to be. */
	if (repair)
		fix_mp(rsdp);
	memset(&info, 0, sizeof(info));
	if (mptable_parse_at(&m, rsdp, &info) == 0 &&
	    (info.cpu_count > ARCH_MAX_CPUS || info.ioapic_count > ACPI_MAX_IOAPICS ||
	     info.iso_count > ACPI_MAX_OVERRIDES))
		abort();
	free(mem);
	return 0;
}
