/*
 * The x86_64 boot information parsers: the PVH start info (with its memory
 * map and command line) and the multiboot2 information tags, into struct
 * boot_info. Both come from the VMM or the boot loader, so every length is
 * checked before it is read and a malformed part is counted and skipped.
 *
 * bootinfo.c is portable C with no hardware access: it reads physical memory
 * only through struct boot_mem, so the same code runs in the guest (the
 * identity map of the low 4 GiB, boot.c) and on the host
 * (tests/fuzz/fuzz_bootinfo.c, tests/host/test_bootinfo.c).
 */
#ifndef NOOS_BOOTINFO_H
#define NOOS_BOOTINFO_H

#include <stdint.h>

#include "arch.h"

struct boot_mem {
	/* [phys, phys + len) as readable memory, or NULL when it may not be read. */
	const void *(*map)(void *ctx, uint64_t phys, uint64_t len);
	void *ctx;
};

/* Longest PVH command line looked for; one without a NUL by then is malformed. */
#define BOOTINFO_CMDLINE_MAX 65536

/*
 * Fill bi (protocol, cmdline, ram, reserved for the information itself,
 * acpi_rsdp) from the structure at physical address info. Returns how many
 * malformed parts were ignored (0 for well-formed input).
 */
unsigned bootinfo_parse_pvh(const struct boot_mem *m, uint64_t info, struct boot_info *bi);
unsigned bootinfo_parse_multiboot2(const struct boot_mem *m, uint64_t info, struct boot_info *bi);

#endif
