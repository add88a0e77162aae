/*
 * Boot protocols without a device tree (x86_64: PVH, multiboot2): no
 * virtio-mmio windows come from one. There is no libfdt in these images.
 */
#include "mmio.h"

int mmio_dtb_boot_scan(const void *fdt, struct mmio_list *l)
{
	(void)fdt;
	(void)l;
	return 0;
}
