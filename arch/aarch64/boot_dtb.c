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
#include "fdt_read.h"

/*
 * Every entry of node's reg into ranges; a malformed reg is counted and
 * skipped. The caller knows the parent, from the walk that found node:
 * libfdt's fdt_parent_offset would walk the tree from the root twice.
 */
static void add_regs(const void *fdt, int node, int parent, struct mem_range *ranges,
                     unsigned *count)
{
	for (int i = 0;; i++) {
		uint64_t base, size;
		int err = dtb_reg_parent(fdt, node, parent, i, &base, &size);
		if (err == -ENOENT)
			return;
		if (err) {
			dtb_errors++;
			return;
		}
		boot_info_add_range(ranges, count, base, size);
	}
}

/* A memory node (DT spec 3.4): device_type = "memory". */
static bool is_memory(const void *fdt, int node)
{
	int len;
	const char *type = fdtr_getprop(fdt, node, "device_type", &len);
	return type && len == sizeof("memory") && memcmp(type, "memory", sizeof("memory")) == 0;
}

/* The memory reservation block (DT spec 5.3). */
static void parse_rsvmap(const void *fdt, struct boot_info *bi)
{
	int count = fdt_num_mem_rsv(fdt);
	for (int i = 0; i < count; i++) {
		uint64_t base, size;
		if (fdt_get_mem_rsv(fdt, i, &base, &size) == 0)
			boot_info_add_range(bi->reserved, &bi->reserved_count, base, size);
		else
			dtb_errors++;
	}
}

/* /reserved-memory's static regions (DT spec 3.5). */
static void parse_reserved_memory(const void *fdt, int parent, struct boot_info *bi)
{
	int node;
	/* Regions with only "size" are for the OS to place: nothing is fixed there yet. */
	fdtr_for_each_subnode(node, fdt, parent)
	{
		if (fdtr_node_enabled(fdt, node))
			add_regs(fdt, node, parent, bi->reserved, &bi->reserved_count);
	}
}

/* Seeds from the VMM: mixed into the stack guard's entropy, then wiped so nothing reuses them. */
static void take_seed(void *fdt, int chosen, const char *name)
{
	int len;
	void *seed =
	    (void *)fdtr_getprop(fdt, chosen, name, &len); /* fdt_getprop_w: the blob is ours */
	if (seed && len > 0) {
		cpu_mix_seed(seed, (size_t)len);
		memset(seed, 0, (size_t)len);
	}
}

/* /chosen (DT spec 3.6): bootargs is the command line. */
static void parse_chosen(void *fdt, int chosen, struct boot_info *bi)
{
	int len;
	const char *args = fdtr_getprop(fdt, chosen, "bootargs", &len);
	if (args && len > 0 && strnlen(args, (size_t)len) < (size_t)len)
		bi->cmdline = args;
	else if (args)
		dtb_errors++; /* not NUL-terminated within its length */
	take_seed(fdt, chosen, "rng-seed");
	take_seed(fdt, chosen, "kaslr-seed");
}

/* Whether a node name is base, with or without a unit address (DT spec 2.2.1), as a path matches.
 */
static bool name_is(const char *name, const char *base)
{
	size_t n = strlen(base);
	return name && strncmp(name, base, n) == 0 && (name[n] == '\0' || name[n] == '@');
}

/*
 * /chosen's command line and seeds, the memory nodes, the reservations: all
 * children of the root (DT spec 3.4-3.6; Linux too looks for memory nodes
 * there only), so one pass over the root's children finds them. Under TCG
 * each libfdt path lookup or search by property walks the whole tree, about
 * 1 ms on QEMU virt's; three of them were 12% of the boot's guest work.
 */
void dtb_boot_info(void *fdt, struct boot_info *bi)
{
	bool chosen = false, reserved = false;
	int node;
	parse_rsvmap(fdt, bi);
	fdtr_for_each_subnode(node, fdt, 0)
	{
		const char *name = fdtr_get_name(fdt, node, NULL);
		if (!chosen && name_is(name, "chosen")) { /* the first, as a path lookup finds */
			chosen = true;
			parse_chosen(fdt, node, bi);
		} else if (!reserved && name_is(name, "reserved-memory")) {
			reserved = true;
			parse_reserved_memory(fdt, node, bi);
		} else if (is_memory(fdt, node) && fdtr_node_enabled(fdt, node)) {
			add_regs(fdt, node, 0, bi->ram, &bi->ram_count);
		}
	}
}
