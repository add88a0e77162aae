/*
 * What the boot needs from a validated device tree (dtb_validate):
 * RAM, reserved regions and the command line, into struct boot_info. The
 * tree comes from the VMM: a malformed part is counted in dtb_errors and
 * skipped. Portable over libfdt, so tests/fuzz/fuzz_dtb_boot.c runs it as it
 * is on the host.
 */
#include <libfdt.h>
#include <string.h>

#include "aarch64.h"
#include "arch.h"

/* Every entry of node's reg into ranges; a malformed reg is counted and skipped. */
static void add_regs(const void *fdt, int node, struct mem_range *ranges, unsigned *count)
{
	for (int i = 0;; i++) {
		uint64_t base, size;
		int err = dtb_reg(fdt, node, i, &base, &size);
		if (err == -ENOENT)
			return;
		if (err) {
			dtb_errors++;
			return;
		}
		boot_info_add_range(ranges, count, base, size);
	}
}

/* RAM: every node with device_type = "memory" (DT spec 3.4), each with one or more reg entries. */
static void parse_memory(const void *fdt, struct boot_info *bi)
{
	int node = -1;
	while ((node = fdt_node_offset_by_prop_value(fdt, node, "device_type", "memory",
	                                             sizeof("memory"))) >= 0)
		if (dtb_node_enabled(fdt, node))
			add_regs(fdt, node, bi->ram, &bi->ram_count);
}

/* The memory reservation block (DT spec 5.3) and /reserved-memory's static regions (3.5). */
static void parse_reserved(const void *fdt, struct boot_info *bi)
{
	int count = fdt_num_mem_rsv(fdt);
	for (int i = 0; i < count; i++) {
		uint64_t base, size;
		if (fdt_get_mem_rsv(fdt, i, &base, &size) == 0)
			boot_info_add_range(bi->reserved, &bi->reserved_count, base, size);
		else
			dtb_errors++;
	}
	int parent = fdt_path_offset(fdt, "/reserved-memory"), node;
	if (parent < 0)
		return;
	/* Regions with only "size" are for the OS to place: nothing is fixed there yet. */
	fdt_for_each_subnode(node, fdt, parent)
	{
		if (dtb_node_enabled(fdt, node))
			add_regs(fdt, node, bi->reserved, &bi->reserved_count);
	}
}

/* Seeds from the VMM: mixed into the stack guard's entropy, then wiped so nothing reuses them. */
static void take_seed(void *fdt, int chosen, const char *name)
{
	int len;
	void *seed = fdt_getprop_w(fdt, chosen, name, &len);
	if (seed && len > 0) {
		cpu_mix_seed(seed, (size_t)len);
		memset(seed, 0, (size_t)len);
	}
}

/* /chosen (DT spec 3.6): bootargs is the command line. */
static void parse_chosen(void *fdt, struct boot_info *bi)
{
	int chosen = fdt_path_offset(fdt, "/chosen"), len;
	if (chosen < 0)
		return;
	const char *args = fdt_getprop(fdt, chosen, "bootargs", &len);
	if (args && len > 0 && strnlen(args, (size_t)len) < (size_t)len)
		bi->cmdline = args;
	else if (args)
		dtb_errors++; /* not NUL-terminated within its length */
	take_seed(fdt, chosen, "rng-seed");
	take_seed(fdt, chosen, "kaslr-seed");
}

/* /chosen's command line and seeds, the memory nodes, the reservations. */
void dtb_boot_info(void *fdt, struct boot_info *bi)
{
	parse_chosen(fdt, bi);
	parse_memory(fdt, bi);
	parse_reserved(fdt, bi);
}
