/*
 * libFuzzer target for aarch64's boot-time device tree readers, built for
 * the host as they are: the blob checks the real boot runs first
 * (dtb_check_blob, the part of dtb_validate that does not look at
 * addresses), then what arch_boot reads (arch/aarch64/boot_dtb.c: /chosen's
 * bootargs and seeds, memory nodes, the reservation block, /reserved-memory)
 * and what the interrupt set-up reads (gic_dtb.c: the GIC, timer and /cpus
 * scan; each GIC's reg entries and its ITS or v2m frames as gicv2.c/gicv3.c
 * read them; triggers through interrupts, interrupts-extended and
 * interrupt-map; the timer's PPIs; ITS DeviceIDs through msi-map), and the
 * PL011/PL031 reg that console.c and rtc.c take. Seeds: QEMU virt DTBs
 * (dtb_seeds/).
 */
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "aarch64.h"
#include "fdt_read.h"

/* What the code under test links against in the image. */
char __image_start[1], __image_end[1];
const struct gic_ops gicv2_ops, gicv3_ops;

static volatile uint8_t seed_sink;
void cpu_mix_seed(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) /* every byte read, so ASan checks the length */
		seed_sink ^= p[i];
}

static const char *blob_start, *blob_end;

static void check_boot_info(const struct boot_info *bi, const char *empty)
{
	if (bi->ram_count > BOOT_MAX_RANGES || bi->reserved_count > BOOT_MAX_RANGES)
		abort();
	/* bootargs: "" or a string that ends inside the blob. */
	if (bi->cmdline != empty && (bi->cmdline < blob_start || bi->cmdline >= blob_end ||
	                             !memchr(bi->cmdline, 0, (size_t)(blob_end - bi->cmdline))))
		abort();
}

/* Every reg entry of node (under parent), as the drivers read theirs. */
static void regs(const void *fdt, int node, int parent)
{
	uint64_t base, size;
	for (int i = 0; i < 8; i++)
		if (dtb_reg_parent(fdt, node, parent, i, &base, &size) == 0 &&
		    (base + size < base || /* wraps, even after translation through ranges */
		     (dtb_range_device_mapped(base, size) && size == 0)))
			abort();
}

static void by_compatible(const void *fdt, const char *compatible)
{
	uint64_t base, size;
	for (int node = fdt_node_offset_by_compatible(fdt, -1, compatible); node >= 0;
	     node = fdt_node_offset_by_compatible(fdt, node, compatible))
		if (fdtr_node_enabled(fdt, node))
			(void)dtb_reg(fdt, node, 0, &base, &size);
}

/* The GIC's frames, triggers of lines QEMU's devices use, the timer's PPIs, ITS DeviceIDs. */
static void gic(const void *fdt)
{
	unsigned intid, flags;
	int gic = dtb_nodes.gic, sub;
	regs(fdt, gic, dtb_nodes.gic_parent);
	fdt_for_each_subnode(sub, fdt, gic)
	{
		if (!fdtr_node_enabled(fdt, sub))
			continue;
		regs(fdt, sub, gic);
		uint32_t devid;
		for (uint32_t rid = 0; rid < 0x20; rid += 7)
			(void)gic_dtb_msi_devid(fdt, sub, rid, &devid);
	}
	static const unsigned lines[] = {27, 30, 33, 34, 35, 48, 79, 1019};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		(void)gic_dtb_trigger(fdt, gic, lines[i], &flags);
	for (int i = 0; dtb_nodes.timer >= 0 && i < 5; i++)
		if (gic_dtb_interrupt(fdt, gic, dtb_nodes.timer, i, &intid, &flags) == 0 &&
		    (intid < 16 || intid >= 1020))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < sizeof(struct fdt_header))
		return 0;
	char *fdt = malloc(size); /* 16-byte aligned, as the DTB is 8-byte aligned at boot */
	if (!fdt)
		return 0;
	memcpy(fdt, data, size);
	blob_start = fdt;
	blob_end = fdt + size;
	const char *why;
	if (dtb_check_blob(fdt, size, &why) == 0) {
		static const char empty[] = "";
		struct boot_info bi = {.cmdline = empty};
		dtb_boot_info(fdt, &bi);
		check_boot_info(&bi, empty);
		dtb_nodes = (struct dtb_nodes){-1, -1, NULL, -1, -1};
		gic_dtb_scan(fdt);
		if (dtb_nodes.gic >= 0)
			gic(fdt);
		by_compatible(fdt, "arm,pl011");
		by_compatible(fdt, "arm,pl031");
	} else if (!why) {
		abort(); /* a rejection always says why */
	}
	free(fdt);
	return 0;
}
