/*
 * The virtio-mmio bus's boot step: collect the windows every boot source
 * declares, then probe each one.
 *
 * Sources, in order: the kernel command line (x86_64 microvm and
 * Firecracker-style VMMs; Linux's convention) and the device tree (aarch64
 * virt). A window declared twice is refused by the list, so a VMM that
 * writes both never gets one device driven twice.
 */
#include <errno.h>
#include <stdio.h>

#include "mmio.h"
#include "rt.h"

static struct mmio_list found;
static unsigned probe_errors; /* windows that did not hold a usable device */

static void scan_cmdline(void)
{
	mmio_cmdline_scan(boot_cmdline.envp, boot_cmdline.envc, &found);
	/*
	 * QEMU microvm appends its virtio_mmio.device= words after the user's
	 * -append text (hw/i386/microvm.c, only with acpi=off); when that text
	 * holds "--" they land among the arguments, so look there as well.
	 */
	if (boot_cmdline.argc > 1)
		mmio_cmdline_scan(boot_cmdline.argv + 1, boot_cmdline.argc - 1, &found);
}

void mmio_init(const struct boot_info *bi)
{
	scan_cmdline();
	if (bi->dtb && mmio_dtb_boot_scan(bi->dtb, &found) < 0)
		printf("virtio-mmio: the device tree is malformed, no devices taken from it\n");
	for (unsigned i = 0; i < found.count; i++) {
		int err = mmio_probe(&found.dev[i]);
		if (err < 0 && err != -ENOENT)
			probe_errors++;
	}
	if (found.rejected || found.bad_irqs || probe_errors)
		printf("virtio-mmio: %u declarations rejected, %u interrupts unusable, %u windows "
		       "without a usable device\n",
		       found.rejected, found.bad_irqs, probe_errors);
}

const struct mmio_list *mmio_declared(void)
{
	return &found;
}

unsigned mmio_probe_errors(void)
{
	return probe_errors;
}
