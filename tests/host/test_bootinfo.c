/*
 * arch/x86_64/bootinfo.c: well-formed PVH and multiboot2 information, and the
 * malformed shapes a VMM or boot loader could hand over (each counted, none
 * read past its own bounds). Every structure ends where the test's memory
 * ends, so with AddressSanitizer an over-read is a failure.
 */
#include <stdlib.h>
#include <string.h>

#include "bootinfo.h"
#include "check.h"
#include "flat_mem.h"

#define INFO 0x100

static struct flat_mem fm;
static const struct boot_mem bm = {.map = flat_mem_map, .ctx = &fm};

/* Memory of exactly `size` bytes from 0, zeroed. */
static void mem_new(size_t size)
{
	free(fm.base);
	fm.size = size;
	fm.base = calloc(1, size);
}

static void put32(uint64_t at, uint32_t v)
{
	memcpy(fm.base + at, &v, 4);
}

static void put64(uint64_t at, uint64_t v)
{
	memcpy(fm.base + at, &v, 8);
}

static unsigned parse(int mb2, struct boot_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	bi->cmdline = "";
	return mb2 ? bootinfo_parse_multiboot2(&bm, INFO, bi) : bootinfo_parse_pvh(&bm, INFO, bi);
}

/*
 * Multiboot2 information of one tag (type, size, body) and, if `end`, an end
 * tag; without one, the information and memory end where the tag does.
 */
static void mb2_one(uint32_t type, uint32_t size, const void *body, size_t body_len, int end)
{
	uint32_t padded = (size + 7) & ~7u, total = end ? 8 + padded + 8 : 8 + size;
	mem_new(INFO + total);
	put32(INFO, total);
	put32(INFO + 8, type);
	put32(INFO + 12, size);
	memcpy(fm.base + INFO + 16, body, body_len);
	if (end)
		put64(INFO + 8 + padded, 8ull << 32);
}

static void test_mb2_mmap(void)
{
	struct boot_info bi;
	uint8_t body[8 + 2 * 24] = {24};
	memcpy(body + 8 + 8, &(uint64_t){0x100000}, 8); /* entry 0: base 0, 1 MiB */
	body[8 + 16] = 1;
	memcpy(body + 32, &(uint64_t){0x200000}, 8); /* entry 1: base 2 MiB, 1 MiB */
	memcpy(body + 40, &(uint64_t){0x100000}, 8);
	body[48] = 1;
	mb2_one(6, 8 + sizeof(body), body, sizeof(body), 1);
	CHECK(parse(1, &bi) == 0 && bi.ram_count == 2 && bi.ram[1].base == 0x200000);
	CHECK(strcmp(bi.protocol, "multiboot2") == 0 && bi.reserved_count == 1);
	/* A memory map tag too short for its own entry_size header: nothing read past it. */
	for (uint32_t size = 8; size < 16; size += 4) {
		mb2_one(6, size, body, size - 8, 0);
		CHECK(parse(1, &bi) == 1 && bi.ram_count == 0);
	}
	/* entry_size that is not a multiple of 8, or a partial last entry. */
	body[0] = 28;
	mb2_one(6, 8 + sizeof(body), body, sizeof(body), 1);
	CHECK(parse(1, &bi) == 1 && bi.ram_count == 0);
	body[0] = 24;
	mb2_one(6, 8 + sizeof(body) - 4, body, sizeof(body) - 4, 1);
	CHECK(parse(1, &bi) == 1 && bi.ram_count == 1);
	/* A RAM entry that wraps around the address space. */
	memcpy(body + 8, &(uint64_t){~0ull - 10}, 8);
	mb2_one(6, 8 + sizeof(body), body, sizeof(body), 1);
	CHECK(parse(1, &bi) == 1 && bi.ram_count == 1);
}

static void test_mb2_cmdline_acpi(void)
{
	struct boot_info bi;
	mb2_one(1, 8 + 6, "a b=1", 6, 1);
	CHECK(parse(1, &bi) == 0 && strcmp(bi.cmdline, "a b=1") == 0);
	/* Not terminated inside the tag (the end of memory follows): ignored and counted. */
	mb2_one(1, 8 + 5, "a b=1", 5, 0);
	CHECK(parse(1, &bi) == 1 && strcmp(bi.cmdline, "") == 0);
	mb2_one(1, 8, "", 0, 1);
	CHECK(parse(1, &bi) == 1 && strcmp(bi.cmdline, "") == 0);
	/* RSDP copies: the whole RSDP or nothing. */
	uint8_t rsdp[36] = "RSD PTR ";
	mb2_one(15, 8 + 36, rsdp, 36, 1);
	CHECK(parse(1, &bi) == 0 && bi.acpi_rsdp == INFO + 16);
	mb2_one(15, 8 + 20, rsdp, 20, 1);
	CHECK(parse(1, &bi) == 1 && bi.acpi_rsdp == 0);
	mb2_one(14, 8 + 19, rsdp, 19, 1);
	CHECK(parse(1, &bi) == 1 && bi.acpi_rsdp == 0);
	/* A tag longer than the information, and a total beyond memory. */
	mb2_one(1, 8 + 6, "a b=1", 6, 1);
	put32(INFO + 12, 64);
	CHECK(parse(1, &bi) == 1 && strcmp(bi.cmdline, "") == 0);
	put32(INFO, 4096);
	CHECK(parse(1, &bi) == 1 && bi.reserved_count == 0);
}

/* A PVH start info at INFO: version 1, command line at 0x80 and memmap right after it. */
static void pvh_new(size_t extra, uint32_t entries)
{
	mem_new(INFO + 56 + extra);
	put32(INFO, 0x336ec578);
	put32(INFO + 4, 1);
	put64(INFO + 24, 0x80);
	put64(INFO + 32, 0xf5a40);
	put64(INFO + 40, INFO + 56);
	put32(INFO + 48, entries);
	memcpy(fm.base + 0x80, "x=1", 4);
}

static void test_pvh(void)
{
	struct boot_info bi;
	pvh_new(24, 1);
	put64(INFO + 56 + 8, 4096);
	put32(INFO + 56 + 16, 1);
	CHECK(parse(0, &bi) == 0 && bi.ram_count == 1 && bi.ram[0].size == 4096);
	CHECK(strcmp(bi.cmdline, "x=1") == 0 && bi.acpi_rsdp == 0xf5a40 && bi.reserved_count == 2);
	/* A memory map longer than memory, and a wrapping entry. */
	pvh_new(24, 2);
	CHECK(parse(0, &bi) == 1 && bi.ram_count == 0);
	pvh_new(24, 1);
	put64(INFO + 56, ~0ull);
	put64(INFO + 56 + 8, 2);
	put32(INFO + 56 + 16, 1);
	CHECK(parse(0, &bi) == 1 && bi.ram_count == 0);
	/* A command line that runs to the end of memory without a NUL. */
	pvh_new(0, 0);
	put64(INFO + 24, INFO + 56 - 3);
	memcpy(fm.base + INFO + 53, "abc", 3);
	CHECK(parse(0, &bi) == 1 && strcmp(bi.cmdline, "") == 0 && bi.reserved_count == 1);
	/* Bad magic, and a start info cut short by the end of memory. */
	pvh_new(0, 0);
	put32(INFO, 0);
	CHECK(parse(0, &bi) == 1 && bi.reserved_count == 0);
	fm.size = INFO + 40;
	CHECK(parse(0, &bi) == 1 && bi.reserved_count == 0);
}

int main(void)
{
	test_mb2_mmap();
	test_mb2_cmdline_acpi();
	test_pvh();
	free(fm.base);
	return check_report("bootinfo");
}
