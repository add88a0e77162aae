/*
 * The Intel MultiProcessor Specification 1.4 tables, for machines without
 * ACPI (QEMU microvm with acpi=off, whose firmware qboot writes only these):
 * CPUs, I/O APICs and how ISA IRQs reach them, into the same struct
 * acpi_info the MADT fills. Like acpi.c it is portable, checks the floating
 * pointer's and the table's checksums and every entry's bounds, and never
 * follows what it has not checked.
 */
#include <errno.h>
#include <string.h>

#include "acpi.h"

/* MP spec 4.1: the floating pointer structure, 16 bytes, 16-byte aligned. */
#define MPF_SIGNATURE    "_MP_"
#define MPF_LENGTH       16
#define MPF_OFF_TABLE    4  /* u32 physical address of the configuration table */
#define MPF_OFF_FEATURE1 11 /* nonzero: a default configuration, no table */

/* MP spec 4.2: the configuration table header, then entries. */
#define MPC_SIGNATURE     "PCMP"
#define MPC_HEADER_LENGTH 44
#define MPC_OFF_LENGTH    4  /* u16 base table length, header included */
#define MPC_OFF_COUNT     34 /* u16 entry count: not used, qboot leaves it 0 */
#define MPC_OFF_LAPIC     36 /* u32 local APIC address */

/* MP spec 4.3: entry types and lengths. */
#define MPC_CPU        0 /* u8 apic id, u8 version, u8 flags (bit 0 enabled), ... */
#define MPC_CPU_LEN    20
#define MPC_BUS        1 /* u8 bus id, char type[6] */
#define MPC_IOAPIC     2 /* u8 id, u8 version, u8 flags (bit 0 usable), u32 address */
#define MPC_IOINT      3 /* u8 type, u16 flags, u8 bus, u8 bus irq, u8 apic id, u8 pin */
#define MPC_LOCALINT   4
#define MPC_SHORT_LEN  8
#define MPC_INT_VECTOR 0 /* interrupt type: an ordinary vectored interrupt */
#define MPC_MAX_BUSES  256

#define IOAPIC_PINS 24 /* GSI bases are implied: each I/O APIC after the first adds 24 */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static bool sum_ok(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s += p[i];
	return s == 0;
}

static void warn(const struct acpi_mem *m, struct acpi_info *out, const char *why)
{
	out->rejected++;
	if (m->warn)
		m->warn(m->ctx, "MP table", why);
}

static int scan(const struct acpi_mem *m, uint64_t start, uint64_t len, uint64_t *at)
{
	for (uint64_t a = start; a + MPF_LENGTH <= start + len; a += 16) {
		const uint8_t *p = m->map(m->ctx, a, MPF_LENGTH);
		if (p && memcmp(p, MPF_SIGNATURE, 4) == 0 && sum_ok(p, MPF_LENGTH)) {
			*at = a;
			return 0;
		}
	}
	return -ENOENT;
}

/* MP spec 4: the EBDA's first KiB, else the last KiB below 640 KiB, then the BIOS ROM. */
static int find_floating(const struct acpi_mem *m, uint64_t *at)
{
	const uint8_t *seg = m->map(m->ctx, 0x40e, 2);
	uint64_t ebda = seg ? (uint64_t)rd16(seg) << 4 : 0;
	if (ebda >= 0x1000 && ebda + 1024 <= 0xa0000 && scan(m, ebda, 1024, at) == 0)
		return 0;
	if (scan(m, 0x9fc00, 1024, at) == 0)
		return 0;
	return scan(m, 0xf0000, 0x10000, at);
}

struct mp_state {
	bool isa[MPC_MAX_BUSES]; /* which bus ids are ISA */
	uint8_t ioapic_id[ACPI_MAX_IOAPICS];
};

static void add_cpu(struct acpi_info *out, const uint8_t *e)
{
	if (!(e[3] & 1))
		return;
	for (unsigned i = 0; i < out->cpu_count; i++)
		if (out->cpu_apic_id[i] == e[1]) {
			out->cpus_dropped++;
			return;
		}
	if (out->cpu_count >= ARCH_MAX_CPUS) {
		out->cpus_dropped++;
		return;
	}
	out->cpu_apic_id[out->cpu_count++] = e[1];
}

static void add_ioapic(const struct acpi_mem *m, struct acpi_info *out, struct mp_state *st,
                       const uint8_t *e)
{
	uint32_t addr = rd32(e + 4);
	if (!(e[3] & 1))
		return;
	if (addr == 0 || (addr & 0xf) != 0 || out->ioapic_count >= ACPI_MAX_IOAPICS) {
		warn(m, out, "I/O APIC with a bad address, or too many");
		return;
	}
	st->ioapic_id[out->ioapic_count] = e[1];
	out->ioapic[out->ioapic_count] = (struct acpi_ioapic){
	    .address = addr, .gsi_base = IOAPIC_PINS * out->ioapic_count, .id = e[1]};
	out->ioapic_count++;
}

/* An ISA IRQ's route becomes an override (the MP flags use the MADT's INTI encoding). */
static void add_route(const struct acpi_mem *m, struct acpi_info *out, const struct mp_state *st,
                      const uint8_t *e)
{
	if (e[1] != MPC_INT_VECTOR || !st->isa[e[4]])
		return; /* PCI routes need the bus's own numbering; drivers get those from PCI */
	unsigned irq = e[5], pin = e[7];
	for (unsigned i = 0; i < out->ioapic_count; i++) {
		if (st->ioapic_id[i] != e[6] && e[6] != 0xff)
			continue;
		if (irq >= 16 || pin >= IOAPIC_PINS || out->iso_count >= ACPI_MAX_OVERRIDES) {
			warn(m, out, "ISA interrupt route out of range");
			return;
		}
		out->iso[out->iso_count++] =
		    (struct acpi_override){.isa_irq = (uint8_t)irq,
		                           .gsi = out->ioapic[i].gsi_base + pin,
		                           .flags = rd16(e + 2)};
		return;
	}
	warn(m, out, "interrupt routed to an unknown I/O APIC");
}

static unsigned entry_len(uint8_t type)
{
	return type == MPC_CPU ? MPC_CPU_LEN : type <= MPC_LOCALINT ? MPC_SHORT_LEN : 0;
}

/* Entries up to the base table length; like Linux, not trusting the entry count. */
static void parse_entries(const struct acpi_mem *m, struct acpi_info *out, const uint8_t *t,
                          uint16_t len)
{
	struct mp_state st = {0};
	for (uint32_t off = MPC_HEADER_LENGTH; off < len;) {
		const uint8_t *e = t + off;
		unsigned elen = entry_len(e[0]);
		if (elen == 0 || elen > (uint32_t)len - off) {
			warn(m, out, "unknown or overlong entry; rest ignored");
			return;
		}
		if (e[0] == MPC_CPU)
			add_cpu(out, e);
		else if (e[0] == MPC_BUS)
			st.isa[e[1]] = memcmp(e + 2, "ISA", 3) == 0;
		else if (e[0] == MPC_IOAPIC)
			add_ioapic(m, out, &st, e);
		else if (e[0] == MPC_IOINT)
			add_route(m, out, &st, e);
		off += elen;
	}
}

int mptable_parse(const struct acpi_mem *m, struct acpi_info *out)
{
	uint64_t at;
	if (find_floating(m, &at) != 0)
		return -ENOENT;
	return mptable_parse_at(m, at, out);
}

int mptable_parse_at(const struct acpi_mem *m, uint64_t floating, struct acpi_info *out)
{
	const uint8_t *f = m->map(m->ctx, floating, MPF_LENGTH);
	if (!f || memcmp(f, MPF_SIGNATURE, 4) != 0 || !sum_ok(f, MPF_LENGTH))
		return -ENOENT;
	if (f[MPF_OFF_FEATURE1] != 0) {
		warn(m, out, "a default configuration, which noos does not know");
		return -EINVAL;
	}
	const uint8_t *h = m->map(m->ctx, rd32(f + MPF_OFF_TABLE), MPC_HEADER_LENGTH);
	if (!h || memcmp(h, MPC_SIGNATURE, 4) != 0) {
		warn(m, out, "no configuration table");
		return -EINVAL;
	}
	uint16_t len = rd16(h + MPC_OFF_LENGTH);
	const uint8_t *t =
	    len >= MPC_HEADER_LENGTH ? m->map(m->ctx, rd32(f + MPF_OFF_TABLE), len) : NULL;
	if (!t || !sum_ok(t, len)) {
		warn(m, out, "configuration table with a bad length or checksum");
		return -EINVAL;
	}
	out->have_mptable = true;
	out->lapic_address = rd32(t + MPC_OFF_LAPIC);
	out->pcat_compat = true; /* MP systems keep their 8259s: mask them */
	parse_entries(m, out, t, len);
	return 0;
}
