/*
 * GICv3 (IHI 0069): the distributor with affinity routing, one
 * redistributor per CPU (found by its MPIDR affinity in GICR_TYPER), and
 * the system-register CPU interface (ICC_*_EL1). MSIs go through the ITS
 * (gicv3_its.c).
 *
 * Everything is Non-secure group 1: with a single security state
 * (GICD_CTLR.DS = 1, QEMU virt without secure=on) that is simply group 1,
 * and under secure firmware it is the group Non-secure EL1 owns. EOImode 0:
 * writing ICC_EOIR1_EL1 drops the priority and deactivates.
 *
 * irq.c serialises every distributor update (its lock); a redistributor's
 * SGI/PPI registers and the CPU interface are only touched by their CPU.
 */
#include <libfdt.h>

#include "aarch64.h"
#include "fdt_read.h"
#include "gic_reg.h"
#include "rt.h"

#define GICD_SIZE          0x10000
#define MAX_REDIST_REGIONS 8
#define RWP_SPIN_LIMIT     1000000 /* register-write-pending polls before giving up */
#define WAKE_SPIN_LIMIT    1000000

static uintptr_t dist;
static unsigned lines;
static struct {
	uint64_t base, size;
} regions[MAX_REDIST_REGIONS];
static unsigned region_count;
static uint64_t redist_stride;          /* "redistributor-stride", 0 = from GICR_TYPER */
static uintptr_t redist[ARCH_MAX_CPUS]; /* RD_base of each CPU; written by that CPU */

#define sysreg_read(name)                                                                          \
	({                                                                                         \
		uint64_t v_;                                                                       \
		__asm__ volatile("mrs %0, " name : "=r"(v_));                                      \
		v_;                                                                                \
	})
#define sysreg_write(name, v) __asm__ volatile("msr " name ", %0" : : "r"((uint64_t)(v)) : "memory")

uintptr_t gicv3_redist(unsigned cpu)
{
	return cpu < ARCH_MAX_CPUS ? redist[cpu] : 0;
}

/* Wait out GICD_CTLR.RWP / GICR_CTLR.RWP (12.9.4, 12.11.2) so a disable has taken effect. */
static void wait_rwp(uintptr_t ctlr, uint32_t bit)
{
	for (int i = 0; i < RWP_SPIN_LIMIT && (mmio_read32(ctlr) & bit); i++)
		cpu_relax();
}

static uintptr_t sgi_base(void)
{
	return redist[arch_cpu_id()] + GICR_SGI_BASE;
}

/* SGIs and PPIs live in this CPU's redistributor; SPIs in the distributor. */
static void v3_enable(unsigned intid, bool on)
{
	uint32_t bit = 1u << (intid % 32);
	if (intid < GIC_SPI_FIRST) {
		mmio_write32(sgi_base() + (on ? GICR_ISENABLER0 : GICR_ICENABLER0), bit);
		if (!on)
			wait_rwp(redist[arch_cpu_id()] + GICR_CTLR, GICR_CTLR_RWP);
		return;
	}
	mmio_write32(dist + (on ? GICD_ISENABLER : GICD_ICENABLER) + 4 * (intid / 32), bit);
	if (!on)
		wait_rwp(dist + GICD_CTLR, GICD_CTLR_RWP);
}

/* Set `width` bits of INTID's field in a bank of registers (ICFGR, IPRIORITYR). */
static void field_write(uintptr_t bank, unsigned intid, unsigned width, uint32_t value)
{
	unsigned per_word = 32 / width, shift = (intid % per_word) * width;
	uintptr_t reg = bank + 4 * (intid / per_word);
	uint32_t mask = ((1u << width) - 1) << shift;
	mmio_write32(reg, (mmio_read32(reg) & ~mask) | (value << shift & mask));
}

/*
 * A line about to be enabled: its trigger (ICFGR, 12.9.9 and 12.11.7: bit
 * 1 of the INTID's pair set = edge; SGIs are always edge) and the one
 * priority. SGIs and PPIs are in this CPU's redistributor.
 */
static void v3_configure(unsigned intid, bool edge)
{
	bool banked = intid < GIC_SPI_FIRST;
	uintptr_t base = banked ? sgi_base() : dist;
	if (intid >= GIC_SGI_COUNT)
		field_write(base + (banked ? GICR_ICFGR0 : GICD_ICFGR), intid, 2, edge ? 2 : 0);
	field_write(base + (banked ? GICR_IPRIORITYR0 : GICD_IPRIORITYR), intid, 8,
	            GIC_PRIORITY_DEFAULT);
}

static void v3_route(unsigned intid, unsigned cpu)
{
	struct cpu *c = cpu_get(cpu);
	if (intid >= GIC_SPI_FIRST && intid < lines && c)
		mmio_write64(dist + GICD_IROUTER + 8 * intid, GICD_IROUTER_AFF(c->hw_id));
}

static unsigned v3_ack(uint32_t *iar)
{
	*iar = (uint32_t)sysreg_read(ICC_IAR1_EL1);
	__asm__ volatile("dsb sy" : : : "memory"); /* the acknowledge before the handler's loads */
	return *iar & ICC_IAR1_INTID;
}

static void v3_eoi(uint32_t iar)
{
	sysreg_write(ICC_EOIR1_EL1, iar);
	isb();
}

/*
 * ICC_SGI1R_EL1 (12.2.23) names the target by Aff3.Aff2.Aff1 and a bit for
 * Aff0 within a range of 16 (RS). A system register write is not ordered by
 * DMB, so DSB first: the target must see what was stored before the IPI.
 */
static void v3_send_sgi(unsigned cpu, unsigned sgi)
{
	struct cpu *c = cpu_get(cpu);
	if (!c)
		return;
	uint32_t aff = c->hw_id, aff0 = aff & 0xff;
	uint64_t v = (uint64_t)sgi << ICC_SGI1R_INTID_SHIFT |
	             (uint64_t)((aff >> 8) & 0xff) << ICC_SGI1R_AFF1_SHIFT |
	             (uint64_t)((aff >> 16) & 0xff) << ICC_SGI1R_AFF2_SHIFT |
	             (uint64_t)(aff >> 24) << ICC_SGI1R_AFF3_SHIFT |
	             (uint64_t)(aff0 / 16) << ICC_SGI1R_RS_SHIFT | 1u << (aff0 % 16);
	__asm__ volatile("dsb ishst" : : : "memory");
	sysreg_write(ICC_SGI1R_EL1, v);
	isb();
}

/* This CPU's redistributor: the frame whose GICR_TYPER affinity is ours (12.10.33). */
static uintptr_t find_redist(uint32_t aff)
{
	for (unsigned r = 0; r < region_count; r++) {
		uint64_t end = regions[r].base + regions[r].size;
		for (uint64_t rd = regions[r].base; rd + GICR_FRAME_SIZE <= end;) {
			uint64_t typer = mmio_read64(rd + GICR_TYPER);
			if (GICR_TYPER_AFF(typer) == aff)
				return rd;
			if (typer & GICR_TYPER_LAST)
				break;
			rd += redist_stride                ? redist_stride
			      : (typer & GICR_TYPER_VLPIS) ? GICR_FRAME_SIZE_VLPI
			                                   : GICR_FRAME_SIZE;
		}
	}
	return 0;
}

/* Mark the CPU awake so the redistributor forwards to it (12.11.42 GICR_WAKER). */
static int redist_wake(uintptr_t rd)
{
	mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~GICR_WAKER_SLEEP);
	for (int i = 0; i < WAKE_SPIN_LIMIT; i++) {
		if (!(mmio_read32(rd + GICR_WAKER) & GICR_WAKER_ASLEEP))
			return 0;
		cpu_relax();
	}
	return -ETIMEDOUT;
}

/* The system-register interface (ICC_SRE_EL1.SRE, 12.2.21): required, memory-mapped is not used. */
static int cpuif_init(void)
{
	sysreg_write(ICC_SRE_EL1,
	             sysreg_read(ICC_SRE_EL1) | ICC_SRE_SRE | ICC_SRE_DFB | ICC_SRE_DIB);
	isb();
	if (!(sysreg_read(ICC_SRE_EL1) & ICC_SRE_SRE))
		return -ENODEV;
	sysreg_write(ICC_PMR_EL1, GIC_PRIORITY_MASK_ALL);
	sysreg_write(ICC_BPR1_EL1, 0);
	sysreg_write(ICC_CTLR_EL1, 0); /* EOImode 0, CBPR 0 */
	sysreg_write(ICC_IGRPEN1_EL1, 1);
	isb();
	return 0;
}

static int v3_cpu_init(void)
{
	unsigned id = arch_cpu_id();
	uint32_t aff = cpu_affinity(read_sysreg(mpidr_el1));
	uintptr_t rd = find_redist(aff);
	if (!rd) {
		printf("gicv3: no redistributor for cpu %u (affinity %#x)\n", id, aff);
		return -ENODEV;
	}
	redist[id] = rd;
	if (redist_wake(rd) != 0) {
		printf("gicv3: cpu %u's redistributor does not wake up\n", id);
		return -ETIMEDOUT;
	}
	uintptr_t sgi = rd + GICR_SGI_BASE;
	mmio_write32(sgi + GICR_IGROUPR0, ~0u);
	mmio_write32(sgi + GICR_ICENABLER0, ~0u);
	wait_rwp(rd + GICR_CTLR, GICR_CTLR_RWP);
	int err = cpuif_init();
	if (err) {
		printf("gicv3: cpu %u has no system register interface\n", id);
		return err;
	}
	its_cpu_init(id);
	return 0;
}

/*
 * Every SPI group 1, disabled, not pending, not active. Trigger, priority
 * and route are set when irq.c enables a line (configure, route): under
 * TCG each register write is an exit to QEMU, and a bulk pass over all of
 * them (IROUTER is 64 bits per SPI) would cost most of a millisecond.
 */
static void spis_reset(void)
{
	for (unsigned i = GIC_SPI_FIRST; i < lines; i += 32) {
		mmio_write32(dist + GICD_IGROUPR + i / 8, ~0u);
		mmio_write32(dist + GICD_ICENABLER + i / 8, ~0u);
		mmio_write32(dist + GICD_ICPENDR + i / 8, ~0u);
		mmio_write32(dist + GICD_ICACTIVER + i / 8, ~0u);
	}
	wait_rwp(dist + GICD_CTLR, GICD_CTLR_RWP);
}

/* reg[0] distributor, reg[1..n] redistributor regions (n = #redistributor-regions). */
static int parse_regions(const void *fdt, int node)
{
	int len;
	const fdt32_t *p = fdtr_getprop(fdt, node, "#redistributor-regions", &len);
	unsigned n = p && len == 4 ? fdt32_ld(p) : 1;
	if (n == 0 || n > MAX_REDIST_REGIONS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		uint64_t base, size;
		if (dtb_reg_parent(fdt, node, dtb_nodes.gic_parent, (int)i + 1, &base, &size) !=
		        0 ||
		    !dtb_range_device_mapped(base, size))
			return -EINVAL;
		regions[region_count++] = (typeof(regions[0])){base, size};
	}
	p = fdtr_getprop(fdt, node, "redistributor-stride", &len);
	if (p && len == 8)
		redist_stride = (uint64_t)fdt32_ld(p) << 32 | fdt32_ld(p + 1);
	if (redist_stride % 0x10000 != 0)
		return -EINVAL;
	return 0;
}

static int v3_init(const void *fdt, int node, unsigned *out_lines, const struct gic_msi **msi)
{
	uint64_t d, dsize;
	if (dtb_reg_parent(fdt, node, dtb_nodes.gic_parent, 0, &d, &dsize) != 0 ||
	    dsize < GICD_SIZE || !dtb_range_device_mapped(d, GICD_SIZE) ||
	    parse_regions(fdt, node) != 0)
		return -EINVAL;
	dist = d;
	unsigned rev = (mmio_read32(dist + GICD_PIDR2) >> 4) & 0xf;
	if (rev != 3 && rev != 4)
		return -ENODEV;
	mmio_write32(dist + GICD_CTLR, 0);
	wait_rwp(dist + GICD_CTLR, GICD_CTLR_RWP);
	lines = 32 * (GICD_TYPER_ITLINES(mmio_read32(dist + GICD_TYPER)) + 1);
	if (lines > GIC_SPI_LIMIT)
		lines = GIC_SPI_LIMIT;
	spis_reset();
	mmio_write32(dist + GICD_CTLR,
	             GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A | GICD_CTLR_ENABLE_G1);
	wait_rwp(dist + GICD_CTLR, GICD_CTLR_RWP);
	*out_lines = lines;
	*msi = its_probe(fdt, node);
	return 0;
}

const struct gic_ops gicv3_ops = {
    .name = "gicv3",
    .init = v3_init,
    .cpu_init = v3_cpu_init,
    .ack = v3_ack,
    .eoi = v3_eoi,
    .enable = v3_enable,
    .configure = v3_configure,
    .route = v3_route,
    .send_sgi = v3_send_sgi,
};
