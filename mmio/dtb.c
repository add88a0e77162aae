/*
 * virtio-mmio devices described by a flattened device tree: every node
 * compatible with "virtio,mmio" (Linux's Documentation/devicetree/bindings/
 * virtio/mmio.yaml), as QEMU virt and Firecracker on arm64 generate them.
 *
 * For each enabled node this reads
 *  - the first "reg" entry, sized by the parent's #address-cells and
 *    #size-cells (Devicetree Specification v0.4 §2.3.5, §2.3.6), and
 *    translated to a CPU physical address through the "ranges" of every
 *    ancestor bus (§2.3.8);
 *  - the first interrupt, from "interrupts-extended" or from "interrupts"
 *    and the nearest "interrupt-parent" (§2.4). A GIC's three-cell
 *    specifier (type, number, flags; Linux's arm,gic binding) becomes the
 *    GIC interrupt ID: SPI n is ID 32 + n, PPI n is 16 + n.
 *
 * The blob is untrusted: it is checked as a whole (fdtr_check_full) before
 * any lookup, and every property length is checked before its cells are
 * read. A node with an unusable window is refused; a node whose interrupt
 * cannot be decoded keeps its window and is driven by polling.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "fdt_read.h"
#include "mmio.h"

#define MAX_DEPTH 32 /* ancestors followed for ranges and interrupt-parent */

/* GIC interrupt specifier types (Linux include/dt-bindings/interrupt-controller/arm-gic.h). */
#define GIC_SPI  0
#define GIC_PPI  1
#define GIC_ESPI 2 /* GICv3.1 extended SPI range */
#define GIC_EPPI 3 /* GICv3.1 extended PPI range */

/* A virtio,mmio node and the path to it: path[depth] is the node, path[0] the root. */
struct node_ctx {
	const void *fdt;
	int node;
	const char *name;
	struct mmio_list *list;
	const int *path;
	int depth;
};

/*
 * Each node asks about its ancestors (reg cells, ranges, interrupt-parent)
 * and its interrupt controller. The scan is one walk of the tree that keeps
 * the path to the node it is at, so every ancestor is at hand (libfdt's
 * fdt_parent_offset walks from the root), and it remembers its last answers
 * about shared ancestors and the controller (a phandle lookup is a walk): on
 * QEMU virt's 32 virtio-mmio nodes that was 15-30 ms of boot under TCG.
 * What it remembers is for this scan's blob only.
 */
static struct {
	uint32_t phandle; /* the last one looked up, and its node */
	int phandle_node;
	int cells_node, ac, sc; /* the last parent's #address-cells and #size-cells */
	int ctrl;               /* the last interrupt controller checked, and its verdict */
	const char *ctrl_why;
	int iparent_node; /* the last node whose inherited interrupt-parent was looked up */
	uint32_t iparent;
} memo;

static void memo_forget(void)
{
	memo.phandle_node = -FDT_ERR_BADPHANDLE; /* nothing remembered yet */
	memo.cells_node = memo.ctrl = memo.iparent_node = -1;
}

/* All of virt's devices name the same GIC: remember the last phandle looked up (a full walk). */
static int phandle_node(const void *fdt, uint32_t phandle)
{
	if (memo.phandle != phandle || memo.phandle_node == -FDT_ERR_BADPHANDLE) {
		memo.phandle = phandle;
		memo.phandle_node = fdtr_node_offset_by_phandle(fdt, phandle);
	}
	return memo.phandle_node;
}

/* Reads n big-endian cells (1..4) as one number; false if it does not fit in 64 bits. */
static bool read_cells(const fdt32_t *cells, int n, uint64_t *out)
{
	uint64_t v = 0;
	if (n < 1 || n > 4)
		return false;
	for (int i = 0; i < n; i++) {
		if (v >> 32)
			return false;
		v = (v << 32) | fdt32_ld(&cells[i]);
	}
	*out = v;
	return true;
}

/* Finds [addr, addr+size) in bus's "ranges"; rewrites addr into the space of parent. */
static int ranges_lookup(const void *fdt, int bus, int parent, uint64_t *addr, uint64_t size)
{
	int len;
	const fdt32_t *r = fdtr_getprop(fdt, bus, "ranges", &len);
	if (!r)
		return -ENOENT; /* the bus is not memory-mapped into its parent */
	if (len == 0)
		return 0; /* identity */
	int cac = fdtr_address_cells(fdt, bus), csc = fdtr_size_cells(fdt, bus);
	int pac = fdtr_address_cells(fdt, parent);
	if (cac < 1 || csc < 1 || pac < 1)
		return -EINVAL;
	int stride = cac + pac + csc;
	if (len % (stride * 4) != 0)
		return -EINVAL;
	for (int i = 0; i < len / 4; i += stride) {
		uint64_t child, dest, rsize;
		if (!read_cells(r + i, cac, &child) || !read_cells(r + i + cac, pac, &dest) ||
		    !read_cells(r + i + cac + pac, csc, &rsize))
			continue;
		if (*addr < child || *addr - child > rsize || size > rsize - (*addr - child))
			continue;
		if (dest + (*addr - child) < dest || dest + (*addr - child) + size < dest)
			return -ERANGE;
		*addr = dest + (*addr - child);
		return 0;
	}
	return -ENOENT;
}

/* Translates an address on the node's parent bus up to the root (the CPU's address space). */
static int translate(const struct node_ctx *c, uint64_t *addr, uint64_t size)
{
	for (int bus = c->depth - 1; bus > 0; bus--) { /* the root's children: CPU addresses */
		int err = ranges_lookup(c->fdt, c->path[bus], c->path[bus - 1], addr, size);
		if (err)
			return err;
	}
	return 0;
}

/* The node's first "reg" entry as a CPU physical window. */
static int node_window(const struct node_ctx *c, struct mmio_desc *d, const char **why)
{
	int parent = c->path[c->depth - 1], len;
	/* Every virtio-mmio node of QEMU virt has the root as parent: look its cells up once. */
	if (parent != memo.cells_node) {
		memo.ac = fdtr_address_cells(c->fdt, parent);
		memo.sc = fdtr_size_cells(c->fdt, parent);
		memo.cells_node = parent;
	}
	int ac = memo.ac, sc = memo.sc;
	if (ac < 1 || ac > 4 || sc < 1 || sc > 4) {
		*why = "parent's #address-cells/#size-cells unusable";
		return -EINVAL;
	}
	const fdt32_t *reg = fdtr_getprop(c->fdt, c->node, "reg", &len);
	if (!reg || len <= 0 || len % ((ac + sc) * 4) != 0) {
		*why = "no reg, or reg not a whole number of (address, size) entries";
		return -EINVAL;
	}
	if (!read_cells(reg, ac, &d->base) || !read_cells(reg + ac, sc, &d->size)) {
		*why = "reg does not fit in 64 bits";
		return -ERANGE;
	}
	if (d->size == 0 || d->base + d->size < d->base) {
		*why = "reg is empty or wraps around";
		return -EINVAL;
	}
	if (translate(c, &d->base, d->size) < 0) {
		*why = "reg does not translate to a CPU address through the parents' ranges";
		return -EINVAL;
	}
	return 0;
}

/* The phandle in "interrupt-parent" of path[depth] or of its nearest ancestor that has one. */
static uint32_t inherited_interrupt_parent(const void *fdt, const int *path, int depth)
{
	for (; depth >= 0; depth--) {
		int len;
		const fdt32_t *p = fdtr_getprop(fdt, path[depth], "interrupt-parent", &len);
		if (p)
			return len == 4 ? fdt32_ld(p) : 0;
	}
	return 0;
}

/* The node's interrupt parent (DT spec §2.4.1), the parent's remembered for its siblings. */
static uint32_t interrupt_parent(const struct node_ctx *c)
{
	int len, parent = c->path[c->depth - 1];
	const fdt32_t *p = fdtr_getprop(c->fdt, c->node, "interrupt-parent", &len);
	if (p)
		return len == 4 ? fdt32_ld(p) : 0;
	if (parent != memo.iparent_node) {
		memo.iparent = inherited_interrupt_parent(c->fdt, c->path, c->depth - 1);
		memo.iparent_node = parent;
	}
	return memo.iparent;
}

static bool is_gic(const void *fdt, int ctrl)
{
	static const char *const compatible[] = {
	    "arm,gic-v3",        "arm,gic-400",       "arm,cortex-a15-gic",
	    "arm,cortex-a9-gic", "arm,cortex-a7-gic", "arm,pl390",
	};
	if (!fdtr_getprop(fdt, ctrl, "interrupt-controller", NULL))
		return false;
	for (size_t i = 0; i < sizeof(compatible) / sizeof(compatible[0]); i++)
		if (fdtr_node_check_compatible(fdt, ctrl, compatible[i]) == 0)
			return true;
	return false;
}

/* NULL if ctrl is a GIC with 3-cell specifiers, else what is wrong with it. */
static const char *ctrl_problem(const void *fdt, int ctrl)
{
	int cells;
	const fdt32_t *nc = ctrl >= 0 ? fdtr_getprop(fdt, ctrl, "#interrupt-cells", &cells) : NULL;
	if (!nc || cells != 4)
		return "interrupt controller not found";
	if (fdt32_ld(nc) != 3 || !is_gic(fdt, ctrl))
		return "interrupt controller is not a GIC with 3-cell specifiers";
	return NULL;
}

/* A GIC (type, number, flags) specifier as a GIC interrupt ID (GICv3 arch spec §2.2). */
static int gic_decode(const fdt32_t *spec, struct mmio_desc *d)
{
	uint32_t type = fdt32_ld(&spec[0]), n = fdt32_ld(&spec[1]);
	static const struct {
		uint32_t first, count;
	} range[] = {[GIC_SPI] = {32, 988},
	             [GIC_PPI] = {16, 16},
	             [GIC_ESPI] = {4096, 1024},
	             [GIC_EPPI] = {1056, 64}};
	if (type >= sizeof(range) / sizeof(range[0]) || n >= range[type].count)
		return -EINVAL;
	d->irq = range[type].first + n;
	d->irq_flags = fdt32_ld(&spec[2]) & 0xf; /* IRQ_TYPE_* trigger bits */
	return 0;
}

/* The interrupt specifier (first entry) and its controller, from either property form. */
static const fdt32_t *interrupt_spec(const struct node_ctx *c, int *ctrl, const char **why)
{
	int len;
	const fdt32_t *p = fdtr_getprop(c->fdt, c->node, "interrupts-extended", &len);
	if (p) {
		*ctrl = len >= 4 ? phandle_node(c->fdt, fdt32_ld(p)) : -1;
		p++;
		len -= 4;
	} else {
		p = fdtr_getprop(c->fdt, c->node, "interrupts", &len);
		if (!p) {
			*why = NULL; /* no interrupt at all: legitimately polled */
			return NULL;
		}
		*ctrl = phandle_node(c->fdt, interrupt_parent(c));
	}
	if (*ctrl < 0 || *ctrl != memo.ctrl) {
		memo.ctrl_why = ctrl_problem(c->fdt, *ctrl);
		memo.ctrl = *ctrl;
	}
	if (memo.ctrl_why) {
		*why = memo.ctrl_why;
		return NULL;
	}
	if (len < 12) {
		*why = "interrupt specifier shorter than 3 cells";
		return NULL;
	}
	return p;
}

static void node_interrupt(const struct node_ctx *c, struct mmio_desc *d)
{
	const char *why = NULL;
	int ctrl;
	const fdt32_t *spec = interrupt_spec(c, &ctrl, &why);
	if (spec && gic_decode(spec, d) == 0)
		return;
	if (spec)
		why = "GIC interrupt type or number out of range";
	if (!why)
		return;
	c->list->bad_irqs++;
	printf("virtio-mmio: dtb: %s: interrupt unusable (%s), the device will be polled\n",
	       c->name, why);
}

static void scan_node(const void *fdt, const int *path, int depth, struct mmio_list *l)
{
	int node = path[depth];
	struct node_ctx c = {fdt, node, fdtr_get_name(fdt, node, NULL), l, path, depth};
	if (!c.name)
		c.name = "?";
	struct mmio_desc d = {.id = -1, .source = "dtb"};
	const char *why;
	if (node_window(&c, &d, &why) < 0 || mmio_list_add(l, &d, &why) < 0) {
		mmio_list_reject(l, "dtb", c.name, why);
		return;
	}
	node_interrupt(&c, &l->dev[l->count - 1]);
}

/*
 * Every enabled virtio,mmio node of a blob that has passed fdtr_check_full,
 * in one walk. The root is not a device; a node nested deeper than
 * MAX_DEPTH is refused (no VMM writes such a tree).
 */
static int scan_checked(const void *fdt, struct mmio_list *l)
{
	int path[MAX_DEPTH], depth = -1; /* the root is depth 0 */
	unsigned before = l->count;
	memo_forget();
	/* After the root's end the walk returns an offset >= 0 with depth -1. */
	for (int node = fdtr_next_node(fdt, -1, &depth); node >= 0 && depth >= 0;
	     node = fdtr_next_node(fdt, node, &depth)) {
		if (depth < MAX_DEPTH)
			path[depth] = node;
		if (depth == 0 || fdtr_node_check_compatible(fdt, node, "virtio,mmio") != 0 ||
		    !fdtr_node_enabled(fdt, node))
			continue;
		if (depth < MAX_DEPTH)
			scan_node(fdt, path, depth, l);
		else
			mmio_list_reject(l, "dtb", fdtr_get_name(fdt, node, NULL),
			                 "nested too deep");
	}
	return (int)(l->count - before);
}

int mmio_dtb_scan(const void *fdt, size_t size, struct mmio_list *l)
{
	/* fdt_check_header reads the whole version 17 header: make sure it is there. */
	if (!fdt || size < sizeof(struct fdt_header) || fdtr_check_full(fdt, size) != 0)
		return -EINVAL;
	return scan_checked(fdt, l);
}

/*
 * boot_info.dtb is set only for a blob the arch checked as a whole at boot
 * (aarch64's dtb_validate: fdtr_check_full within its totalsize). A second
 * full check here would cost another walk of the tree (~0.3 ms under TCG);
 * the magic is checked again in case a caller hands over something else.
 */
int mmio_dtb_boot_scan(const void *fdt, struct mmio_list *l)
{
	if (!fdt || fdt_magic(fdt) != FDT_MAGIC)
		return -EINVAL;
	return scan_checked(fdt, l);
}
