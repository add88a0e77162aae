/*
 * Device-tree host bridges (aarch64): every enabled "pci-host-ecam-generic"
 * node (Linux Documentation/devicetree/bindings/pci/host-generic-pci.yaml,
 * and the PCI bus binding, IEEE 1275 PCI Bus Binding 2.1):
 *
 *   reg         the ECAM window, for the first bus of bus-range
 *   bus-range   first and last bus number (default 0-255)
 *   ranges      (phys.hi phys.mid phys.lo) cpu-address size: the windows;
 *               phys.hi bits 25:24 give the space (1 I/O, 2 32-bit memory,
 *               3 64-bit memory), bit 30 prefetchable
 *   interrupt-map, interrupt-map-mask   INTx routing to the GIC
 *
 * No firmware ran under QEMU virt with -kernel, so noos numbers the buses
 * and assigns the BARs itself, unless /chosen says linux,pci-probe-only.
 * Every property length and value is checked; a malformed node is skipped
 * and counted.
 */
#include <errno.h>
#include <libfdt.h>
#include <string.h>

#include "fdt_read.h"
#include "io.h"
#include "pci.h"
#include "rt.h"

#define PCI_ADDR_CELLS   3
#define PHYS_HI_SPACE(h) (((h) >> 24) & 3)
#define PHYS_HI_PREF     (1u << 30)
#define SPACE_IO         1
#define SPACE_MEM32      2
#define SPACE_MEM64      3
#define MAX_CELLS        4 /* #address-cells / #size-cells values this parser accepts */

/* GIC interrupt specifiers (Linux include/dt-bindings/interrupt-controller/arm-gic.h). */
#define GIC_SPI          0
#define GIC_PPI          1
#define GIC_SPI_BASE     32
#define GIC_PPI_BASE     16
#define IRQ_EDGE_RISING  1
#define IRQ_EDGE_FALLING 2
#define IRQ_LEVEL_HIGH   4
#define IRQ_LEVEL_LOW    8

static uint64_t read_cells(const fdt32_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 32) | fdt32_to_cpu(p[i]);
	return v;
}

/*
 * Not inlined: five call sites, and under TCG each inlined copy is code QEMU
 * translates again at boot (10 fewer translation blocks on QEMU virt).
 */
__attribute__((noinline)) static int cells_of(const void *fdt, int node, const char *name, int dflt)
{
	int len;
	const fdt32_t *p = fdtr_getprop(fdt, node, name, &len);
	if (!p)
		return dflt;
	if (len != 4 || fdt32_to_cpu(*p) > MAX_CELLS)
		return -EINVAL;
	return (int)fdt32_to_cpu(*p);
}

/* reg[0] and bus-range: the ECAM window and the buses it covers. */
static int parse_ecam(const void *fdt, int node, int parent, struct pci_host *h, uint64_t *base,
                      uint64_t *size)
{
	int len;
	int na = cells_of(fdt, parent, "#address-cells", 2),
	    ns = cells_of(fdt, parent, "#size-cells", 1);
	const fdt32_t *reg = fdtr_getprop(fdt, node, "reg", &len);
	if (parent < 0 || na <= 0 || ns <= 0 || !reg || len < (na + ns) * 4)
		return -EINVAL;
	*base = read_cells(reg, na);
	*size = read_cells(reg + na, ns);
	h->bus_start = 0;
	h->bus_end = 255;
	const fdt32_t *br = fdtr_getprop(fdt, node, "bus-range", &len);
	if (br) {
		uint32_t first = fdt32_to_cpu(br[0]), last = len == 8 ? fdt32_to_cpu(br[1]) : 0;
		if (len != 8 || first > last || last > 255)
			return -EINVAL;
		h->bus_start = (uint8_t)first;
		h->bus_end = (uint8_t)last;
	}
	/* A window smaller than the bus range claims covers fewer buses. */
	uint64_t buses = *size >> PCI_ECAM_BUS_SHIFT;
	if (buses == 0)
		return -EINVAL;
	if (buses < (uint64_t)(h->bus_end - h->bus_start + 1u))
		h->bus_end = (uint8_t)(h->bus_start + buses - 1);
	return 0;
}

/* One ranges entry into the host's windows; the largest of each kind wins. */
static int add_range(struct pci_host *h, uint32_t hi, uint64_t bus, uint64_t cpu, uint64_t size)
{
	if (size == 0 || cpu + size < cpu || bus + size < bus)
		return -EINVAL;
	enum pci_space sp;
	if (PHYS_HI_SPACE(hi) == SPACE_IO)
		sp = PCI_SPACE_IO;
	else if (PHYS_HI_SPACE(hi) == SPACE_MEM32 || bus + size <= (1ull << 32))
		sp = PCI_SPACE_MEM;
	else if (PHYS_HI_SPACE(hi) == SPACE_MEM64)
		sp = PCI_SPACE_PREF64;
	else
		return -EINVAL; /* configuration space in ranges */
	if (sp == PCI_SPACE_MEM && bus + size > (1ull << 32))
		return -EINVAL;
	if (size > h->win[sp].size)
		h->win[sp] = (struct pci_window){.cpu_base = cpu, .bus_base = bus, .size = size};
	return 0;
}

static int parse_ranges(const void *fdt, int node, int parent, struct pci_host *h)
{
	int len;
	int pna = cells_of(fdt, parent, "#address-cells", 2);
	int ns = cells_of(fdt, node, "#size-cells", 2);
	if (cells_of(fdt, node, "#address-cells", 0) != PCI_ADDR_CELLS || pna <= 0 || ns <= 0)
		return -EINVAL;
	const fdt32_t *r = fdtr_getprop(fdt, node, "ranges", &len);
	int entry = PCI_ADDR_CELLS + pna + ns;
	if (!r || len <= 0 || len % (entry * 4))
		return -EINVAL;
	for (int i = 0; i < len / (entry * 4); i++, r += entry) {
		uint32_t hi = fdt32_to_cpu(r[0]);
		uint64_t bus = read_cells(r + 1, 2), cpu = read_cells(r + PCI_ADDR_CELLS, pna);
		if (add_range(h, hi, bus, cpu, read_cells(r + PCI_ADDR_CELLS + pna, ns)) < 0)
			pci_error(NULL, "device tree: unusable PCI ranges entry skipped");
	}
	return h->win[PCI_SPACE_MEM].size || h->win[PCI_SPACE_PREF64].size ? 0 : -EINVAL;
}

static bool probe_only(const void *fdt, int chosen)
{
	int len;
	const fdt32_t *p =
	    chosen < 0 ? NULL : fdtr_getprop(fdt, chosen, "linux,pci-probe-only", &len);
	return p && len == 4 && fdt32_to_cpu(*p) == 1;
}

/* pci_dt_parse_host, given the node's parent and /chosen (either may be an error). */
static int parse_host(const void *fdt, int node, int parent, int chosen, struct pci_host *h,
                      uint64_t *ecam_base)
{
	uint64_t size;
	*h = (struct pci_host){.ops = &pci_ecam_ops, .fdt = fdt, .fdt_node = node};
	if (parse_ecam(fdt, node, parent, h, ecam_base, &size) < 0 ||
	    parse_ranges(fdt, node, parent, h) < 0)
		return -EINVAL;
	int len;
	const fdt32_t *dom = fdtr_getprop(fdt, node, "linux,pci-domain", &len);
	if (dom && len == 4 && fdt32_to_cpu(*dom) <= 0xffff)
		h->segment = (uint16_t)fdt32_to_cpu(*dom);
	h->assign = !probe_only(fdt, chosen);
	return 0;
}

/* Fill *h from the node (no mapping): 0, or -EINVAL when the node is malformed. */
int pci_dt_parse_host(const void *fdt, int node, struct pci_host *h, uint64_t *ecam_base)
{
	return parse_host(fdt, node, fdt_parent_offset(fdt, node), fdtr_path_offset(fdt, "/chosen"),
	                  h, ecam_base);
}

#define MAX_DEPTH 32

/* Maps and completes one host found by the walk; false if it is skipped. */
static bool take_host(const struct boot_info *bi, int node, int parent, struct pci_host *h)
{
	uint64_t base;
	if (!fdtr_node_enabled(bi->dtb, node))
		return false;
	if (parse_host(bi->dtb, node, parent, -FDT_ERR_NOTFOUND, h, &base) < 0) {
		pci_error(NULL, "device tree: malformed pci-host-ecam-generic node skipped");
		return false;
	}
	h->ecam = io_map(base, (uint64_t)(h->bus_end - h->bus_start + 1u) << PCI_ECAM_BUS_SHIFT);
	if (!h->ecam) {
		pci_error(NULL, "device tree: PCI ECAM window is not mapped: skipped");
		return false;
	}
	h->ram = bi->ram;
	h->ram_count = bi->ram_count;
	return true;
}

/*
 * One walk finds the host nodes with their parents, and /chosen: libfdt's
 * fdt_parent_offset walks from the root twice per call and fdt_path_offset
 * once more, together ~0.5 ms of boot under TCG on QEMU virt's tree. Nodes
 * deeper than MAX_DEPTH get their parent from libfdt.
 */
int pci_hosts_discover(const struct boot_info *bi, struct pci_host *hosts, unsigned max)
{
	const void *fdt = bi->dtb;
	unsigned n = 0;
	if (!fdt || fdt_check_header(fdt) != 0)
		return 0;
	int depth = 0, path[MAX_DEPTH], chosen = -FDT_ERR_NOTFOUND;
	for (int off = 0; off >= 0 && depth >= 0 && n < max;
	     off = fdtr_next_node(fdt, off, &depth)) {
		if (depth < MAX_DEPTH)
			path[depth] = off;
		const char *name = depth == 1 ? fdtr_get_name(fdt, off, NULL) : NULL;
		if (name && chosen < 0 && strcmp(name, "chosen") == 0)
			chosen = off;
		if (depth == 0 ||
		    fdtr_node_check_compatible(fdt, off, "pci-host-ecam-generic") != 0)
			continue;
		int parent = depth <= MAX_DEPTH ? path[depth - 1] : fdt_parent_offset(fdt, off);
		n += take_host(bi, off, parent, &hosts[n]);
	}
	if (chosen < 0 && n > 0) /* /chosen after the last host: the walk stopped early */
		chosen = fdtr_path_offset(fdt, "/chosen");
	for (unsigned i = 0; i < n; i++)
		hosts[i].assign = !probe_only(fdt, chosen);
	return (int)n;
}

/* <type number flags> of a GIC: the INTID and the trigger, or -EINVAL. */
static int gic_spec(const fdt32_t *s, int cells, unsigned *line, unsigned *flags)
{
	if (cells != 3)
		return -EINVAL;
	uint32_t type = fdt32_to_cpu(s[0]), num = fdt32_to_cpu(s[1]),
	         trig = fdt32_to_cpu(s[2]) & 0xf;
	if (type == GIC_SPI && num < 988)
		*line = GIC_SPI_BASE + num;
	else if (type == GIC_PPI && num < 16)
		*line = GIC_PPI_BASE + num;
	else
		return -EINVAL;
	*flags = trig == IRQ_EDGE_RISING    ? ARCH_IRQ_EDGE | ARCH_IRQ_ACTIVE_HIGH
	         : trig == IRQ_EDGE_FALLING ? ARCH_IRQ_EDGE | ARCH_IRQ_ACTIVE_LOW
	         : trig == IRQ_LEVEL_LOW    ? ARCH_IRQ_LEVEL | ARCH_IRQ_ACTIVE_LOW
	                                    : ARCH_IRQ_LEVEL | ARCH_IRQ_ACTIVE_HIGH;
	return 0;
}

/*
 * Walk interrupt-map for the masked key (child unit address, pin). Each
 * entry's length depends on its interrupt parent's #address-cells and
 * #interrupt-cells (devicetree specification v0.4 §2.4.3.1), so every
 * step is bounds-checked against the property's length.
 */
static int map_lookup(const void *fdt, int node, const uint32_t key[4], unsigned *line,
                      unsigned *flags)
{
	int len, mlen;
	const fdt32_t *map = fdtr_getprop(fdt, node, "interrupt-map", &len);
	const fdt32_t *mask = fdtr_getprop(fdt, node, "interrupt-map-mask", &mlen);
	if (!map || len < 0 || cells_of(fdt, node, "#interrupt-cells", 1) != 1 ||
	    (mask && mlen != 16))
		return -ENOENT;
	uint32_t k[4];
	for (int i = 0; i < 4; i++)
		k[i] = key[i] & (mask ? fdt32_to_cpu(mask[i]) : ~0u);
	int cells = len / 4;
	for (int i = 0; i + 5 <= cells;) {
		int parent = fdtr_node_offset_by_phandle(fdt, fdt32_to_cpu(map[i + 4]));
		int pac = parent < 0 ? -1 : cells_of(fdt, parent, "#address-cells", 0);
		int pic = parent < 0 ? -1 : cells_of(fdt, parent, "#interrupt-cells", -1);
		int spec = i + 5 + pac;
		if (pac < 0 || pic <= 0 || spec + pic > cells)
			return -EINVAL;
		bool match = true;
		for (int j = 0; j < 4; j++)
			match = match && fdt32_to_cpu(map[i + j]) == k[j];
		if (match)
			return gic_spec(map + spec, pic, line, flags);
		i = spec + pic;
	}
	return -ENOENT;
}

/* PCI-to-PCI Bridge Architecture 1.2 §9.1: INTx pins rotate by device number at each bridge. */
int pci_host_intx(const struct pci_func *f, unsigned *line, unsigned *flags)
{
	const struct pci_host *h = f->host;
	if (!h->fdt || f->int_pin < 1 || f->int_pin > 4)
		return -ENOENT;
	unsigned pin = f->int_pin;
	while (f->parent) {
		pin = ((pin - 1 + f->dev) % 4) + 1;
		f = f->parent;
	}
	uint32_t key[4] = {(uint32_t)f->bus << 16 | (uint32_t)f->dev << 11 | (uint32_t)f->fn << 8,
	                   0, 0, pin};
	int rc = map_lookup(h->fdt, h->fdt_node, key, line, flags);
	if (rc == -EINVAL)
		pci_error(f, "device tree: malformed interrupt-map");
	return rc;
}
