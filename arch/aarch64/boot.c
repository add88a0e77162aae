/*
 * aarch64 boot information: the arm64 Linux boot protocol
 * (Documentation/arm64/booting.rst) hands over a flattened device tree;
 * translate it into struct boot_info, then hand over to rt_boot().
 */
#include <libfdt.h>
#include <string.h>

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
static void parse_memory(const void *fdt)
{
	int node = -1;
	while ((node = fdt_node_offset_by_prop_value(fdt, node, "device_type", "memory",
	                                             sizeof("memory"))) >= 0)
		if (dtb_node_enabled(fdt, node))
			add_regs(fdt, node, boot_info.ram, &boot_info.ram_count);
}

/* The memory reservation block (DT spec 5.3) and /reserved-memory's static regions (3.5). */
static void parse_reserved(const void *fdt)
{
	int count = fdt_num_mem_rsv(fdt);
	for (int i = 0; i < count; i++) {
		uint64_t base, size;
		if (fdt_get_mem_rsv(fdt, i, &base, &size) == 0)
			reserve(base, size);
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
			add_regs(fdt, node, boot_info.reserved, &boot_info.reserved_count);
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
static void parse_chosen(void *fdt)
{
	int chosen = fdt_path_offset(fdt, "/chosen"), len;
	if (chosen < 0)
		return;
	const char *args = fdt_getprop(fdt, chosen, "bootargs", &len);
	if (args && len > 0 && strnlen(args, (size_t)len) < (size_t)len)
		boot_info.cmdline = args;
	else if (args)
		dtb_errors++; /* not NUL-terminated within its length */
	take_seed(fdt, chosen, "rng-seed");
	take_seed(fdt, chosen, "kaslr-seed");
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
	parse_chosen(fdt);
	parse_memory(fdt);
	parse_reserved(fdt);
	reserve(dtb, fdt_totalsize(fdt));
	reserve((uintptr_t)__image_start, (uintptr_t)__image_end - (uintptr_t)__image_start);
	if (dtb_errors)
		printf("noos: device tree: %u malformed entries ignored\n", dtb_errors);
	if (boot_info.ram_count == 0)
		printf("noos: device tree: no usable /memory node\n");
	arch_trap_init();
	rt_boot(&boot_info);
}
