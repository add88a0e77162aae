/*
 * The boot sequence, top to bottom. arch/<arch>/entry.S reaches C in
 * arch_boot(), which brings up the early console, translates the boot
 * protocol into struct boot_info and installs the exception vectors; then
 * this checklist runs once on the boot CPU.
 */
#include <stdlib.h>
#include <string.h>

#include "noos.h"
#include "rt.h"
#include "../mmio/mmio.h"
#include "../pci/pci.h"

int main(int argc, char **argv);

struct cmdline boot_cmdline;

static uint64_t ram_total(const struct boot_info *bi)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < bi->ram_count; i++)
		total += bi->ram[i].size;
	return total;
}

void rt_boot(struct boot_info *bi)
{
	/* 1. Stack protector guard from hardware entropy, before any protected frame returns. */
	ssp_init();

	/* 2. Say who we are (the console is up since arch_boot). */
	printf("noos %s %s (%s), %lu MiB RAM in %u ranges\n", NOOS_VERSION, arch_name(),
	       bi->protocol, (unsigned long)(ram_total(bi) >> 20), bi->ram_count);

	/* 3. Memory: own page tables (W^X), the page allocator over the free RAM, the heap. */
	mem_init(bi);

	/* 4. Interrupts and clocks: controllers (ACPI/DTB), monotonic clock, this CPU's timer. */
	if (arch_irq_init(bi) != 0 || arch_time_init() != 0)
		panic("no usable interrupt controller or clock");

	/*
	 * 5. Threads: this boot context becomes thread "boot" on CPU 0, and the
	 * scheduler takes the timer and IPI hooks (TLB shootdowns included).
	 * Every other CPU comes online into its idle loop and runs threads.
	 */
	sched_init();
	int cpus = arch_smp_start(sched_cpu_entry);
	if (cpus < (int)cpu_present())
		printf("cpus: only %d of %u came online\n", cpus, cpu_present());
	printf("cpus: %d online (%s), %s\n", cpus, arch_irq_describe(), arch_time_describe());
	arch_irq_enable();

	/* 6. The command line becomes argv and the key=value environment. */
	cmdline_parse(bi->cmdline, "noos", &boot_cmdline);
	if (boot_cmdline.truncated)
		printf("noos: command line too long, the excess was dropped\n");

	/* 7. Buses: virtio-mmio windows from the command line and the device tree. */
	mmio_init(bi);
	pci_init(bi); /* PCI: host bridges, functions and BARs, then the drivers */

	/* 8. The application in thread "main"; its return value is the VM's exit status. */
	thread_run_main(main, boot_cmdline.argc, boot_cmdline.argv);
}

void boot_info_add_range(struct mem_range *ranges, unsigned *count, uint64_t base, uint64_t size)
{
	if (size == 0 || *count >= BOOT_MAX_RANGES)
		return;
	ranges[(*count)++] = (struct mem_range){base, size};
}

const char *noos_getenv(const char *key)
{
	return cmdline_lookup(&boot_cmdline, key);
}
