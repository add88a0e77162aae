/*
 * Host unit tests of pci/host_dt.c: pci-host-ecam-generic nodes built with
 * libfdt's sequential-write API in the shape QEMU virt gives them (checked
 * against `qemu-system-aarch64 -M virt,dumpdtb=...`), then bent out of
 * shape: wrong cell counts, truncated properties, dangling phandles.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "pci.h"
#include "pci_dt_blob.h"

static int build(const struct shape *s, int *node)
{
	CHECK(dt_build(s) == 0);
	*node = fdt_node_offset_by_compatible(blob, -1, "pci-host-ecam-generic");
	CHECK(*node >= 0);
	struct pci_host h;
	uint64_t base;
	return pci_dt_parse_host(blob, *node, &h, &base);
}

static void test_qemu_virt(void)
{
	struct pci_host h;
	uint64_t base;
	int node;
	CHECK(build(&qemu_virt, &node) == 0);
	CHECK(pci_dt_parse_host(blob, node, &h, &base) == 0);
	CHECK(base == 0x4010000000ull && h.bus_start == 0 && h.bus_end == 255 && h.assign);
	CHECK(h.win[PCI_SPACE_IO].cpu_base == 0x3eff0000 && h.win[PCI_SPACE_IO].bus_base == 0 &&
	      h.win[PCI_SPACE_IO].size == 0x10000);
	CHECK(h.win[PCI_SPACE_MEM].cpu_base == 0x10000000 &&
	      h.win[PCI_SPACE_MEM].size == 0x2eff0000);
	CHECK(h.win[PCI_SPACE_PREF64].cpu_base == 0x8000000000ull &&
	      h.win[PCI_SPACE_PREF64].bus_base == 0x8000000000ull &&
	      h.win[PCI_SPACE_PREF64].size == 0x8000000000ull);

	struct pci_host probe;
	struct shape s = qemu_virt;
	s.probe_only = true;
	CHECK(build(&s, &node) == 0 && pci_dt_parse_host(blob, node, &probe, &base) == 0);
	CHECK(!probe.assign);

	/* A 16-bus window with the default bus range covers 16 buses. */
	s = qemu_virt;
	s.bus_range_len = 0;
	s.ecam_size = 16 << 20;
	CHECK(build(&s, &node) == 0 && pci_dt_parse_host(blob, node, &h, &base) == 0);
	CHECK(h.bus_start == 0 && h.bus_end == 15);
}

static void test_malformed(void)
{
	int node;
	struct shape s = qemu_virt;
	s.pci_address_cells = 2;
	CHECK(build(&s, &node) == -EINVAL);
	s = qemu_virt;
	s.bus_range_len = 4;
	CHECK(build(&s, &node) == -EINVAL);
	s = qemu_virt;
	s.bus_range[0] = 9;
	s.bus_range[1] = 3;
	CHECK(build(&s, &node) == -EINVAL);
	s = qemu_virt;
	s.bus_range[1] = 256;
	CHECK(build(&s, &node) == -EINVAL);
	s = qemu_virt;
	s.ecam_size = 0x80000; /* less than one bus */
	CHECK(build(&s, &node) == -EINVAL);
	s = qemu_virt;
	s.ranges_trim = 4;
	CHECK(build(&s, &node) == -EINVAL);
	s = qemu_virt;
	s.ranges_trim = 2 * 7 * 4; /* only the I/O window left: no memory to assign from */
	CHECK(build(&s, &node) == -EINVAL);
}

static int intx(struct pci_host *h, struct pci_func *f, unsigned *line, unsigned *flags)
{
	f->host = h;
	return pci_host_intx(f, line, flags);
}

static void test_intx(void)
{
	struct pci_host h;
	uint64_t base;
	int node;
	unsigned line, flags;
	CHECK(build(&qemu_virt, &node) == 0 && pci_dt_parse_host(blob, node, &h, &base) == 0);
	struct pci_func dev1 = {.bus = 0, .dev = 1, .int_pin = 1};
	CHECK(intx(&h, &dev1, &line, &flags) == 0 && line == 32 + 4);
	CHECK(flags == (ARCH_IRQ_LEVEL | ARCH_IRQ_ACTIVE_HIGH));
	dev1.int_pin = 4;
	CHECK(intx(&h, &dev1, &line, &flags) == 0 && line == 32 + 3 + (1 + 3) % 4);
	/* Slot 5 matches slot 1 under the mask 0x1800. */
	struct pci_func dev5 = {.bus = 0, .dev = 5, .int_pin = 2};
	CHECK(intx(&h, &dev5, &line, &flags) == 0 && line == 32 + 3 + (1 + 1) % 4);
	/* Behind a bridge in slot 2: pin rotates by the child's device number, then slot 2's. */
	struct pci_func bridge = {.bus = 0, .dev = 2, .int_pin = 1};
	struct pci_func child = {.bus = 1, .dev = 1, .int_pin = 1, .parent = &bridge};
	CHECK(intx(&h, &child, &line, &flags) == 0 && line == 32 + 3 + (2 + 1) % 4);
	struct pci_func nopin = {.bus = 0, .dev = 1, .int_pin = 0};
	CHECK(intx(&h, &nopin, &line, &flags) == -ENOENT);

	struct shape s = qemu_virt;
	s.map_phandle = 0x1234; /* no such interrupt parent */
	CHECK(build(&s, &node) == 0 && pci_dt_parse_host(blob, node, &h, &base) == 0);
	CHECK(intx(&h, &dev1, &line, &flags) == -EINVAL);
	s = qemu_virt;
	s.map_trim = 4; /* the last entry (slot 3, INTD) loses a cell */
	CHECK(build(&s, &node) == 0 && pci_dt_parse_host(blob, node, &h, &base) == 0);
	CHECK(intx(&h, &dev1, &line, &flags) == 0);
	struct pci_func dev3 = {.bus = 0, .dev = 3, .int_pin = 4};
	CHECK(intx(&h, &dev3, &line, &flags) == -EINVAL);
}

int main(void)
{
	test_qemu_virt();
	test_malformed();
	test_intx();
	return check_report("pci_dt");
}
