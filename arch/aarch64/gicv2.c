/*
 * GICv2 (IHI 0048B): the distributor and the memory-mapped CPU interface,
 * and the GICv2m MSI frame QEMU virt puts beside it (SBSA, appendix
 * "GICv2m"), whose SPIs a device raises by writing their INTID.
 *
 * Every interrupt stays in group 0, which a GIC without the security
 * extensions (QEMU virt without secure=on) signals as IRQ when
 * GICC_CTLR.FIQEn is 0. EOImode 0: the EOIR write both drops the running
 * priority and deactivates. A GICv2 has at most 8 CPU interfaces, each
 * named by one bit of a target mask; a CPU reads its own bit from the
 * banked GICD_ITARGETSR0 (4.3.12).
 *
 * irq.c serialises every distributor update (its lock); the banked SGI/PPI
 * registers and the CPU interface are only touched by their own CPU.
 */
#include <libfdt.h>

#include "aarch64.h"
#include "fdt_read.h"
#include "gic_reg.h"
#include "rt.h"

#define GICD_SIZE 0x1000
#define GICC_SIZE 0x0100 /* registers used here; the interface is 8 KiB */

static uintptr_t dist, cpuif;
static unsigned lines;
static uint8_t cpu_mask[ARCH_MAX_CPUS]; /* each CPU's target bit; written by that CPU */

/* Set `width` bits of INTID's field in a bank of registers (ICFGR, IPRIORITYR, ITARGETSR). */
static void field_write(uintptr_t bank, unsigned intid, unsigned width, uint32_t value)
{
	unsigned per_word = 32 / width, shift = (intid % per_word) * width;
	uintptr_t reg = bank + 4 * (intid / per_word);
	uint32_t mask = ((1u << width) - 1) << shift;
	mmio_write32(reg, (mmio_read32(reg) & ~mask) | (value << shift & mask));
}

static void v2_enable(unsigned intid, bool on)
{
	uintptr_t reg = dist + (on ? GICD_ISENABLER : GICD_ICENABLER) + 4 * (intid / 32);
	mmio_write32(reg, 1u << (intid % 32));
}

/*
 * A line about to be enabled: its trigger (ICFGR, 4.3.13: bit 1 of the
 * INTID's pair set = edge; SGIs are always edge) and the one priority.
 */
static void v2_configure(unsigned intid, bool edge)
{
	if (intid >= GIC_SGI_COUNT)
		field_write(dist + GICD_ICFGR, intid, 2, edge ? 2 : 0);
	field_write(dist + GICD_IPRIORITYR, intid, 8, GIC_PRIORITY_DEFAULT);
}

static void v2_route(unsigned intid, unsigned cpu)
{
	if (intid >= GIC_SPI_FIRST && cpu < ARCH_MAX_CPUS)
		field_write(dist + GICD_ITARGETSR, intid, 8, cpu_mask[cpu]);
}

static unsigned v2_ack(uint32_t *iar)
{
	*iar = mmio_read32(cpuif + GICC_IAR);
	return *iar & GICC_IAR_INTID;
}

static void v2_eoi(uint32_t iar)
{
	mmio_write32(cpuif + GICC_EOIR, iar); /* the whole IAR: an SGI's source CPU too */
}

/* The SGI's target bit in GICD_SGIR (4.3.15); DMB first so the target sees earlier stores. */
static void v2_send_sgi(unsigned cpu, unsigned sgi)
{
	if (cpu >= ARCH_MAX_CPUS || !cpu_mask[cpu])
		return;
	__asm__ volatile("dmb ishst" : : : "memory");
	mmio_write32(dist + GICD_SGIR,
	             GICD_SGIR_TARGET_LIST | (uint32_t)cpu_mask[cpu] << GICD_SGIR_CPU_SHIFT | sgi);
}

/* The banked SGI/PPI state and the CPU interface of the calling CPU. */
static int v2_cpu_init(void)
{
	unsigned id = arch_cpu_id();
	uint8_t mask = mmio_read32(dist + GICD_ITARGETSR) & 0xff;
	cpu_mask[id] = mask ? mask : 1; /* RAZ on a uniprocessor GIC (4.3.12) */
	mmio_write32(dist + GICD_ICENABLER, ~0u);
	mmio_write32(dist + GICD_ICPENDR, ~0u);
	mmio_write32(dist + GICD_ICACTIVER, ~0u);
	mmio_write32(cpuif + GICC_PMR, GIC_PRIORITY_MASK_ALL);
	mmio_write32(cpuif + GICC_BPR, 0);
	mmio_write32(cpuif + GICC_CTLR, GICC_CTLR_ENABLE);
	return 0;
}

/*
 * Every SPI disabled, not pending, not active. Trigger, priority and target
 * are set when irq.c enables a line (configure, route): under TCG each
 * register write is an exit to QEMU, and a bulk pass over all of them would
 * cost most of a millisecond at boot.
 */
static void spis_reset(void)
{
	for (unsigned i = GIC_SPI_FIRST; i < lines; i += 32) {
		mmio_write32(dist + GICD_ICENABLER + i / 8, ~0u);
		mmio_write32(dist + GICD_ICPENDR + i / 8, ~0u);
		mmio_write32(dist + GICD_ICACTIVER + i / 8, ~0u);
	}
}

/* ---- GICv2m: SPIs [base, base + count) raised by a write of the INTID to MSI_SETSPI_NS ---- */

static struct {
	uint64_t frame;
	unsigned base, count;
} v2m;

static int v2m_setup(unsigned index, unsigned cpu, uint32_t requester_id, struct arch_msi *msg)
{
	(void)requester_id;
	unsigned intid = v2m.base + index;
	if (index >= v2m.count)
		return -EINVAL;
	v2_configure(intid, true); /* a message is an edge */
	v2_route(intid, cpu);
	/* A message written after the last owner's teardown may have left it pending. */
	mmio_write32(dist + GICD_ICPENDR + 4 * (intid / 32), 1u << (intid % 32));
	v2_enable(intid, true);
	msg->address = v2m.frame + V2M_MSI_SETSPI_NS;
	msg->data = intid;
	return 0;
}

static void v2m_teardown(unsigned index)
{
	if (index < v2m.count)
		v2_enable(v2m.base + index, false);
}

static struct gic_msi v2m_msi = {"gicv2m", 0, 0, v2m_setup, v2m_teardown};

/* A one-cell property, or def. */
static uint32_t prop_u32(const void *fdt, int node, const char *name, uint32_t def)
{
	int len;
	const fdt32_t *p = fdtr_getprop(fdt, node, name, &len);
	return p && len == 4 ? fdt32_ld(p) : def;
}

/* The first enabled "arm,gic-v2m-frame" child; its SPI range from MSI_TYPER or the DTB. */
static const struct gic_msi *v2m_probe(const void *fdt, int gic_node)
{
	int node;
	fdtr_for_each_subnode(node, fdt, gic_node)
	{
		uint64_t base, size;
		if (fdtr_node_check_compatible(fdt, node, "arm,gic-v2m-frame") != 0 ||
		    !fdtr_node_enabled(fdt, node) ||
		    dtb_reg_parent(fdt, node, gic_node, 0, &base, &size) != 0 ||
		    size < V2M_FRAME_SIZE || !dtb_range_device_mapped(base, V2M_FRAME_SIZE))
			continue;
		uint32_t typer = mmio_read32(base + V2M_MSI_TYPER);
		v2m.frame = base;
		v2m.base = prop_u32(fdt, node, "arm,msi-base-spi", V2M_MSI_TYPER_BASE(typer));
		v2m.count = prop_u32(fdt, node, "arm,msi-num-spis", V2M_MSI_TYPER_NUMBER(typer));
		if (v2m.base < GIC_SPI_FIRST || v2m.count == 0 || v2m.base + v2m.count > lines) {
			printf("gicv2m: frame at %#lx: SPIs %u+%u outside the GIC's %u\n",
			       (unsigned long)base, v2m.base, v2m.count, lines);
			return NULL;
		}
		v2m_msi.first_intid = v2m.base;
		v2m_msi.count = v2m.count;
		return &v2m_msi;
	}
	return NULL;
}

/* reg[0] is the distributor, reg[1] the CPU interface (arm,gic.yaml). */
static int v2_init(const void *fdt, int node, unsigned *out_lines, const struct gic_msi **msi)
{
	uint64_t d, dsize, c, csize;
	int parent = dtb_nodes.gic_parent;
	if (dtb_reg_parent(fdt, node, parent, 0, &d, &dsize) != 0 ||
	    dtb_reg_parent(fdt, node, parent, 1, &c, &csize) != 0 || dsize < GICD_SIZE ||
	    csize < GICC_SIZE)
		return -EINVAL;
	if (!dtb_range_device_mapped(d, GICD_SIZE) || !dtb_range_device_mapped(c, GICC_SIZE))
		return -ERANGE;
	dist = d;
	cpuif = c;
	mmio_write32(dist + GICD_CTLR, 0);
	lines = 32 * (GICD_TYPER_ITLINES(mmio_read32(dist + GICD_TYPER)) + 1);
	if (lines > GIC_SPI_LIMIT)
		lines = GIC_SPI_LIMIT;
	spis_reset();
	mmio_write32(dist + GICD_CTLR, GICD_CTLR_ENABLE);
	*out_lines = lines;
	*msi = v2m_probe(fdt, node);
	return 0;
}

const struct gic_ops gicv2_ops = {
    .name = "gicv2",
    .init = v2_init,
    .cpu_init = v2_cpu_init,
    .ack = v2_ack,
    .eoi = v2_eoi,
    .enable = v2_enable,
    .configure = v2_configure,
    .route = v2_route,
    .send_sgi = v2_send_sgi,
};
