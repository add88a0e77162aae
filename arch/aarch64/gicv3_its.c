/*
 * The GICv3 Interrupt Translation Service (IHI 0069, chapter 5 and 12.19):
 * MSIs as LPIs. A PCI function writes an EventID to GITS_TRANSLATER; the
 * ITS looks its DeviceID (the requester ID through the DTB's msi-map) up in
 * the device table, finds the device's interrupt translation table (ITT),
 * and the entry there names the LPI and the collection (one per CPU, ICID =
 * cpu id) whose redistributor takes it.
 *
 * Nothing is allocated until the first MSI is asked for: then the command
 * queue, the device and collection tables, the LPI configuration table and
 * each CPU's LPI pending table come from the page allocator. LPIs 8192 +
 * index, index < ITS_LPIS, are irq.c's MSI handles; LPI_ID_BITS = 14 is the
 * architectural minimum, so the tables are 8 KiB of configuration and
 * 2 KiB of pending bits per CPU (in a 64 KiB block: GICR_PENDBASER's
 * alignment).
 *
 * Locking: its_lock guards everything here; arch_msi_alloc/free call in
 * with irq.c's lock held (always taken first).
 */
#include <libfdt.h>
#include <string.h>

#include "aarch64.h"
#include "fdt_read.h"
#include "gic_reg.h"
#include "rt.h"

#define ITS_LPIS       256 /* MSI handles: LPIs 8192 .. 8192 + 255 */
#define ITS_DEVICES    64  /* DeviceIDs with an ITT at once */
#define ITS_EVENTS_MAX 256 /* EventIDs per device: one page of ITT */
#define LPI_ID_BITS    14  /* INTIDs below 16384 (the minimum, 5.1.1) */
#define LPI_PROP_BYTES ((1u << LPI_ID_BITS) - GIC_LPI_FIRST)
#define LPI_PEND_BYTES ((1u << LPI_ID_BITS) / 8)
#define LPI_PEND_ORDER 4 /* 64 KiB */
#define CMDQ_BYTES     PAGE_SIZE
#define CMDQ_SLOTS     (CMDQ_BYTES / GITS_CMD_SIZE)
#define CMD_TIMEOUT_NS 1000000000ull
#define DT_FLAT_MAX    (16 * PAGE_SIZE) /* a flat device table covers at most this much */
#define CREADR_OFFSET  0xfffe0ull       /* GITS_CREADR/CWRITER offset bits [19:5] */
#define RDBASE_SHIFT   16
#define LPI_PROP_OFF   (GIC_PRIORITY_DEFAULT | LPI_PROP_RES1) /* a disabled LPI's entry */

struct its_device {
	bool used;
	uint32_t devid;
	void *itt;
	unsigned events; /* a power of two */
	uint64_t busy[ITS_EVENTS_MAX / 64];
};

static struct {
	uintptr_t base;
	uint64_t typer;
	int node;
	int state;  /* 0 not started, 1 running, < 0 failed for good (-errno) */
	bool flush; /* the ITS or redistributors do not snoop: clean what they read */
	uint64_t *cmdq;
	unsigned cmd_next;
	uint8_t *prop;
	unsigned page; /* the ITS tables' page size */
	struct {
		uint64_t *table;
		unsigned entry;
		bool indirect;
		uint32_t ids; /* DeviceIDs the table covers */
	} dt;
	uint64_t rdbase[ARCH_MAX_CPUS]; /* MAPC/SYNC target field; 0 until that CPU has LPIs */
	bool lpis_on[ARCH_MAX_CPUS];
} its;
static struct its_device devices[ITS_DEVICES];
static struct {
	struct its_device *dev;
	uint32_t event;
	unsigned cpu;
} lpis[ITS_LPIS];
static volatile int its_lock;

/* ---- memory the ITS and redistributors read ---- */

/* Make [p, p + len) visible to the GIC before the command or register write that uses it. */
static void publish(const void *p, size_t len)
{
	if (its.flush) {
		size_t line = 4u << ((read_sysreg(ctr_el0) >> 16) & 0xf);
		for (uintptr_t a = (uintptr_t)p & ~(line - 1); a < (uintptr_t)p + len; a += line)
			__asm__ volatile("dc cvac, %0" : : "r"(a) : "memory");
	}
	__asm__ volatile("dsb ishst" : : : "memory");
}

static unsigned order_of(size_t bytes)
{
	unsigned order = 0;
	while ((PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

/* Zeroed pages, naturally aligned (the buddy allocator's blocks are), or NULL. */
static void *table_alloc(size_t bytes)
{
	void *p = page_alloc(order_of(bytes));
	if (p) {
		memset(p, 0, PAGE_SIZE << order_of(bytes));
		publish(p, PAGE_SIZE << order_of(bytes));
	}
	return p;
}

/* ---- the command queue (5.3) ---- */

static int cmd_wait_slot(unsigned next)
{
	uint64_t end = arch_time_ns() + CMD_TIMEOUT_NS;
	while ((mmio_read64(its.base + GITS_CREADR) & CREADR_OFFSET) / GITS_CMD_SIZE == next) {
		if (arch_time_ns() > end)
			return -ETIMEDOUT;
		cpu_relax();
	}
	return 0;
}

static int its_cmd(uint64_t d0, uint64_t d1, uint64_t d2)
{
	unsigned next = (its.cmd_next + 1) % CMDQ_SLOTS;
	int err = cmd_wait_slot(next); /* the queue is full while the ITS still reads there */
	if (err)
		return err;
	uint64_t *c = &its.cmdq[its.cmd_next * (GITS_CMD_SIZE / 8)];
	c[0] = d0;
	c[1] = d1;
	c[2] = d2;
	c[3] = 0;
	publish(c, GITS_CMD_SIZE);
	its.cmd_next = next;
	mmio_write64(its.base + GITS_CWRITER, (uint64_t)next * GITS_CMD_SIZE);
	return 0;
}

/* Until the ITS has read every command written (a SYNC among them means: and done it). */
static int its_wait(void)
{
	uint64_t want = (uint64_t)its.cmd_next * GITS_CMD_SIZE,
	         end = arch_time_ns() + CMD_TIMEOUT_NS;
	for (;;) {
		uint64_t r = mmio_read64(its.base + GITS_CREADR);
		if (r & GITS_CREADR_STALLED) {
			printf("its: command queue stalled at %#lx\n",
			       (unsigned long)(r & CREADR_OFFSET));
			return -EIO;
		}
		if ((r & CREADR_OFFSET) == want)
			return 0;
		if (arch_time_ns() > end)
			return -ETIMEDOUT;
		cpu_relax();
	}
}

static uint64_t cmd_dev(unsigned cmd, uint32_t devid)
{
	return cmd | (uint64_t)devid << 32;
}

/* ---- tables: command queue, device and collection tables (GITS_CBASER, GITS_BASER<n>) ---- */

static int cmdq_setup(void)
{
	its.cmdq = table_alloc(CMDQ_BYTES);
	if (!its.cmdq)
		return -ENOMEM;
	uint64_t v = virt_to_phys(its.cmdq) | GITS_CBASER_VALID | GITS_BASER_INNER_WBWA |
	             GIC_BASER_INNER_SH | (CMDQ_BYTES / PAGE_SIZE - 1);
	mmio_write64(its.base + GITS_CBASER, v);
	if (!(mmio_read64(its.base + GITS_CBASER) & GIC_BASER_SH_MASK))
		its.flush = true;
	mmio_write64(its.base + GITS_CWRITER, 0);
	return 0;
}

/* The first of 4K, 16K, 64K this BASER keeps (12.19.1: Page_Size may be fixed); its bytes. */
static unsigned baser_page(unsigned n, uint64_t baser, uint64_t *field)
{
	for (uint64_t f = 0; f < 3; f++) {
		mmio_write64(its.base + GITS_BASER(n), (baser & ~GITS_BASER_PAGE_MASK) | f << 8);
		if (((mmio_read64(its.base + GITS_BASER(n)) & GITS_BASER_PAGE_MASK) >> 8) == f) {
			*field = f << 8;
			return PAGE_SIZE << (2 * f);
		}
	}
	return 0;
}

/* Point BASER<n> at `pages` pages of `table`; false if the ITS would not take it. */
static bool baser_set(unsigned n, uint64_t baser, uint64_t page_field, void *table, unsigned pages,
                      bool indirect)
{
	uint64_t ro = baser & ((7ull << 56) | (0x1full << 48)); /* Type, Entry_Size */
	uint64_t v = ro | GITS_BASER_VALID | (indirect ? GITS_BASER_INDIRECT : 0) |
	             GITS_BASER_INNER_WBWA | GIC_BASER_INNER_SH | page_field | virt_to_phys(table) |
	             (pages - 1);
	mmio_write64(its.base + GITS_BASER(n), v);
	uint64_t back = mmio_read64(its.base + GITS_BASER(n));
	if (!(back & GIC_BASER_SH_MASK))
		its.flush = true;
	return (back & GITS_BASER_VALID) &&
	       (back & GITS_BASER_INDIRECT) == (v & GITS_BASER_INDIRECT);
}

/* Two levels when the ITS offers them (a page of level-2 entries per level-1 slot), else flat. */
static int device_table(unsigned n, uint64_t baser)
{
	uint64_t field;
	unsigned page = baser_page(n, baser, &field), entry = GITS_BASER_ENTRY(baser);
	unsigned bits = GITS_TYPER_DEVBITS(its.typer);
	uint64_t ids = 1ull << (bits > 24 ? 24 : bits);
	if (!page)
		return -ENODEV;
	its.page = page;
	uint64_t l1_bytes = (ids / (page / entry) + 1) * 8;
	unsigned pages = (unsigned)((l1_bytes + page - 1) / page);
	void *t = pages <= 256 ? table_alloc((size_t)pages * page) : NULL;
	if (t && baser_set(n, baser, field, t, pages, true)) {
		its.dt = (typeof(its.dt)){t, entry, true, (uint32_t)ids};
		return 0;
	}
	if (t)
		page_free(t);
	uint64_t bytes = ids * entry < DT_FLAT_MAX ? ids * entry : DT_FLAT_MAX;
	pages = (unsigned)((bytes + page - 1) / page);
	t = table_alloc((size_t)pages * page);
	if (!t || !baser_set(n, baser, field, t, pages, false))
		return -ENOMEM;
	its.dt = (typeof(its.dt)){t, entry, false, (uint32_t)((uint64_t)pages * page / entry)};
	return 0;
}

/* One collection per possible CPU, flat. */
static int collection_table(unsigned n, uint64_t baser)
{
	uint64_t field;
	unsigned page = baser_page(n, baser, &field);
	size_t bytes = ARCH_MAX_CPUS * GITS_BASER_ENTRY(baser);
	unsigned pages = page ? (unsigned)((bytes + page - 1) / page) : 0;
	void *t = pages ? table_alloc((size_t)pages * page) : NULL;
	if (!t || !baser_set(n, baser, field, t, pages, false))
		return -ENOMEM;
	return 0;
}

static int its_tables(void)
{
	int err = cmdq_setup();
	bool have_dt = false;
	for (unsigned n = 0; n < GITS_BASER_COUNT && !err; n++) {
		uint64_t baser = mmio_read64(its.base + GITS_BASER(n));
		if (GITS_BASER_TYPE(baser) == GITS_BASER_TYPE_DEVICE) {
			err = device_table(n, baser);
			have_dt = !err;
		} else if (GITS_BASER_TYPE(baser) == GITS_BASER_TYPE_COLL) {
			err = collection_table(n, baser);
		}
	}
	return err ? err : have_dt ? 0 : -ENODEV;
}

/* ---- LPIs at the redistributors (GICR_PROPBASER, GICR_PENDBASER, 5.1) ---- */

/* This CPU's redistributor takes LPIs, and its collection (ICID = cpu id) points at it. */
static int cpu_lpis(unsigned cpu)
{
	uintptr_t rd = gicv3_redist(cpu);
	uint64_t typer = rd ? mmio_read64(rd + GICR_TYPER) : 0;
	if (!(typer & GICR_TYPER_PLPIS))
		return -ENODEV;
	if (!(mmio_read32(rd + GICR_CTLR) & GICR_CTLR_ENABLE_LPIS)) {
		void *pend = table_alloc(PAGE_SIZE << LPI_PEND_ORDER);
		if (!pend)
			return -ENOMEM;
		const uint64_t attr = GICR_BASER_INNER_WBWA | GIC_BASER_INNER_SH;
		mmio_write64(rd + GICR_PROPBASER,
		             virt_to_phys(its.prop) | attr | GICR_PROPBASER_IDBITS(LPI_ID_BITS));
		mmio_write64(rd + GICR_PENDBASER, virt_to_phys(pend) | attr | GICR_PENDBASER_PTZ);
		if (!(mmio_read64(rd + GICR_PROPBASER) & GIC_BASER_SH_MASK))
			its.flush = true;
		mmio_write32(rd + GICR_CTLR, mmio_read32(rd + GICR_CTLR) | GICR_CTLR_ENABLE_LPIS);
		__asm__ volatile("dsb sy" : : : "memory");
	}
	/* RDbase: the redistributor's address (GITS_TYPER.PTA) or its processor number. */
	its.rdbase[cpu] = (its.typer & GITS_TYPER_PTA) ? virt_to_phys((void *)rd)
	                                               : GICR_TYPER_PROCNUM(typer) << RDBASE_SHIFT;
	int err = its_cmd(GITS_CMD_MAPC, 0, GITS_VALID | its.rdbase[cpu] | cpu);
	if (!err)
		err = its_cmd(GITS_CMD_SYNC, 0, its.rdbase[cpu]);
	if (!err)
		err = its_wait();
	its.lpis_on[cpu] = err == 0;
	return err;
}

/* The first MSI: every table, the ITS on, LPIs at each online CPU. */
static int its_start(void)
{
	if (its.state)
		return its.state < 0 ? its.state : 0;
	its.prop = table_alloc(LPI_PROP_BYTES);
	int err = its.prop ? its_tables() : -ENOMEM;
	if (!err) {
		memset(its.prop, LPI_PROP_OFF, LPI_PROP_BYTES);
		publish(its.prop, LPI_PROP_BYTES);
		mmio_write32(its.base + GITS_CTLR, GITS_CTLR_ENABLED);
	}
	for (unsigned cpu = 0; cpu < ARCH_MAX_CPUS && !err; cpu++)
		if (cpu_get(cpu))
			err = cpu_lpis(cpu);
	its.state = err ? err : 1;
	if (err)
		printf("its: cannot start (%d): no MSIs\n", err);
	return err;
}

void its_cpu_init(unsigned cpu)
{
	if (!its.base)
		return;
	unsigned long f = irq_lock(&its_lock);
	if (its.state == 1 && !its.lpis_on[cpu] && cpu_lpis(cpu) != 0)
		printf("its: cpu %u takes no LPIs\n", cpu);
	irq_unlock(&its_lock, f);
}

/* ---- devices and events ---- */

/* Level-2 page of the device table for devid, allocated on first use. */
static int dt_level2(uint32_t devid)
{
	if (!its.dt.indirect)
		return 0;
	uint64_t *l1 = &its.dt.table[devid / (its.page / its.dt.entry)];
	if (*l1 & GITS_L1_VALID)
		return 0;
	void *l2 = table_alloc(its.page);
	if (!l2)
		return -ENOMEM;
	*l1 = virt_to_phys(l2) | GITS_L1_VALID;
	publish(l1, sizeof(*l1));
	return 0;
}

static unsigned itt_events(void)
{
	unsigned ite = GITS_TYPER_ITT_SIZE(its.typer), bits = GITS_TYPER_IDBITS(its.typer), n = 1;
	while (n * 2 <= ITS_EVENTS_MAX && n * 2 * ite <= PAGE_SIZE && n * 2 <= (1ull << bits))
		n *= 2;
	return n;
}

/* The device's record, mapping it (MAPD) with a fresh ITT the first time. */
static struct its_device *device_get(uint32_t devid, int *err)
{
	struct its_device *free = NULL;
	for (unsigned i = 0; i < ITS_DEVICES; i++) {
		if (devices[i].used && devices[i].devid == devid)
			return &devices[i];
		if (!devices[i].used && !free)
			free = &devices[i];
	}
	*err = !free || devid >= its.dt.ids ? -ENOSPC : dt_level2(devid);
	if (*err)
		return NULL;
	void *itt = table_alloc(PAGE_SIZE);
	if (!itt) {
		*err = -ENOMEM;
		return NULL;
	}
	*free =
	    (struct its_device){.used = true, .devid = devid, .itt = itt, .events = itt_events()};
	unsigned size = (unsigned)__builtin_ctz(free->events) - 1; /* EventID bits - 1 */
	*err = its_cmd(cmd_dev(GITS_CMD_MAPD, devid), free->events > 1 ? size : 0,
	               GITS_VALID | virt_to_phys(itt));
	return *err ? NULL : free;
}

static int event_alloc(struct its_device *d)
{
	for (unsigned e = 0; e < d->events; e++)
		if (!(d->busy[e / 64] & (1ull << (e % 64)))) {
			d->busy[e / 64] |= 1ull << (e % 64);
			return (int)e;
		}
	return -ENOSPC;
}

/* Map event -> LPI on `cpu`'s collection, enable the LPI, and wait for the ITS. */
static int event_map(struct its_device *d, uint32_t event, unsigned index, unsigned cpu)
{
	its.prop[index] = LPI_PROP_OFF | LPI_PROP_ENABLE;
	publish(&its.prop[index], 1);
	int err = its_cmd(cmd_dev(GITS_CMD_MAPTI, d->devid),
	                  event | (uint64_t)(GIC_LPI_FIRST + index) << 32, cpu);
	if (!err)
		err = its_cmd(cmd_dev(GITS_CMD_INV, d->devid), event, 0);
	if (!err)
		err = its_cmd(GITS_CMD_SYNC, 0, its.rdbase[cpu]);
	return err ? err : its_wait();
}

static int its_setup_locked(unsigned index, unsigned cpu, uint32_t requester_id,
                            struct arch_msi *msg)
{
	uint32_t devid;
	int err = its_start();
	if (err)
		return err;
	if (index >= ITS_LPIS || cpu >= ARCH_MAX_CPUS || !its.lpis_on[cpu])
		return -EINVAL;
	if (gic_dtb_msi_devid(platform_fdt, its.node, requester_id, &devid) != 0)
		return -EINVAL; /* the DTB's msi-map leaves this requester out */
	struct its_device *d = device_get(devid, &err);
	int event = d ? event_alloc(d) : err;
	if (event < 0)
		return event;
	err = event_map(d, (uint32_t)event, index, cpu);
	if (err) {
		its.prop[index] = LPI_PROP_OFF;
		d->busy[event / 64] &= ~(1ull << (event % 64));
		return err;
	}
	lpis[index] = (typeof(lpis[0])){d, (uint32_t)event, cpu};
	msg->address = virt_to_phys((void *)its.base) + GITS_TRANSLATER;
	msg->data = (uint32_t)event;
	return 0;
}

static int its_setup(unsigned index, unsigned cpu, uint32_t requester_id, struct arch_msi *msg)
{
	unsigned long f = irq_lock(&its_lock);
	int err = its_setup_locked(index, cpu, requester_id, msg);
	irq_unlock(&its_lock, f);
	return err;
}

/* Disable the LPI and forget the event (DISCARD also drops a pending one). */
static void its_teardown(unsigned index)
{
	unsigned long f = irq_lock(&its_lock);
	struct its_device *d = index < ITS_LPIS ? lpis[index].dev : NULL;
	if (d) {
		uint32_t e = lpis[index].event;
		its.prop[index] = LPI_PROP_OFF;
		publish(&its.prop[index], 1);
		int err = its_cmd(cmd_dev(GITS_CMD_DISCARD, d->devid), e, 0);
		if (!err)
			err = its_cmd(GITS_CMD_SYNC, 0, its.rdbase[lpis[index].cpu]);
		if (!err)
			err = its_wait();
		if (err)
			printf("its: discarding event %u of device %#x failed (%d)\n", e, d->devid,
			       err);
		d->busy[e / 64] &= ~(1ull << (e % 64));
		lpis[index].dev = NULL;
	}
	irq_unlock(&its_lock, f);
}

static struct gic_msi its_msi = {"its", GIC_LPI_FIRST, ITS_LPIS, its_setup, its_teardown};

/* The first enabled "arm,gic-v3-its" child of the GIC that translates to physical LPIs. */
const struct gic_msi *its_probe(const void *fdt, int gic_node)
{
	int node;
	fdtr_for_each_subnode(node, fdt, gic_node)
	{
		uint64_t base, size;
		if (fdtr_node_check_compatible(fdt, node, "arm,gic-v3-its") != 0 ||
		    !fdtr_node_enabled(fdt, node) ||
		    dtb_reg_parent(fdt, node, gic_node, 0, &base, &size) != 0 || size < GITS_SIZE ||
		    !dtb_range_device_mapped(base, GITS_SIZE))
			continue;
		uint64_t typer = mmio_read64(base + GITS_TYPER);
		if (!(typer & GITS_TYPER_PHYSICAL))
			continue;
		its.base = base;
		its.typer = typer;
		its.node = node;
		return &its_msi;
	}
	return NULL;
}
