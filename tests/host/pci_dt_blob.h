/*
 * A flattened device tree with a pci-host-ecam-generic node in the shape
 * QEMU virt gives it (checked against `qemu-system-aarch64 -M
 * virt,dumpdtb=...`), with knobs to bend it out of shape. Shared by
 * test_pci_dt.c and tests/fuzz/fuzz_pci_dt.c (which mutates it).
 */
#ifndef NOOS_TEST_PCI_DT_BLOB_H
#define NOOS_TEST_PCI_DT_BLOB_H

#include <libfdt.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define GIC_PHANDLE 0x8001

static char blob[8192];

struct shape {
	uint32_t pci_address_cells;
	uint32_t bus_range[2];
	int bus_range_len; /* bytes; 0 leaves it out */
	uint64_t ecam_size;
	int ranges_trim; /* bytes cut off the end of ranges */
	bool probe_only;
	uint32_t map_phandle; /* interrupt parent named in interrupt-map */
	int map_trim;         /* bytes cut off the end of interrupt-map */
};

static const struct shape qemu_virt = {
    .pci_address_cells = 3,
    .bus_range = {0, 255},
    .bus_range_len = 8,
    .ecam_size = 0x10000000,
    .map_phandle = GIC_PHANDLE,
};

static void prop_cells(const char *name, const uint32_t *v, int n)
{
	fdt32_t c[16 * 10];
	for (int i = 0; i < n; i++)
		c[i] = cpu_to_fdt32(v[i]);
	fdt_property(blob, name, c, n * 4);
}

static void gic_node(void)
{
	fdt_begin_node(blob, "intc@8000000");
	fdt_property_u32(blob, "phandle", GIC_PHANDLE);
	fdt_property_u32(blob, "#interrupt-cells", 3);
	fdt_property_u32(blob, "#address-cells", 2);
	fdt_property(blob, "interrupt-controller", NULL, 0);
	fdt_end_node(blob);
}

/* QEMU virt's map: slot s, pin p -> SPI 3 + (s + p - 1) % 4, level high. */
static void interrupt_map(const struct shape *s)
{
	uint32_t map[16 * 10], mask[4] = {0x1800, 0, 0, 7};
	int n = 0;
	for (uint32_t slot = 0; slot < 4; slot++)
		for (uint32_t pin = 1; pin <= 4; pin++) {
			uint32_t e[10] = {slot << 11,
			                  0,
			                  0,
			                  pin,
			                  s->map_phandle,
			                  0,
			                  0,
			                  0,
			                  3 + (slot + pin - 1) % 4,
			                  4};
			memcpy(map + n, e, sizeof(e));
			n += 10;
		}
	prop_cells("interrupt-map-mask", mask, 4);
	prop_cells("interrupt-map", map, n - s->map_trim / 4);
}

static void pcie_node(const struct shape *s)
{
	uint32_t reg[4] = {0x40, 0x10000000, (uint32_t)(s->ecam_size >> 32),
	                   (uint32_t)s->ecam_size};
	uint32_t ranges[3 * 7] = {
	    0x01000000, 0,    0,          0,    0x3eff0000, 0,    0x10000,
	    0x02000000, 0,    0x10000000, 0,    0x10000000, 0,    0x2eff0000,
	    0x03000000, 0x80, 0,          0x80, 0,          0x80, 0,
	};
	fdt_begin_node(blob, "pcie@10000000");
	fdt_property_string(blob, "compatible", "pci-host-ecam-generic");
	fdt_property_u32(blob, "#address-cells", s->pci_address_cells);
	fdt_property_u32(blob, "#size-cells", 2);
	fdt_property_u32(blob, "#interrupt-cells", 1);
	fdt_property_u32(blob, "linux,pci-domain", 0);
	prop_cells("reg", reg, 4);
	if (s->bus_range_len)
		prop_cells("bus-range", s->bus_range, s->bus_range_len / 4);
	prop_cells("ranges", ranges, 21 - s->ranges_trim / 4);
	interrupt_map(s);
	fdt_end_node(blob);
}

/* The tree with one pcie node shaped by s; 0 or a libfdt error. */
static int dt_build(const struct shape *s)
{
	int rc = fdt_create(blob, sizeof(blob));
	rc = rc ? rc : fdt_finish_reservemap(blob);
	rc = rc ? rc : fdt_begin_node(blob, "");
	rc = rc ? rc : fdt_property_u32(blob, "#address-cells", 2);
	rc = rc ? rc : fdt_property_u32(blob, "#size-cells", 2);
	if (rc)
		return rc;
	gic_node();
	pcie_node(s);
	fdt_begin_node(blob, "chosen");
	if (s->probe_only)
		fdt_property_u32(blob, "linux,pci-probe-only", 1);
	fdt_end_node(blob);
	fdt_end_node(blob);
	return fdt_finish(blob);
}

#endif
