/*
 * GICv3 ITS: not driven yet. Without it a GICv3 machine has no MSIs
 * (arch_msi_alloc says so once and returns -ENOSPC) and PCI falls back to
 * INTx.
 */
#include "aarch64.h"

const struct gic_msi *its_probe(const void *fdt, int gic_node)
{
	(void)fdt;
	(void)gic_node;
	return NULL;
}

void its_cpu_init(unsigned cpu)
{
	(void)cpu;
}
