/*
 * The GIC in the device tree (Linux's bindings interrupt-controller/
 * arm,gic.yaml and arm,gic-v3.yaml; Devicetree Specification v0.4 2.4,
 * "Interrupts and Interrupt Mapping"): which node is the GIC (and, in the
 * same single walk, the architected timer and /cpus), what a three-cell
 * GIC specifier means, what trigger the tree gives a line, and the DeviceID
 * an ITS sees for a PCI requester (pci-msi.txt's "msi-map"). Under TCG a
 * walk over QEMU's tree costs about a quarter of a millisecond, so boot
 * makes one.
 *
 * The tree comes from outside the VM: every property's length is checked
 * before its cells are read, and a malformed one is skipped.
 */
#include <libfdt.h>
#include <string.h>

#include "aarch64.h"
#include "fdt_read.h"
#include "gic_reg.h"

#define MAX_DEPTH 32 /* ancestors followed for interrupt-parent */

/* GIC specifier types (Linux dt-bindings/interrupt-controller/arm-gic.h). */
#define SPEC_SPI 0
#define SPEC_PPI 1
/* Trigger flags of a specifier's third cell (dt-bindings/interrupt-controller/irq.h). */
#define SPEC_EDGE_RISING  1
#define SPEC_EDGE_FALLING 2
#define SPEC_LEVEL_HIGH   4
#define SPEC_LEVEL_LOW    8

static const struct {
	const char *compatible;
	const struct gic_ops *ops;
} known[] = {
    {"arm,gic-v3", &gicv3_ops},         {"arm,gic-400", &gicv2_ops},
    {"arm,cortex-a15-gic", &gicv2_ops}, {"arm,cortex-a9-gic", &gicv2_ops},
    {"arm,cortex-a7-gic", &gicv2_ops},
};

struct dtb_nodes dtb_nodes = {-1, -1, NULL, -1, -1};

/*
 * Which of the compatible strings looked for (all "arm,...") the list names
 * first: an index into known[], TIMER_MATCH, or -1. Most of QEMU's nodes
 * are virtio,mmio: one prefix compare each.
 */
#define TIMER_MATCH 100
static int match(const char *list, int len)
{
	static const char *const timers[] = {"arm,armv8-timer", "arm,armv7-timer"};
	for (const char *s = list, *end = list + len; s < end; s += strnlen(s, end - s) + 1) {
		if (strncmp(s, "arm,", 4) != 0)
			continue;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(s, known[i].compatible) == 0)
				return (int)i;
		for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
			if (strcmp(s, timers[i]) == 0)
				return TIMER_MATCH;
	}
	return -1;
}

static void take_gic(const void *fdt, int node, int parent, int which)
{
	if (dtb_nodes.gic >= 0 || !fdtr_node_enabled(fdt, node) ||
	    !fdtr_getprop(fdt, node, "interrupt-controller", NULL))
		return;
	dtb_nodes.gic = node;
	dtb_nodes.gic_parent = parent;
	dtb_nodes.gic_ops = known[which].ops;
}

/* One walk: the first enabled GIC, the first arm,armv8-timer / armv7-timer, and /cpus. */
void gic_dtb_scan(const void *fdt)
{
	int depth = -1, len, path[MAX_DEPTH]; /* the root is depth 0; path[d]: the node there */
	/* After the root's end libfdt returns an offset >= 0 with depth -1: the walk is over. */
	for (int node = fdtr_next_node(fdt, -1, &depth);
	     node >= 0 && depth >= 0 && depth < MAX_DEPTH;
	     node = fdtr_next_node(fdt, node, &depth)) {
		path[depth] = node;
		dtb_parent_record(fdt, node, depth ? path[depth - 1] : -FDT_ERR_NOTFOUND);
		const char *name = depth == 1 ? fdtr_get_name(fdt, node, NULL) : NULL;
		if (name && dtb_nodes.cpus < 0 && strcmp(name, "cpus") == 0)
			dtb_nodes.cpus = node;
		const char *compat = fdtr_getprop(fdt, node, "compatible", &len);
		int which = compat && len > 0 && compat[len - 1] == '\0' ? match(compat, len) : -1;
		if (which == TIMER_MATCH && dtb_nodes.timer < 0)
			dtb_nodes.timer = node;
		else if (which >= 0 && which != TIMER_MATCH && depth > 0)
			take_gic(fdt, node, path[depth - 1], which);
	}
}

static unsigned spec_flags(uint32_t f)
{
	switch (f & 0xf) {
	case SPEC_EDGE_RISING:
		return ARCH_IRQ_EDGE | ARCH_IRQ_ACTIVE_HIGH;
	case SPEC_EDGE_FALLING:
		return ARCH_IRQ_EDGE | ARCH_IRQ_ACTIVE_LOW;
	case SPEC_LEVEL_HIGH:
		return ARCH_IRQ_LEVEL | ARCH_IRQ_ACTIVE_HIGH;
	case SPEC_LEVEL_LOW:
		return ARCH_IRQ_LEVEL | ARCH_IRQ_ACTIVE_LOW;
	}
	return 0; /* none given (or a combination): the caller's default */
}

/* (type, number, flags[, ppi-partition]): SPI n is INTID 32 + n, PPI n is 16 + n. */
int gic_dtb_decode(const uint32_t *spec_be, unsigned cells, unsigned *intid, unsigned *flags)
{
	if (cells < 3)
		return -EINVAL;
	uint32_t type = fdt32_ld((const fdt32_t *)&spec_be[0]);
	uint32_t n = fdt32_ld((const fdt32_t *)&spec_be[1]);
	if (type == SPEC_SPI && n < GIC_SPI_LIMIT - GIC_SPI_FIRST)
		*intid = GIC_SPI_FIRST + n;
	else if (type == SPEC_PPI && n < GIC_SPI_FIRST - GIC_SGI_COUNT)
		*intid = GIC_SGI_COUNT + n;
	else
		return -EINVAL; /* extended SPI/PPI ranges (GICv3.1) are not used */
	*flags = spec_flags(fdt32_ld((const fdt32_t *)&spec_be[2]));
	return 0;
}

/* A one-cell property of node, or def when absent or malformed. */
static int cells_prop(const void *fdt, int node, const char *name, int def)
{
	int len;
	const fdt32_t *p = fdtr_getprop(fdt, node, name, &len);
	if (!p || len != 4 || fdt32_ld(p) > 8)
		return def;
	return (int)fdt32_ld(p);
}

/* interrupt-parent of node or its nearest ancestor that has one (DT spec 2.4.1). */
static uint32_t interrupt_parent(const void *fdt, int node)
{
	for (int depth = 0; node >= 0 && depth < MAX_DEPTH; depth++) {
		int len;
		const fdt32_t *p = fdtr_getprop(fdt, node, "interrupt-parent", &len);
		if (p)
			return len == 4 ? fdt32_ld(p) : 0;
		node = dtb_parent(fdt, node);
	}
	return 0;
}

struct lookup {
	const void *fdt;
	uint32_t gic_phandle;
	unsigned gic_cells;
	unsigned intid;
	unsigned flags;
	bool found;
};

/* Check one GIC specifier against the line looked for. */
static void check_spec(struct lookup *l, const fdt32_t *spec)
{
	unsigned intid, flags;
	if (l->found || gic_dtb_decode((const uint32_t *)spec, l->gic_cells, &intid, &flags) != 0)
		return;
	if (intid == l->intid && flags != 0) {
		l->flags = flags;
		l->found = true;
	}
}

/* "interrupts": specifiers of the node's interrupt parent. */
static void scan_interrupts(struct lookup *l, int node)
{
	int len;
	const fdt32_t *p = fdtr_getprop(l->fdt, node, "interrupts", &len);
	if (!p || len <= 0 || interrupt_parent(l->fdt, node) != l->gic_phandle)
		return;
	for (int i = 0; (i + (int)l->gic_cells) * 4 <= len; i += (int)l->gic_cells)
		check_spec(l, p + i);
}

/* #address-cells and #interrupt-cells of the controller a phandle names; -1 when unusable. */
static int ctrl_cells(const struct lookup *l, uint32_t phandle, int *addr_cells)
{
	int ctrl = fdtr_node_offset_by_phandle(l->fdt, phandle);
	if (ctrl < 0)
		return -1;
	*addr_cells = cells_prop(l->fdt, ctrl, "#address-cells", 0);
	return cells_prop(l->fdt, ctrl, "#interrupt-cells", -1);
}

/* "interrupts-extended": <phandle specifier>... with each controller's own cell count. */
static void scan_extended(struct lookup *l, int node)
{
	int len, addr;
	const fdt32_t *p = fdtr_getprop(l->fdt, node, "interrupts-extended", &len);
	for (int i = 0; p && (i + 1) * 4 <= len;) {
		uint32_t ph = fdt32_ld(p + i);
		int cells = ctrl_cells(l, ph, &addr);
		if (cells < 0 || (i + 1 + cells) * 4 > len)
			return;
		if (ph == l->gic_phandle)
			check_spec(l, p + i + 1);
		i += 1 + cells;
	}
}

/* "interrupt-map" (DT spec 2.4.3.1): <child-addr child-spec phandle parent-addr parent-spec>... */
static void scan_map(struct lookup *l, int node)
{
	int len, paddr;
	const fdt32_t *p = fdtr_getprop(l->fdt, node, "interrupt-map", &len);
	if (!p)
		return;
	int child = cells_prop(l->fdt, node, "#address-cells", 2) +
	            cells_prop(l->fdt, node, "#interrupt-cells", 1);
	for (int i = 0; (i + child + 1) * 4 <= len;) {
		uint32_t ph = fdt32_ld(p + i + child);
		int cells = ctrl_cells(l, ph, &paddr);
		int spec = i + child + 1 + paddr;
		if (cells < 0 || (spec + cells) * 4 > len)
			return;
		if (ph == l->gic_phandle)
			check_spec(l, p + spec);
		i = spec + cells;
	}
}

/*
 * The trigger the tree gives INTID `intid` anywhere (interrupts,
 * interrupts-extended, or a nexus's interrupt-map such as the PCI host's
 * INTx lines): 0 and *flags, or -ENOENT when nothing describes that line.
 */
int gic_dtb_trigger(const void *fdt, int gic_node, unsigned intid, unsigned *flags)
{
	struct lookup l = {.fdt = fdt, .intid = intid};
	l.gic_phandle = fdtr_get_phandle(fdt, gic_node);
	int cells = cells_prop(fdt, gic_node, "#interrupt-cells", -1);
	if (l.gic_phandle == 0 || cells < 3)
		return -ENOENT;
	l.gic_cells = (unsigned)cells;
	int depth = 0;
	for (int node = fdtr_next_node(fdt, -1, &depth); node >= 0 && !l.found;
	     node = fdtr_next_node(fdt, node, &depth)) {
		scan_interrupts(&l, node);
		scan_extended(&l, node);
		scan_map(&l, node);
	}
	*flags = l.flags;
	return l.found ? 0 : -ENOENT;
}

/*
 * The DeviceID an ITS sees for a PCI requester: the first "msi-map" entry
 * <rid-base msi-controller msi-base length> naming this ITS that covers the
 * requester (after "msi-map-mask"). Without any msi-map the requester ID
 * passes through unchanged. -ENOENT when a map exists but leaves it out.
 */
int gic_dtb_msi_devid(const void *fdt, int msi_node, uint32_t requester_id, uint32_t *devid)
{
	uint32_t ph = fdtr_get_phandle(fdt, msi_node);
	bool any = false;
	int depth = 0, len, mlen;
	for (int node = fdtr_next_node(fdt, -1, &depth); node >= 0;
	     node = fdtr_next_node(fdt, node, &depth)) {
		const fdt32_t *p = fdtr_getprop(fdt, node, "msi-map", &len);
		if (!p)
			continue;
		any = true;
		const fdt32_t *m = fdtr_getprop(fdt, node, "msi-map-mask", &mlen);
		uint32_t rid = requester_id & (m && mlen == 4 ? fdt32_ld(m) : 0xffffffffu);
		for (int i = 0; (i + 4) * 4 <= len; i += 4) {
			uint32_t base = fdt32_ld(p + i), out = fdt32_ld(p + i + 2);
			uint32_t count = fdt32_ld(p + i + 3);
			if (fdt32_ld(p + i + 1) == ph && rid >= base && rid - base < count) {
				*devid = out + (rid - base);
				return 0;
			}
		}
	}
	*devid = requester_id;
	return any ? -ENOENT : 0;
}

/*
 * The index-th interrupt in node's "interrupts", read as this GIC's
 * specifier; -ENOENT if none. For nodes whose binding makes their
 * interrupts the GIC's (the architected timer's PPIs): the interrupt-parent
 * walk up the tree, which libfdt does from the root, is skipped.
 */
int gic_dtb_interrupt(const void *fdt, int gic_node, int node, int index, unsigned *intid,
                      unsigned *flags)
{
	int len, cells = cells_prop(fdt, gic_node, "#interrupt-cells", -1);
	const fdt32_t *p = fdtr_getprop(fdt, node, "interrupts", &len);
	if (!p || cells < 3)
		return -ENOENT;
	if (index < 0 || (index + 1) * cells * 4 > len)
		return -ENOENT;
	return gic_dtb_decode((const uint32_t *)(p + index * cells), (unsigned)cells, intid, flags);
}
