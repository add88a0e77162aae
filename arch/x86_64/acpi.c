/*
 * ACPI table parsing (ACPI 6.5, chapter 5.2): RSDP -> RSDT/XSDT -> MADT, MCFG
 * and FADT. Every table is length- and checksum-checked before any field is
 * read; a malformed table or entry is skipped with a warning, never followed.
 * Portable: memory comes only through struct acpi_mem (see acpi.h).
 */
#include <errno.h>
#include <string.h>

#include "acpi.h"
#include "acpi_reg.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static bool checksum_ok(const uint8_t *p, uint64_t len)
{
	uint8_t sum = 0;
	for (uint64_t i = 0; i < len; i++)
		sum += p[i];
	return sum == 0;
}

static void warn(const struct acpi_mem *m, struct acpi_info *out, const char *what, const char *why)
{
	if (out)
		out->rejected++;
	if (m->warn)
		m->warn(m->ctx, what, why);
}

static const uint8_t *map(const struct acpi_mem *m, uint64_t phys, uint64_t len)
{
	if (phys == 0 || len == 0 || phys + len < phys)
		return NULL;
	return m->map(m->ctx, phys, len);
}

/* A valid RSDP at phys: signature and the ACPI 1.0 checksum (5.2.5.3). */
static const uint8_t *rsdp_at(const struct acpi_mem *m, uint64_t phys)
{
	const uint8_t *p = map(m, phys, RSDP_V1_LENGTH);
	if (!p || memcmp(p, RSDP_SIGNATURE, 8) != 0 || !checksum_ok(p, RSDP_V1_LENGTH))
		return NULL;
	return p;
}

static int scan_rsdp(const struct acpi_mem *m, uint64_t start, uint64_t len, uint64_t *rsdp)
{
	for (uint64_t a = start; a + RSDP_V1_LENGTH <= start + len; a += RSDP_ALIGN)
		if (rsdp_at(m, a)) {
			*rsdp = a;
			return 0;
		}
	return -ENOENT;
}

int acpi_find_rsdp(const struct acpi_mem *m, uint64_t *rsdp)
{
	const uint8_t *seg = m->map(m->ctx, BIOS_EBDA_SEG_PTR, 2);
	if (seg) {
		uint64_t ebda = (uint64_t)rd16(seg) << 4;
		/* The EBDA sits below the 640 KiB hole; anything else is not an EBDA pointer. */
		if (ebda >= 0x1000 && ebda + BIOS_EBDA_SCAN <= 0xa0000 &&
		    scan_rsdp(m, ebda, BIOS_EBDA_SCAN, rsdp) == 0)
			return 0;
	}
	return scan_rsdp(m, BIOS_ROM_START, BIOS_ROM_END - BIOS_ROM_START, rsdp);
}

/*
 * Map a whole system description table and check it: header present, Length
 * within bounds, checksum zero (5.2.6). sig may be NULL to accept any table.
 */
static const uint8_t *map_table(const struct acpi_mem *m, struct acpi_info *out, uint64_t phys,
                                const char *sig, uint32_t *len)
{
	const uint8_t *h = map(m, phys, SDT_HEADER_LENGTH);
	if (!h)
		return NULL;
	if (sig && memcmp(h, sig, 4) != 0)
		return NULL;
	char name[5] = {(char)h[0], (char)h[1], (char)h[2], (char)h[3], 0};
	uint32_t n = rd32(h + SDT_OFF_LENGTH);
	if (n < SDT_HEADER_LENGTH || n > ACPI_MAX_TABLE_LEN) {
		warn(m, out, name, "length out of range");
		return NULL;
	}
	const uint8_t *t = map(m, phys, n);
	if (!t) {
		warn(m, out, name, "not in readable memory");
		return NULL;
	}
	if (!checksum_ok(t, n)) {
		warn(m, out, name, "bad checksum");
		return NULL;
	}
	*len = n;
	return t;
}

/* ---- MADT, 5.2.12 ---- */

static void madt_add_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t flags)
{
	if (!(flags & MADT_CPU_ENABLED))
		return; /* online-capable (hot-pluggable) CPUs are not started */
	for (unsigned i = 0; i < out->cpu_count; i++)
		if (out->cpu_apic_id[i] == apic_id) {
			out->cpus_dropped++;
			return;
		}
	if (out->cpu_count >= ARCH_MAX_CPUS) {
		out->cpus_dropped++;
		return;
	}
	out->cpu_apic_id[out->cpu_count++] = apic_id;
}

static void madt_add_ioapic(const struct acpi_mem *m, struct acpi_info *out, const uint8_t *e)
{
	uint32_t addr = rd32(e + 4);
	if (addr == 0 || (addr & 0xf) != 0) {
		warn(m, out, "MADT", "I/O APIC with a bad address");
		return;
	}
	if (out->ioapic_count >= ACPI_MAX_IOAPICS) {
		warn(m, out, "MADT", "too many I/O APICs");
		return;
	}
	out->ioapic[out->ioapic_count++] =
	    (struct acpi_ioapic){.address = addr, .gsi_base = rd32(e + 8), .id = e[2]};
}

static void madt_add_override(const struct acpi_mem *m, struct acpi_info *out, const uint8_t *e)
{
	if (e[2] != 0 || e[3] >= 16) { /* bus 0 = ISA; sources are ISA IRQs 0-15 */
		warn(m, out, "MADT", "interrupt override for a non-ISA source");
		return;
	}
	if (out->iso_count >= ACPI_MAX_OVERRIDES) {
		warn(m, out, "MADT", "too many interrupt overrides");
		return;
	}
	out->iso[out->iso_count++] =
	    (struct acpi_override){.isa_irq = e[3], .gsi = rd32(e + 4), .flags = rd16(e + 8)};
}

/* Minimum length of each entry type noos reads; 0 for types it skips. */
static unsigned madt_min_len(uint8_t type)
{
	switch (type) {
	case MADT_LAPIC:
		return MADT_LAPIC_LEN;
	case MADT_IOAPIC:
		return MADT_IOAPIC_LEN;
	case MADT_ISO:
		return MADT_ISO_LEN;
	case MADT_LAPIC_NMI:
		return MADT_LAPIC_NMI_LEN;
	case MADT_LAPIC_ADDR:
		return MADT_LAPIC_ADDR_LEN;
	case MADT_X2APIC:
		return MADT_X2APIC_LEN;
	case MADT_X2APIC_NMI:
		return MADT_X2APIC_NMI_LEN;
	default:
		return 0;
	}
}

static void madt_entry(const struct acpi_mem *m, struct acpi_info *out, const uint8_t *e)
{
	switch (e[0]) {
	case MADT_LAPIC:
		madt_add_cpu(out, e[3], rd32(e + 4));
		break;
	case MADT_X2APIC:
		madt_add_cpu(out, rd32(e + 4), rd32(e + 8));
		break;
	case MADT_IOAPIC:
		madt_add_ioapic(m, out, e);
		break;
	case MADT_ISO:
		madt_add_override(m, out, e);
		break;
	case MADT_LAPIC_NMI: /* processor UID 0xff = all processors */
		if (e[2] == 0xff && e[5] <= 1)
			out->nmi_lint = e[5];
		break;
	case MADT_X2APIC_NMI: /* UID 0xffffffff = all processors */
		if (rd32(e + 4) == 0xffffffff && e[8] <= 1)
			out->nmi_lint = e[8];
		break;
	case MADT_LAPIC_ADDR:
		if (rd64(e + 4) != 0)
			out->lapic_address = rd64(e + 4);
		break;
	}
}

static void parse_madt(const struct acpi_mem *m, struct acpi_info *out, const uint8_t *t,
                       uint32_t len)
{
	if (len < MADT_OFF_ENTRIES) {
		warn(m, out, "MADT", "shorter than its fixed fields");
		return;
	}
	out->have_madt = true;
	out->lapic_address = rd32(t + MADT_OFF_LAPIC_ADDR);
	out->pcat_compat = rd32(t + MADT_OFF_FLAGS) & MADT_FLAG_PCAT_COMPAT;
	for (uint32_t off = MADT_OFF_ENTRIES; off + 2 <= len;) {
		const uint8_t *e = t + off;
		if (e[1] < 2 || e[1] > len - off) {
			warn(m, out, "MADT", "entry length runs past the table; rest ignored");
			return;
		}
		if (e[1] < madt_min_len(e[0]))
			warn(m, out, "MADT", "entry shorter than its type needs");
		else
			madt_entry(m, out, e);
		off += e[1];
	}
}

/* ---- MCFG (PCI Firmware 3.0, 4.1.2) ---- */

static void parse_mcfg(const struct acpi_mem *m, struct acpi_info *out, const uint8_t *t,
                       uint32_t len)
{
	out->have_mcfg = true;
	for (uint32_t off = MCFG_OFF_ENTRIES; off + MCFG_ENTRY_LEN <= len; off += MCFG_ENTRY_LEN) {
		const uint8_t *e = t + off;
		struct arch_ecam w = {
		    .base = rd64(e), .segment = rd16(e + 8), .bus_start = e[10], .bus_end = e[11]};
		/* Each bus takes 1 MiB of ECAM space, so the window is 1 MiB aligned. */
		if (w.base == 0 || (w.base & 0xfffff) != 0 || w.bus_start > w.bus_end) {
			warn(m, out, "MCFG", "bad ECAM window");
			continue;
		}
		if (out->ecam_count >= ACPI_MAX_ECAM) {
			warn(m, out, "MCFG", "too many ECAM windows");
			return;
		}
		out->ecam[out->ecam_count++] = w;
	}
}

/* ---- FADT, 5.2.9 ---- */

static void parse_fadt(struct acpi_info *out, const uint8_t *t, uint32_t len)
{
	out->have_fadt = true;
	uint32_t flags = len >= FADT_OFF_FLAGS + 4 ? rd32(t + FADT_OFF_FLAGS) : 0;
	if (len >= FADT_OFF_CENTURY + 1)
		out->rtc_century = t[FADT_OFF_CENTURY];
	if (len >= FADT_OFF_BOOT_ARCH + 2)
		out->no_cmos_rtc = rd16(t + FADT_OFF_BOOT_ARCH) & FADT_BOOT_NO_CMOS_RTC;
	if (flags & FADT_FLAG_HW_REDUCED)
		return;
	uint64_t port = 0;
	if (len >= FADT_OFF_X_PM_TMR + 12 && t[FADT_OFF_X_PM_TMR] == GAS_SPACE_IO)
		port = rd64(t + FADT_OFF_X_PM_TMR + 4);
	if (port == 0 && len >= FADT_OFF_PM_TMR_LEN + 1 && t[FADT_OFF_PM_TMR_LEN] == 4)
		port = rd32(t + FADT_OFF_PM_TMR_BLK);
	if (port != 0 && port <= 0xfffc) {
		out->pm_timer_port = (uint16_t)port;
		out->pm_timer_32bit = flags & FADT_FLAG_TMR_VAL_EXT;
	}
}

/* ---- the root ---- */

static void parse_table(const struct acpi_mem *m, struct acpi_info *out, uint64_t phys)
{
	uint32_t len;
	const uint8_t *t = map_table(m, out, phys, NULL, &len);
	if (!t)
		return;
	if (memcmp(t, MADT_SIGNATURE, 4) == 0 && !out->have_madt)
		parse_madt(m, out, t, len);
	else if (memcmp(t, MCFG_SIGNATURE, 4) == 0 && !out->have_mcfg)
		parse_mcfg(m, out, t, len);
	else if (memcmp(t, FADT_SIGNATURE, 4) == 0 && !out->have_fadt)
		parse_fadt(out, t, len);
}

/* The XSDT (8-byte entries) when the RSDP offers a valid one, else the RSDT (4-byte). */
static const uint8_t *root_table(const struct acpi_mem *m, struct acpi_info *out,
                                 const uint8_t *rsdp, uint64_t phys, uint32_t *len,
                                 unsigned *entry_size)
{
	if (rsdp[RSDP_OFF_REVISION] >= 2) {
		const uint8_t *v2 = map(m, phys, RSDP_V2_MIN_LENGTH);
		uint32_t n = v2 ? rd32(v2 + RSDP_OFF_LENGTH) : 0;
		const uint8_t *full = n >= RSDP_V2_MIN_LENGTH && n <= 4096 ? map(m, phys, n) : NULL;
		if (!full || !checksum_ok(full, n))
			warn(m, out, "RSDP", "bad extended checksum; using the RSDT");
		else if (rd64(full + RSDP_OFF_XSDT) != 0) {
			const uint8_t *x =
			    map_table(m, out, rd64(full + RSDP_OFF_XSDT), "XSDT", len);
			if (x) {
				*entry_size = 8;
				return x;
			}
		}
	}
	*entry_size = 4;
	return map_table(m, out, rd32(rsdp + RSDP_OFF_RSDT), "RSDT", len);
}

int acpi_parse(const struct acpi_mem *m, uint64_t rsdp_phys, struct acpi_info *out)
{
	memset(out, 0, sizeof(*out));
	out->nmi_lint = -1;
	const uint8_t *rsdp = rsdp_at(m, rsdp_phys);
	if (!rsdp) {
		warn(m, out, "RSDP", "missing or bad checksum");
		return -EINVAL;
	}
	out->rsdp = rsdp_phys;
	uint32_t len;
	unsigned esize;
	const uint8_t *root = root_table(m, out, rsdp, rsdp_phys, &len, &esize);
	if (!root) {
		warn(m, out, "RSDT", "no valid root table");
		return -EINVAL;
	}
	unsigned n = (len - SDT_HEADER_LENGTH) / esize;
	if (n > ACPI_MAX_TABLES) {
		warn(m, out, "RSDT", "too many tables; the rest ignored");
		n = ACPI_MAX_TABLES;
	}
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = root + SDT_HEADER_LENGTH + i * esize;
		parse_table(m, out, esize == 8 ? rd64(e) : rd32(e));
	}
	return 0;
}
