/*
 * aarch64 interrupts (arch.h, issue 5): PSTATE.I masking, handler tables
 * for GIC lines and MSIs, and the dispatch of an IRQ exception. The GIC
 * itself is gicv2.c or gicv3.c, whichever the DTB describes; MSIs come from
 * its GICv2m frame or ITS.
 *
 * INTIDs (GICv3 2.2): SGIs 0-15 carry the IPIs (SGI n = enum arch_ipi n),
 * PPIs 16-31 are per CPU (the generic timer's among them), SPIs 32-1019 are
 * the lines drivers register, 1020-1023 mean "nothing to deliver", and LPIs
 * from 8192 are ITS MSIs. SPIs are routed to the boot CPU.
 */
#include "aarch64.h"
#include "gic_reg.h"
#include "rt.h"

#define SHARE_MAX         4   /* handlers on one line (PCI INTx pins are shared) */
#define LINE_SLOTS        128 /* lines with handlers at once */
#define MSI_SLOTS         256
#define DAIF_I            (1ul << 7) /* PSTATE.I in the DAIF register view (ARM ARM C5.2.2) */
#define IRQ_DEFAULT_FLAGS (ARCH_IRQ_LEVEL | ARCH_IRQ_ACTIVE_HIGH)

/* Handlers of one line or MSI. Guarded by irq_lock_word, except the atomic reads in dispatch. */
struct handlers {
	arch_irq_fn fn[SHARE_MAX];
	void *ctx[SHARE_MAX];
	int running;    /* handler calls in progress on any CPU */
	unsigned flags; /* the line's resolved ARCH_IRQ_* trigger */
	bool used;
};

const void *platform_fdt;
static const struct gic_ops *gic;
static const struct gic_msi *msi;
static int gic_node;
static unsigned gic_lines, msi_count;
static unsigned timer_line; /* 0 until time.c sets it */
static volatile int irq_lock_word;
static uint64_t spurious;
static uint32_t banked_on, banked_edge; /* SGIs/PPIs every CPU enables, and their trigger */
static struct handlers lines[LINE_SLOTS];
static uint8_t line_slot[GIC_SPI_LIMIT]; /* 1 + index into lines[], 0 = no handlers */
static struct handlers msis[MSI_SLOTS];

/* ---- masking on this CPU ---- */

unsigned long arch_irq_save(void)
{
	unsigned long daif = read_sysreg(daif);
	__asm__ volatile("msr daifset, #2" : : : "memory");
	return daif & DAIF_I;
}

void arch_irq_restore(unsigned long state)
{
	if (!(state & DAIF_I))
		__asm__ volatile("msr daifclr, #2" : : : "memory");
}

void arch_irq_enable(void)
{
	__asm__ volatile("msr daifclr, #2" : : : "memory");
}

void arch_irq_disable(void)
{
	__asm__ volatile("msr daifset, #2" : : : "memory");
}

bool arch_irq_enabled(void)
{
	return !(read_sysreg(daif) & DAIF_I);
}

bool arch_in_interrupt(void)
{
	return arch_this_cpu()->irq_depth > 0;
}

unsigned long irq_lock(volatile int *lock)
{
	unsigned long state = arch_irq_save();
	while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(lock, __ATOMIC_RELAXED))
			cpu_relax();
	return state;
}

void irq_unlock(volatile int *lock, unsigned long state)
{
	__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
	arch_irq_restore(state);
}

uint64_t arch_irq_spurious_count(void)
{
	return __atomic_load_n(&spurious, __ATOMIC_RELAXED);
}

static void count_spurious(void)
{
	__atomic_fetch_add(&spurious, 1, __ATOMIC_RELAXED);
}

const char *arch_irq_describe(void)
{
	return gic ? gic->name : "none";
}

/* ---- set-up ---- */

/* An SGI/PPI that every CPU coming online enables too (irq_cpu_init). */
static void banked_record(unsigned intid, bool edge)
{
	banked_on |= 1u << intid;
	banked_edge = edge ? banked_edge | 1u << intid : banked_edge & ~(1u << intid);
}

/* Enable one SGI/PPI on this CPU and on every CPU that comes online later. */
static void banked_line_on(unsigned intid, bool edge)
{
	banked_record(intid, edge);
	gic->configure(intid, edge);
	gic->enable(intid, true);
}

int arch_irq_init(const struct boot_info *bi)
{
	platform_fdt = bi->dtb;
	if (platform_fdt)
		gic_dtb_scan(platform_fdt);
	gic = dtb_nodes.gic_ops;
	gic_node = dtb_nodes.gic;
	if (!gic) {
		printf("irq: no GIC in the device tree\n");
		return -ENODEV;
	}
	int err = gic->init(platform_fdt, gic_node, &gic_lines, &msi);
	if (!err)
		err = gic->cpu_init();
	if (err) {
		printf("irq: %s: cannot set up the controller (%d)\n", gic->name, err);
		return err;
	}
	if (msi)
		msi_count = msi->count < MSI_SLOTS ? msi->count : MSI_SLOTS;
	cpus_enumerate(platform_fdt, dtb_nodes.cpus);
	for (unsigned k = 0; k < ARCH_IPI_KINDS; k++)
		banked_line_on(k, true);
	return 0;
}

/* A CPU coming online (smp.c): its interface, then the lines every CPU has enabled. */
int irq_cpu_init(void)
{
	int err = gic->cpu_init();
	if (err)
		return err;
	unsigned long f = irq_lock(&irq_lock_word);
	for (unsigned intid = 0; intid < GIC_SPI_FIRST; intid++)
		if (banked_on & (1u << intid)) {
			gic->configure(intid, banked_edge & (1u << intid));
			gic->enable(intid, true);
		}
	irq_unlock(&irq_lock_word, f);
	return 0;
}

int irq_timer_line(unsigned intid, bool edge)
{
	if (intid < GIC_SGI_COUNT || intid >= GIC_SPI_FIRST)
		return -EINVAL;
	unsigned long f = irq_lock(&irq_lock_word);
	timer_line = intid;
	banked_line_on(intid, edge);
	irq_unlock(&irq_lock_word, f);
	return 0;
}

/* ---- lines ---- */

/* What the caller asked, per field, over what the DTB says (else level, active-high). */
static int resolve_flags(unsigned line, unsigned given, unsigned *out)
{
	const unsigned trig_mask = ARCH_IRQ_EDGE | ARCH_IRQ_LEVEL;
	const unsigned pol_mask = ARCH_IRQ_ACTIVE_HIGH | ARCH_IRQ_ACTIVE_LOW;
	unsigned trig = given & trig_mask, pol = given & pol_mask;
	if (given & ~(trig_mask | pol_mask) || trig == trig_mask || pol == pol_mask)
		return -EINVAL;
	unsigned dt = 0;
	if ((!trig || !pol) && gic_dtb_trigger(platform_fdt, gic_node, line, &dt) != 0)
		dt = IRQ_DEFAULT_FLAGS;
	*out = (trig ? trig : dt & trig_mask) | (pol ? pol : dt & pol_mask);
	if (!(*out & trig_mask))
		*out |= ARCH_IRQ_LEVEL;
	/* GIC inputs are active-high (or rising-edge): an inverted line cannot be taken. */
	return (*out & ARCH_IRQ_ACTIVE_LOW) ? -EINVAL : 0;
}

/* Lines a driver may register: PPIs and SPIs, not the timer's, not the MSI frame's SPIs. */
static int line_check(unsigned line)
{
	if (!gic || line < GIC_SGI_COUNT || line >= gic_lines)
		return -EINVAL;
	if (line == timer_line || (msi && line - msi->first_intid < msi_count))
		return -EBUSY;
	return 0;
}

static int slot_add(struct handlers *h, arch_irq_fn fn, void *ctx)
{
	for (unsigned i = 0; i < SHARE_MAX; i++)
		if (!h->fn[i]) {
			h->ctx[i] = ctx;
			__atomic_store_n(&h->fn[i], fn, __ATOMIC_RELEASE);
			return 0;
		}
	return -ENOSPC;
}

static int slot_remove(struct handlers *h, arch_irq_fn fn, void *ctx)
{
	for (unsigned i = 0; i < SHARE_MAX; i++)
		if (h->fn[i] == fn && h->ctx[i] == ctx) {
			__atomic_store_n(&h->fn[i], NULL, __ATOMIC_RELEASE);
			return 0;
		}
	return -ENOENT;
}

static bool slot_empty(const struct handlers *h)
{
	for (unsigned i = 0; i < SHARE_MAX; i++)
		if (h->fn[i])
			return false;
	return true;
}

/* Wait until no CPU runs this slot's handlers (one may have loaded the old pointer). */
static void slot_quiesce(struct handlers *h)
{
	while (__atomic_load_n(&h->running, __ATOMIC_ACQUIRE) != 0)
		cpu_relax();
}

/* A line's first handler: a slot, its trigger, its route (SPIs to the boot CPU). */
static struct handlers *line_open(unsigned line, unsigned flags, int *err)
{
	for (unsigned i = 0; i < LINE_SLOTS; i++) {
		if (lines[i].used)
			continue;
		lines[i] = (struct handlers){.used = true, .flags = flags};
		line_slot[line] = (uint8_t)(i + 1);
		bool edge = flags & ARCH_IRQ_EDGE;
		if (line < GIC_SPI_FIRST)
			banked_record(line, edge);
		gic->configure(line, edge);
		gic->route(line, 0);
		return &lines[i];
	}
	*err = -ENOSPC;
	return NULL;
}

static void line_close(unsigned line, struct handlers *h)
{
	gic->enable(line, false);
	if (line < GIC_SPI_FIRST)
		banked_on &= ~(1u << line);
	line_slot[line] = 0;
	h->used = false;
}

static struct handlers *line_find(unsigned line)
{
	return line < GIC_SPI_LIMIT && line_slot[line] ? &lines[line_slot[line] - 1] : NULL;
}

/* A PPI is enabled on the calling CPU and on CPUs that come online later. */
int arch_irq_register(unsigned line, unsigned flags, arch_irq_fn fn, void *ctx)
{
	unsigned resolved;
	int err = line_check(line);
	if (!err && !fn)
		err = -EINVAL;
	if (!err)
		err = resolve_flags(line, flags, &resolved);
	if (err)
		return err;
	unsigned long f = irq_lock(&irq_lock_word);
	struct handlers *h = line_find(line);
	if (h && h->flags != resolved)
		err = -EBUSY;
	else if (!h)
		h = line_open(line, resolved, &err);
	if (!err)
		err = slot_add(h, fn, ctx);
	if (!err)
		gic->enable(line, true);
	else if (h && slot_empty(h))
		line_close(line, h);
	irq_unlock(&irq_lock_word, f);
	return err;
}

int arch_irq_unregister(unsigned line, arch_irq_fn fn, void *ctx)
{
	unsigned long f = irq_lock(&irq_lock_word);
	struct handlers *h = line_find(line);
	int err = h ? slot_remove(h, fn, ctx) : -ENOENT;
	if (!err && slot_empty(h))
		line_close(line, h);
	irq_unlock(&irq_lock_word, f);
	if (!err)
		slot_quiesce(h);
	return err;
}

static int line_set_enabled(unsigned line, bool on)
{
	unsigned long f = irq_lock(&irq_lock_word);
	int err = line_find(line) ? 0 : -ENOENT;
	if (!err)
		gic->enable(line, on);
	irq_unlock(&irq_lock_word, f);
	return err;
}

int arch_irq_mask(unsigned line)
{
	return line_set_enabled(line, false);
}

int arch_irq_unmask(unsigned line)
{
	return line_set_enabled(line, true);
}

/* ---- MSIs: a GICv2m SPI or an ITS LPI per handle ---- */

int arch_msi_alloc(unsigned cpu, uint32_t requester_id, arch_irq_fn fn, void *ctx,
                   struct arch_msi *msg)
{
	if (!fn || !msg || !cpu_get(cpu))
		return -EINVAL;
	if (!msi) {
		static bool said;
		if (!__atomic_exchange_n(&said, true, __ATOMIC_RELAXED))
			printf("irq: %s without an MSI frame or ITS: no MSIs\n",
			       arch_irq_describe());
		return -ENOSPC;
	}
	unsigned long f = irq_lock(&irq_lock_word);
	int handle = -ENOSPC;
	for (unsigned i = 0; i < msi_count && handle < 0; i++) {
		if (msis[i].used)
			continue;
		int err = msi->setup(i, cpu, requester_id, msg);
		if (err) {
			handle = err;
			break;
		}
		msis[i] = (struct handlers){.used = true, .flags = ARCH_IRQ_EDGE};
		slot_add(&msis[i], fn, ctx);
		handle = (int)i;
	}
	irq_unlock(&irq_lock_word, f);
	return handle;
}

int arch_msi_free(int handle)
{
	if (handle < 0 || (unsigned)handle >= msi_count)
		return -EINVAL;
	struct handlers *h = &msis[handle];
	unsigned long f = irq_lock(&irq_lock_word);
	int err = h->used ? 0 : -EINVAL;
	if (!err) {
		msi->teardown((unsigned)handle);
		__atomic_store_n(&h->fn[0], NULL, __ATOMIC_RELEASE);
		h->used = false;
	}
	irq_unlock(&irq_lock_word, f);
	if (!err)
		slot_quiesce(h);
	return err;
}

/* ---- dispatch ---- */

static void run_handlers(struct handlers *h)
{
	__atomic_fetch_add(&h->running, 1, __ATOMIC_ACQUIRE);
	bool handled = false;
	for (unsigned i = 0; i < SHARE_MAX; i++) {
		arch_irq_fn fn = __atomic_load_n(&h->fn[i], __ATOMIC_ACQUIRE);
		if (fn) {
			fn(h->ctx[i]);
			handled = true;
		}
	}
	__atomic_fetch_sub(&h->running, 1, __ATOMIC_RELEASE);
	if (!handled)
		count_spurious();
}

static struct handlers *handlers_of(unsigned intid)
{
	if (msi && intid - msi->first_intid < msi_count)
		return &msis[intid - msi->first_intid];
	return line_find(intid);
}

/*
 * An IRQ exception taken from EL1t (trap.c), interrupts masked, on the
 * interrupted stack. One interrupt per exception: another pending one
 * raises the exception again at once. Device handlers run before the EOI (a
 * level-triggered line must be quiet first); the timer and IPI hooks run
 * after it, at the very end, where they may switch threads.
 */
void irq_dispatch(void)
{
	uint32_t iar;
	unsigned intid = gic->ack(&iar);
	if (intid >= GIC_INTID_SPECIAL && intid < GIC_LPI_FIRST) {
		/* 1023: nothing pending any more; these take no EOI (GICv3 2.2.1) */
		count_spurious();
		return;
	}
	struct cpu *c = arch_this_cpu();
	c->irq_count++;
	c->irq_depth++;
	bool timer = false;
	struct handlers *h;
	if (intid < GIC_SGI_COUNT) {
		if (intid >= ARCH_IPI_KINDS)
			count_spurious();
	} else if (intid == timer_line) {
		arch_timer_stop(); /* its output is a level: high while CVAL <= count */
		timer = cpu_timer_expired();
	} else if ((h = handlers_of(intid)) != NULL) {
		run_handlers(h);
	} else {
		count_spurious();
	}
	c->irq_depth--;
	gic->eoi(iar);
	if (timer)
		cpu_timer_run_hook();
	else if (intid < ARCH_IPI_KINDS)
		ipi_hook(intid);
}

/* smp.c's IPIs: an SGI to CPU `cpu`. */
void irq_send_sgi(unsigned cpu, unsigned sgi)
{
	gic->send_sgi(cpu, sgi);
}

int irq_dtb_interrupt(int node, int index, unsigned *intid, unsigned *flags)
{
	if (!gic)
		return -ENODEV;
	return gic_dtb_interrupt(platform_fdt, gic_node, node, index, intid, flags);
}
