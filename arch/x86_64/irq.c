/*
 * Interrupt vectors 32-255 (Intel SDM vol. 3A, 6.2 and 10.8): the fixed ones
 * (IPIs, timer, APIC error, spurious) and those handed out to I/O APIC lines
 * and MSIs, with the dispatch from vectors.S and end-of-interrupt handling.
 * Vectors are global: every CPU shares one IDT and one handler table.
 */
#include <errno.h>

#include "acpi.h"
#include "rt.h"
#include "trap.h"
#include "x86.h"

#define SHARE_MAX 4           /* handlers on one line (PCI INTx pins are shared) */
#define MSI_ADDR  0xfee00000u /* SDM 10.11.1: the LAPIC message address window */

enum slot_kind { SLOT_FREE, SLOT_LINE, SLOT_MSI };

/* One device vector. Guarded by irq_lock, except fn/ctx reads in dispatch (atomic). */
struct irq_slot {
	arch_irq_fn fn[SHARE_MAX];
	void *ctx[SHARE_MAX];
	int running; /* handler calls in progress on any CPU */
	uint8_t kind;
	uint32_t line;
	unsigned flags; /* resolved ARCH_IRQ_* of a line */
};

static struct irq_slot slots[256];
static volatile int irq_lock;
static uint64_t spurious;
static uint32_t boot_apic_id;

unsigned long arch_irq_save(void)
{
	unsigned long flags = read_rflags();
	cpu_cli();
	return flags & RFLAGS_IF;
}

void arch_irq_restore(unsigned long state)
{
	if (state & RFLAGS_IF)
		cpu_sti();
}

void arch_irq_enable(void)
{
	cpu_sti();
}

void arch_irq_disable(void)
{
	cpu_cli();
}

bool arch_irq_enabled(void)
{
	return read_rflags() & RFLAGS_IF;
}

bool arch_in_interrupt(void)
{
	return arch_this_cpu()->irq_depth > 0;
}

uint64_t arch_irq_spurious_count(void)
{
	return __atomic_load_n(&spurious, __ATOMIC_RELAXED);
}

const char *arch_irq_describe(void)
{
	return apic_is_x2apic() ? "x2apic" : "xapic";
}

int arch_irq_init(const struct boot_info *bi)
{
	(void)bi; /* ACPI was read in arch_boot (platform_init) */
	const struct acpi_info *acpi = platform();
	if (acpi->pcat_compat || !acpi->have_madt)
		pic_disable();
	int err = apic_init_bsp();
	if (err)
		return err;
	boot_apic_id = apic_id();
	arch_this_cpu()->hw_id = boot_apic_id;
	x86_cpus_enumerate();
	ioapic_init(acpi);
	return 0;
}

/* ---- lines: ISA IRQs 0-15 through MADT overrides, GSIs 16 and up ---- */

/* The GSI and ARCH_IRQ_* flags a line resolves to when the caller gave none. */
static uint32_t line_gsi(unsigned line, unsigned *flags)
{
	if (line >= 16) {
		*flags = ARCH_IRQ_LEVEL | ARCH_IRQ_ACTIVE_LOW; /* PCI INTx (PCI 3.0, 2.2.6) */
		return line;
	}
	*flags = ARCH_IRQ_EDGE | ARCH_IRQ_ACTIVE_HIGH; /* ISA */
	const struct acpi_info *acpi = platform();
	for (unsigned i = 0; i < acpi->iso_count; i++) {
		const struct acpi_override *o = &acpi->iso[i];
		if (o->isa_irq != line)
			continue;
		if ((o->flags & ACPI_INTI_POLARITY_MASK) == ACPI_INTI_ACTIVE_LOW)
			*flags = (*flags & ~ARCH_IRQ_ACTIVE_HIGH) | ARCH_IRQ_ACTIVE_LOW;
		if ((o->flags & ACPI_INTI_TRIGGER_MASK) == ACPI_INTI_LEVEL)
			*flags = (*flags & ~ARCH_IRQ_EDGE) | ARCH_IRQ_LEVEL;
		return o->gsi;
	}
	return line;
}

/* Caller flags override the defaults per field; both bits of one field is invalid. */
static int merge_flags(unsigned given, unsigned *flags)
{
	unsigned trig = given & (ARCH_IRQ_EDGE | ARCH_IRQ_LEVEL);
	unsigned pol = given & (ARCH_IRQ_ACTIVE_HIGH | ARCH_IRQ_ACTIVE_LOW);
	if (given & ~0xfu || trig == (ARCH_IRQ_EDGE | ARCH_IRQ_LEVEL) ||
	    pol == (ARCH_IRQ_ACTIVE_HIGH | ARCH_IRQ_ACTIVE_LOW))
		return -EINVAL;
	if (trig)
		*flags = (*flags & ~(ARCH_IRQ_EDGE | ARCH_IRQ_LEVEL)) | trig;
	if (pol)
		*flags = (*flags & ~(ARCH_IRQ_ACTIVE_HIGH | ARCH_IRQ_ACTIVE_LOW)) | pol;
	return 0;
}

static struct irq_slot *find_line(unsigned line)
{
	for (unsigned v = VEC_DEV_FIRST; v <= VEC_DEV_LAST; v++)
		if (slots[v].kind == SLOT_LINE && slots[v].line == line)
			return &slots[v];
	return NULL;
}

static int alloc_vector(void)
{
	for (unsigned v = VEC_DEV_FIRST; v <= VEC_DEV_LAST; v++)
		if (slots[v].kind == SLOT_FREE)
			return (int)v;
	return -ENOSPC;
}

static int slot_add(struct irq_slot *s, arch_irq_fn fn, void *ctx)
{
	for (unsigned i = 0; i < SHARE_MAX; i++)
		if (!s->fn[i]) {
			s->ctx[i] = ctx;
			__atomic_store_n(&s->fn[i], fn, __ATOMIC_RELEASE);
			return 0;
		}
	return -ENOSPC;
}

static bool slot_empty(const struct irq_slot *s)
{
	for (unsigned i = 0; i < SHARE_MAX; i++)
		if (s->fn[i])
			return false;
	return true;
}

/* A new line: a vector, an I/O APIC route to the boot CPU; returns the slot or NULL + *err. */
static struct irq_slot *line_open(unsigned line, unsigned flags, int *err)
{
	int v = alloc_vector();
	if (v < 0) {
		*err = v;
		return NULL;
	}
	uint32_t gsi = line_gsi(line, &(unsigned){0});
	*err = ioapic_route(gsi, (uint8_t)v, boot_apic_id, flags & ARCH_IRQ_LEVEL,
	                    flags & ARCH_IRQ_ACTIVE_LOW);
	if (*err)
		return NULL;
	slots[v] = (struct irq_slot){.kind = SLOT_LINE, .line = line, .flags = flags};
	return &slots[v];
}

int arch_irq_register(unsigned line, unsigned flags, arch_irq_fn fn, void *ctx)
{
	unsigned resolved;
	line_gsi(line, &resolved);
	if (!fn || merge_flags(flags, &resolved) != 0)
		return -EINVAL;
	int err = 0;
	unsigned long f = x86_lock(&irq_lock);
	struct irq_slot *s = find_line(line);
	if (s && s->flags != resolved)
		err = -EBUSY;
	else if (!s)
		s = line_open(line, resolved, &err);
	if (!err)
		err = slot_add(s, fn, ctx);
	if (!err)
		ioapic_mask(line_gsi(line, &(unsigned){0}), false);
	x86_unlock(&irq_lock, f);
	return err;
}

/* Wait until no CPU is inside this slot's handlers (they may have loaded the old fn). */
static void slot_quiesce(struct irq_slot *s)
{
	while (__atomic_load_n(&s->running, __ATOMIC_ACQUIRE) != 0)
		cpu_pause();
}

static int slot_remove(struct irq_slot *s, arch_irq_fn fn, void *ctx)
{
	for (unsigned i = 0; i < SHARE_MAX; i++)
		if (s->fn[i] == fn && s->ctx[i] == ctx) {
			__atomic_store_n(&s->fn[i], NULL, __ATOMIC_RELEASE);
			return 0;
		}
	return -ENOENT;
}

int arch_irq_unregister(unsigned line, arch_irq_fn fn, void *ctx)
{
	unsigned long f = x86_lock(&irq_lock);
	struct irq_slot *s = find_line(line);
	int err = s ? slot_remove(s, fn, ctx) : -ENOENT;
	if (!err && slot_empty(s)) {
		ioapic_mask(line_gsi(line, &(unsigned){0}), true);
		s->kind = SLOT_FREE;
	}
	x86_unlock(&irq_lock, f);
	if (!err)
		slot_quiesce(s);
	return err;
}

static int line_set_mask(unsigned line, bool masked)
{
	unsigned long f = x86_lock(&irq_lock);
	struct irq_slot *s = find_line(line);
	int err = s ? ioapic_mask(line_gsi(line, &(unsigned){0}), masked) : -ENOENT;
	x86_unlock(&irq_lock, f);
	return err;
}

int arch_irq_mask(unsigned line)
{
	return line_set_mask(line, true);
}

int arch_irq_unmask(unsigned line)
{
	return line_set_mask(line, false);
}

/* ---- MSI: address/data per SDM 10.11.1-2, fixed delivery, edge ---- */

int arch_msi_alloc(unsigned cpu, uint32_t requester_id, arch_irq_fn fn, void *ctx,
                   struct arch_msi *msg)
{
	(void)requester_id;
	struct cpu *c = cpu_get(cpu);
	if (!fn || !msg || !c || c->hw_id > 0xff)
		return -EINVAL; /* 8-bit destination without interrupt remapping */
	unsigned long f = x86_lock(&irq_lock);
	int v = alloc_vector();
	if (v >= 0) {
		slots[v] = (struct irq_slot){.kind = SLOT_MSI};
		slot_add(&slots[v], fn, ctx);
		msg->address = MSI_ADDR | c->hw_id << 12;
		msg->data = (uint32_t)v;
	}
	x86_unlock(&irq_lock, f);
	return v;
}

int arch_msi_free(int handle)
{
	if (handle < VEC_DEV_FIRST || handle > VEC_DEV_LAST)
		return -EINVAL;
	struct irq_slot *s = &slots[handle];
	unsigned long f = x86_lock(&irq_lock);
	int err = s->kind == SLOT_MSI ? 0 : -EINVAL;
	if (!err) {
		for (unsigned i = 0; i < SHARE_MAX; i++)
			__atomic_store_n(&s->fn[i], NULL, __ATOMIC_RELEASE);
		s->kind = SLOT_FREE;
	}
	x86_unlock(&irq_lock, f);
	if (!err)
		slot_quiesce(s);
	return err;
}

/* ---- dispatch ---- */

static void count_spurious(void)
{
	__atomic_fetch_add(&spurious, 1, __ATOMIC_RELAXED);
}

/* Device vector: run every handler on it; nothing registered means a stray interrupt. */
static void dispatch_device(struct irq_slot *s)
{
	__atomic_fetch_add(&s->running, 1, __ATOMIC_ACQUIRE);
	bool handled = false;
	for (unsigned i = 0; i < SHARE_MAX; i++) {
		arch_irq_fn fn = __atomic_load_n(&s->fn[i], __ATOMIC_ACQUIRE);
		if (fn) {
			fn(s->ctx[i]);
			handled = true;
		}
	}
	__atomic_fetch_sub(&s->running, 1, __ATOMIC_RELEASE);
	if (!handled)
		count_spurious();
}

/*
 * Called by x86_trap for vectors 32-255 with interrupts off. Device handlers
 * run before the EOI (a level-triggered line must be quiet first); the timer
 * and IPI hooks run after it, at the very end, where they may switch threads.
 */
void x86_irq_dispatch(struct trap_frame *tf)
{
	unsigned vec = (unsigned)tf->vector;
	struct cpu *c = arch_this_cpu();
	c->irq_count++;
	if (vec == VEC_SPURIOUS || (vec >= VEC_PIC_FIRST && vec <= VEC_PIC_LAST)) {
		count_spurious(); /* no EOI: nothing is in service (SDM 10.9) */
		return;
	}
	c->irq_depth++;
	bool timer = false;
	if (vec == VEC_TIMER)
		timer = cpu_timer_expired();
	else if (vec == VEC_APIC_ERROR)
		printf("apic: error status %#x on cpu %u\n", apic_error_status(), c->id);
	else if (vec >= VEC_DEV_FIRST && vec <= VEC_DEV_LAST)
		dispatch_device(&slots[vec]);
	else if (vec < VEC_IPI_FIRST || vec >= VEC_IPI_FIRST + ARCH_IPI_KINDS)
		count_spurious();
	c->irq_depth--;
	apic_eoi();
	if (timer)
		cpu_timer_run_hook();
	else if (vec >= VEC_IPI_FIRST && vec < VEC_IPI_FIRST + ARCH_IPI_KINDS)
		x86_ipi_hook(vec - VEC_IPI_FIRST);
}
