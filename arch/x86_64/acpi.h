/*
 * The x86_64 platform as ACPI describes it: CPUs, I/O APICs, ISA interrupt
 * overrides (MADT, or the MP tables without one), PCIe ECAM windows (MCFG),
 * the PM timer and the RTC's century register (FADT).
 *
 * acpi.c is portable C with no hardware access: it reads physical memory only
 * through struct acpi_mem, so the same code runs in the guest (identity
 * mapping, platform.c) and on the host (tests/host/test_acpi.c,
 * tests/fuzz/fuzz_acpi.c).
 */
#ifndef NOOS_ACPI_H
#define NOOS_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"

#define ACPI_MAX_IOAPICS   8
#define ACPI_MAX_OVERRIDES 16
#define ACPI_MAX_ECAM      8
#define ACPI_MAX_TABLES    64       /* RSDT/XSDT entries looked at */
#define ACPI_MAX_TABLE_LEN 0x100000 /* longer tables are rejected as malformed */

/* MPS INTI flags of an override (ACPI 5.2.12.5, table 5.26): polarity bits 1:0, trigger 3:2. */
#define ACPI_INTI_POLARITY_MASK 0x3
#define ACPI_INTI_ACTIVE_HIGH   0x1
#define ACPI_INTI_ACTIVE_LOW    0x3
#define ACPI_INTI_TRIGGER_MASK  0xc
#define ACPI_INTI_EDGE          0x4
#define ACPI_INTI_LEVEL         0xc

struct acpi_ioapic {
	uint64_t address;
	uint32_t gsi_base;
	uint8_t id;
};

struct acpi_override {
	uint8_t isa_irq;
	uint32_t gsi;
	uint16_t flags; /* ACPI_INTI_* */
};

struct acpi_info {
	uint64_t rsdp;
	bool have_madt, have_fadt, have_mcfg;
	bool have_mptable; /* CPUs and I/O APICs came from MP tables (mptable.c), not a MADT */

	/* MADT */
	uint64_t lapic_address;
	bool pcat_compat;                    /* legacy 8259 pair present */
	uint32_t cpu_apic_id[ARCH_MAX_CPUS]; /* enabled CPUs, in MADT order */
	unsigned cpu_count;
	unsigned cpus_dropped; /* enabled CPUs beyond ARCH_MAX_CPUS or duplicates */
	int nmi_lint;          /* LINT pin wired to NMI for all CPUs, -1 if none given */
	struct acpi_ioapic ioapic[ACPI_MAX_IOAPICS];
	unsigned ioapic_count;
	struct acpi_override iso[ACPI_MAX_OVERRIDES];
	unsigned iso_count;

	/* MCFG */
	struct arch_ecam ecam[ACPI_MAX_ECAM];
	unsigned ecam_count;

	/* FADT */
	uint16_t pm_timer_port; /* 0 when there is no PM timer */
	bool pm_timer_32bit;
	uint8_t rtc_century; /* CMOS index, 0 when unknown */
	bool no_cmos_rtc;

	unsigned rejected; /* tables and entries dropped as malformed */
};

struct acpi_mem {
	/* [phys, phys + len) as readable memory, or NULL when it is not RAM/ROM we may read. */
	const void *(*map)(void *ctx, uint64_t phys, uint64_t len);
	/* One line about something malformed: what (a table signature) and why. May be NULL. */
	void (*warn)(void *ctx, const char *what, const char *why);
	void *ctx;
};

/* The RSDP in the EBDA or the BIOS ROM area (ACPI 5.2.5.1): its address, or -ENOENT. */
int acpi_find_rsdp(const struct acpi_mem *m, uint64_t *rsdp);

/*
 * Fill *out from the tables under the RSDP at rsdp. Returns 0, or -EINVAL when
 * the RSDP or root table is unusable. Individual malformed tables or entries
 * are skipped, warned about and counted in out->rejected.
 */
int acpi_parse(const struct acpi_mem *m, uint64_t rsdp, struct acpi_info *out);

/*
 * mptable.c: where there is no MADT, the CPUs, I/O APICs and ISA routes from
 * the Intel MP tables (MP spec 1.4) into *out, which must be initialised
 * (zeroed, or filled by acpi_parse). Returns 0, -ENOENT (none) or -EINVAL.
 */
int mptable_parse(const struct acpi_mem *m, struct acpi_info *out);
/* The same from a floating pointer structure at a known address (what the scan found). */
int mptable_parse_at(const struct acpi_mem *m, uint64_t floating, struct acpi_info *out);

#endif
