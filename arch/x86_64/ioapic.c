/*
 * I/O APICs (Intel 82093AA I/O APIC datasheet, 3.2) route device interrupt
 * lines (GSIs) to LAPIC vectors; the legacy 8259 pair (8259A datasheet) is
 * remapped out of the exception vectors and masked for good.
 */
#include <errno.h>

#include "acpi.h"
#include "io.h"
#include "rt.h"
#include "x86.h"

#define IOREGSEL    0x00
#define IOWIN       0x10
#define IOAPICVER   0x01
#define IOREDTBL(n) (0x10 + 2 * (n))

#define RTE_ACTIVE_LOW (1u << 13)
#define RTE_LEVEL      (1u << 15)
#define RTE_MASKED     (1u << 16)

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1

struct ioapic {
	uintptr_t base;
	uint32_t gsi_base;
	unsigned pins;
};

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static unsigned ioapic_count;
static volatile int ioapic_lock; /* guards IOREGSEL/IOWIN pairs of every I/O APIC */

static uint32_t ioapic_read(const struct ioapic *io, uint32_t reg)
{
	mmio_write32(io->base + IOREGSEL, reg);
	return mmio_read32(io->base + IOWIN);
}

static void ioapic_write(const struct ioapic *io, uint32_t reg, uint32_t v)
{
	mmio_write32(io->base + IOREGSEL, reg);
	mmio_write32(io->base + IOWIN, v);
}

/*
 * ICW1-ICW4 (8259A datasheet): vectors 0x20-0x2f instead of the BIOS's
 * 0x08-0x0f, which collide with CPU exceptions; then mask every line. A
 * spurious IRQ 7/15 can still arrive and is counted, not mistaken for a fault.
 */
void pic_disable(void)
{
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, VEC_PIC_FIRST);
	outb(PIC2_DATA, VEC_PIC_FIRST + 8);
	outb(PIC1_DATA, 4); /* slave on IRQ2 */
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, 1); /* 8086 mode */
	outb(PIC2_DATA, 1);
	outb(PIC1_DATA, 0xff);
	outb(PIC2_DATA, 0xff);
}

void ioapic_init(const struct acpi_info *acpi)
{
	for (unsigned i = 0; i < acpi->ioapic_count && i < ACPI_MAX_IOAPICS; i++) {
		struct ioapic *io = &ioapics[ioapic_count];
		io->base = io_map(acpi->ioapic[i].address, 4096);
		io->gsi_base = acpi->ioapic[i].gsi_base;
		uint32_t ver = io->base ? ioapic_read(io, IOAPICVER) : 0xffffffff;
		if (ver == 0xffffffff) { /* unmapped, or nothing answers at that address */
			printf("ioapic: none usable at %#lx as the MADT claims\n",
			       (unsigned long)acpi->ioapic[i].address);
			continue;
		}
		io->pins = ((ver >> 16) & 0xff) + 1;
		for (unsigned pin = 0; pin < io->pins; pin++) {
			ioapic_write(io, IOREDTBL(pin) + 1, 0);
			ioapic_write(io, IOREDTBL(pin), RTE_MASKED);
		}
		ioapic_count++;
	}
}

static struct ioapic *ioapic_for(uint32_t gsi, unsigned *pin)
{
	for (unsigned i = 0; i < ioapic_count; i++) {
		struct ioapic *io = &ioapics[i];
		if (gsi >= io->gsi_base && gsi - io->gsi_base < io->pins) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

/* Fixed delivery, physical destination; left masked until ioapic_mask(gsi, false). */
int ioapic_route(uint32_t gsi, uint8_t vector, uint32_t dest, bool level, bool active_low)
{
	unsigned pin;
	struct ioapic *io = ioapic_for(gsi, &pin);
	if (!io)
		return -EINVAL;
	if (dest > 0xff)
		return -EINVAL; /* 8-bit destination field; wider IDs need interrupt remapping */
	uint32_t lo =
	    vector | RTE_MASKED | (level ? RTE_LEVEL : 0) | (active_low ? RTE_ACTIVE_LOW : 0);
	unsigned long flags = x86_lock(&ioapic_lock);
	ioapic_write(io, IOREDTBL(pin), RTE_MASKED);
	ioapic_write(io, IOREDTBL(pin) + 1, dest << 24);
	ioapic_write(io, IOREDTBL(pin), lo);
	x86_unlock(&ioapic_lock, flags);
	return 0;
}

int ioapic_mask(uint32_t gsi, bool masked)
{
	unsigned pin;
	struct ioapic *io = ioapic_for(gsi, &pin);
	if (!io)
		return -EINVAL;
	unsigned long flags = x86_lock(&ioapic_lock);
	uint32_t lo = ioapic_read(io, IOREDTBL(pin));
	ioapic_write(io, IOREDTBL(pin), masked ? lo | RTE_MASKED : lo & ~RTE_MASKED);
	x86_unlock(&ioapic_lock, flags);
	return 0;
}
