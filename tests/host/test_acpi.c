/*
 * arch/x86_64/acpi.c and mptable.c against synthetic firmware tables in a fake physical
 * memory: a well-formed set parses to the expected machine, and each kind of
 * damage (checksums, lengths, pointers, entry lengths, limits) is rejected
 * without reading outside what was checked (the build runs under ASan).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "acpi_reg.h"
#include "check.h"

#define MEM_SIZE 0x100000 /* the first MiB, as on a PC */
#define RSDP_AT  0xf0000
#define RSDT_AT  0x10000
#define XSDT_AT  0x10800
#define MADT_AT  0x11000
#define MCFG_AT  0x12000
#define FADT_AT  0x13000

static uint8_t *mem;
static int warnings;

static const void *fake_map(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	if (phys >= MEM_SIZE || len > MEM_SIZE - phys)
		return NULL;
	return mem + phys;
}

static void fake_warn(void *ctx, const char *what, const char *why)
{
	(void)ctx;
	(void)what;
	(void)why;
	warnings++;
}

static const struct acpi_mem fake = {.map = fake_map, .warn = fake_warn};

static void put16(uint64_t at, uint16_t v)
{
	memcpy(mem + at, &v, 2);
}

static void put32(uint64_t at, uint32_t v)
{
	memcpy(mem + at, &v, 4);
}

static void put64(uint64_t at, uint64_t v)
{
	memcpy(mem + at, &v, 8);
}

static void fix_sum(uint64_t at, uint64_t len, uint64_t sum_at)
{
	uint8_t s = 0;
	mem[sum_at] = 0;
	for (uint64_t i = 0; i < len; i++)
		s += mem[at + i];
	mem[sum_at] = (uint8_t)-s;
}

static void header(uint64_t at, const char *sig, uint32_t len)
{
	memcpy(mem + at, sig, 4);
	put32(at + SDT_OFF_LENGTH, len);
	mem[at + 8] = 1; /* revision */
	memcpy(mem + at + 10, "NOOSTS", 6);
}

static void seal(uint64_t at)
{
	uint32_t len;
	memcpy(&len, mem + at + SDT_OFF_LENGTH, 4);
	fix_sum(at, len, at + 9);
}

static void rsdp(int revision)
{
	memcpy(mem + RSDP_AT, RSDP_SIGNATURE, 8);
	mem[RSDP_AT + RSDP_OFF_REVISION] = (uint8_t)revision;
	put32(RSDP_AT + RSDP_OFF_RSDT, RSDT_AT);
	fix_sum(RSDP_AT, RSDP_V1_LENGTH, RSDP_AT + 8);
	if (revision >= 2) {
		put32(RSDP_AT + RSDP_OFF_LENGTH, RSDP_V2_MIN_LENGTH);
		put64(RSDP_AT + RSDP_OFF_XSDT, XSDT_AT);
		fix_sum(RSDP_AT, RSDP_V2_MIN_LENGTH, RSDP_AT + 32);
	}
}

static void root(const char *sig, uint64_t at, unsigned esize, const uint64_t *tables, unsigned n)
{
	header(at, sig, SDT_HEADER_LENGTH + esize * n);
	for (unsigned i = 0; i < n; i++) {
		if (esize == 8)
			put64(at + SDT_HEADER_LENGTH + 8 * i, tables[i]);
		else
			put32(at + SDT_HEADER_LENGTH + 4 * i, (uint32_t)tables[i]);
	}
	seal(at);
}

/* MADT entries, appended at *off. */
static void lapic(uint32_t *off, uint8_t apic_id, uint32_t flags)
{
	uint64_t e = MADT_AT + *off;
	mem[e] = MADT_LAPIC, mem[e + 1] = MADT_LAPIC_LEN, mem[e + 2] = apic_id,
	mem[e + 3] = apic_id;
	put32(e + 4, flags);
	*off += MADT_LAPIC_LEN;
}

static void x2apic(uint32_t *off, uint32_t id, uint32_t flags)
{
	uint64_t e = MADT_AT + *off;
	mem[e] = MADT_X2APIC, mem[e + 1] = MADT_X2APIC_LEN;
	put32(e + 4, id);
	put32(e + 8, flags);
	put32(e + 12, id);
	*off += MADT_X2APIC_LEN;
}

static void ioapic(uint32_t *off, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
	uint64_t e = MADT_AT + *off;
	mem[e] = MADT_IOAPIC, mem[e + 1] = MADT_IOAPIC_LEN, mem[e + 2] = id;
	put32(e + 4, addr);
	put32(e + 8, gsi_base);
	*off += MADT_IOAPIC_LEN;
}

static void iso(uint32_t *off, uint8_t bus, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	uint64_t e = MADT_AT + *off;
	mem[e] = MADT_ISO, mem[e + 1] = MADT_ISO_LEN, mem[e + 2] = bus, mem[e + 3] = irq;
	put32(e + 4, gsi);
	put16(e + 8, flags);
	*off += MADT_ISO_LEN;
}

static void nmi(uint32_t *off, uint8_t uid, uint8_t lint)
{
	uint64_t e = MADT_AT + *off;
	mem[e] = MADT_LAPIC_NMI, mem[e + 1] = MADT_LAPIC_NMI_LEN, mem[e + 2] = uid;
	put16(e + 3, 0);
	mem[e + 5] = lint;
	*off += MADT_LAPIC_NMI_LEN;
}

static void madt_finish(uint32_t off)
{
	header(MADT_AT, MADT_SIGNATURE, off);
	put32(MADT_AT + MADT_OFF_LAPIC_ADDR, 0xfee00000);
	put32(MADT_AT + MADT_OFF_FLAGS, MADT_FLAG_PCAT_COMPAT);
	seal(MADT_AT);
}

/* QEMU q35-like: 4 CPUs (one disabled, one x2APIC-only), 1 I/O APIC, two overrides. */
static void good_madt(void)
{
	uint32_t off = MADT_OFF_ENTRIES;
	lapic(&off, 0, MADT_CPU_ENABLED);
	lapic(&off, 1, MADT_CPU_ENABLED);
	lapic(&off, 2, 0); /* present but disabled */
	lapic(&off, 3, MADT_CPU_ENABLED);
	x2apic(&off, 300, MADT_CPU_ENABLED);
	ioapic(&off, 0, 0xfec00000, 0);
	iso(&off, 0, 0, 2, 0);
	iso(&off, 0, 9, 9, ACPI_INTI_ACTIVE_LOW | ACPI_INTI_LEVEL);
	nmi(&off, 0xff, 1);
	madt_finish(off);
}

static void good_mcfg(void)
{
	header(MCFG_AT, MCFG_SIGNATURE, MCFG_OFF_ENTRIES + MCFG_ENTRY_LEN);
	put64(MCFG_AT + MCFG_OFF_ENTRIES, 0xb0000000);
	put16(MCFG_AT + MCFG_OFF_ENTRIES + 8, 0);
	mem[MCFG_AT + MCFG_OFF_ENTRIES + 10] = 0;
	mem[MCFG_AT + MCFG_OFF_ENTRIES + 11] = 255;
	seal(MCFG_AT);
}

static void fadt(uint32_t len, uint32_t flags)
{
	header(FADT_AT, FADT_SIGNATURE, len);
	put32(FADT_AT + FADT_OFF_PM_TMR_BLK, 0x608);
	mem[FADT_AT + FADT_OFF_PM_TMR_LEN] = 4;
	mem[FADT_AT + FADT_OFF_CENTURY] = 0x32;
	if (len >= FADT_OFF_FLAGS + 4)
		put32(FADT_AT + FADT_OFF_FLAGS, flags);
	seal(FADT_AT);
}

static const uint64_t all_tables[] = {MADT_AT, MCFG_AT, FADT_AT};

/* A fresh, well-formed set: RSDP revision 2 with both RSDT and XSDT. */
static void good_machine(void)
{
	memset(mem, 0, MEM_SIZE);
	good_madt();
	good_mcfg();
	fadt(244, FADT_FLAG_TMR_VAL_EXT);
	root("RSDT", RSDT_AT, 4, all_tables, 3);
	root("XSDT", XSDT_AT, 8, all_tables, 3);
	rsdp(2);
	warnings = 0;
}

static void test_good(void)
{
	good_machine();
	struct acpi_info a;
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0);
	CHECK(a.have_madt && a.have_mcfg && a.have_fadt);
	CHECK(a.rejected == 0 && warnings == 0);
	CHECK(a.cpu_count == 4);
	CHECK(a.cpu_apic_id[0] == 0 && a.cpu_apic_id[1] == 1 && a.cpu_apic_id[2] == 3 &&
	      a.cpu_apic_id[3] == 300);
	CHECK(a.lapic_address == 0xfee00000 && a.pcat_compat);
	CHECK(a.ioapic_count == 1 && a.ioapic[0].address == 0xfec00000 &&
	      a.ioapic[0].gsi_base == 0);
	CHECK(a.iso_count == 2 && a.iso[0].isa_irq == 0 && a.iso[0].gsi == 2);
	CHECK(a.iso[1].isa_irq == 9 && a.iso[1].flags == (ACPI_INTI_ACTIVE_LOW | ACPI_INTI_LEVEL));
	CHECK(a.nmi_lint == 1);
	CHECK(a.ecam_count == 1 && a.ecam[0].base == 0xb0000000 && a.ecam[0].bus_end == 255);
	CHECK(a.pm_timer_port == 0x608 && a.pm_timer_32bit);
	CHECK(a.rtc_century == 0x32 && !a.no_cmos_rtc);
}

static void test_find_rsdp(void)
{
	good_machine();
	uint64_t at = 0;
	CHECK(acpi_find_rsdp(&fake, &at) == 0 && at == RSDP_AT);
	/* In the EBDA (its segment at 0x40e) it is found first. */
	memcpy(mem + 0x9fc00, mem + RSDP_AT, RSDP_V2_MIN_LENGTH);
	put16(BIOS_EBDA_SEG_PTR, 0x9fc0);
	CHECK(acpi_find_rsdp(&fake, &at) == 0 && at == 0x9fc00);
	/* A bad checksum is not an RSDP. */
	memset(mem + 0x9fc00, 0, RSDP_V2_MIN_LENGTH);
	mem[RSDP_AT + 8] ^= 1;
	CHECK(acpi_find_rsdp(&fake, &at) == -ENOENT);
	/* An EBDA pointer into nonsense is ignored, not followed. */
	put16(BIOS_EBDA_SEG_PTR, 0xffff);
	CHECK(acpi_find_rsdp(&fake, &at) == -ENOENT);
}

static void test_bad_rsdp(void)
{
	struct acpi_info a;
	good_machine();
	mem[RSDP_AT + 8] ^= 0x55;
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == -EINVAL);
	CHECK(acpi_parse(&fake, 0, &a) == -EINVAL);
	CHECK(acpi_parse(&fake, MEM_SIZE - 4, &a) == -EINVAL);
	CHECK(acpi_parse(&fake, ~0ull - 8, &a) == -EINVAL);
}

/* A broken XSDT falls back to the RSDT; a broken extended checksum too. */
static void test_root_fallback(void)
{
	struct acpi_info a;
	good_machine();
	mem[XSDT_AT + 20] ^= 1;
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0 && a.have_madt && a.rejected == 1);

	good_machine();
	mem[RSDP_AT + 33] ^= 1; /* reserved byte: the extended checksum no longer holds */
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0 && a.have_madt && a.rejected == 1);

	good_machine();
	memcpy(mem + RSDT_AT, "XXXX", 4);
	mem[XSDT_AT + 20] ^= 1;
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == -EINVAL);
}

static void test_bad_tables(void)
{
	struct acpi_info a;
	good_machine();
	mem[MADT_AT + 50] ^= 1; /* checksum */
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0);
	CHECK(!a.have_madt && a.cpu_count == 0 && a.have_mcfg && a.have_fadt && a.rejected == 1);

	good_machine();
	put32(MCFG_AT + SDT_OFF_LENGTH, 20); /* shorter than its own header, checksum right */
	fix_sum(MCFG_AT, 20, MCFG_AT + 9);
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0 && !a.have_mcfg && a.rejected == 1);

	good_machine();
	put32(MADT_AT + SDT_OFF_LENGTH, 0x7fffffff); /* far past the end of memory */
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0 && !a.have_madt && a.rejected == 1);

	good_machine();
	put32(MCFG_AT + SDT_OFF_LENGTH, MEM_SIZE - MCFG_AT + 16); /* runs off the map */
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0 && !a.have_mcfg && a.rejected == 1);

	good_machine(); /* tables listed at addresses that are not memory */
	const uint64_t wild[] = {0, MEM_SIZE + 4096, ~0ull - 16, MADT_AT};
	root("XSDT", XSDT_AT, 8, wild, 4);
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0 && a.have_madt && a.cpu_count == 4);
}

static void test_bad_madt_entries(void)
{
	struct acpi_info a;
	good_machine();
	uint32_t off = MADT_OFF_ENTRIES;
	lapic(&off, 0, MADT_CPU_ENABLED);
	mem[MADT_AT + off] = MADT_LAPIC; /* an entry of length 0 would loop forever */
	mem[MADT_AT + off + 1] = 0;
	off += 8;
	lapic(&off, 5, MADT_CPU_ENABLED); /* never reached */
	madt_finish(off);
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0 && a.have_madt && a.cpu_count == 1);
	CHECK(a.rejected == 1);

	good_machine();
	off = MADT_OFF_ENTRIES;
	lapic(&off, 0, MADT_CPU_ENABLED);
	mem[MADT_AT + off] = MADT_IOAPIC; /* claims more bytes than the table has */
	mem[MADT_AT + off + 1] = 200;
	put32(MADT_AT + off + 4, 0xfec00000); /* otherwise valid: it must not be read */
	off += 4;
	madt_finish(off);
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0 && a.cpu_count == 1 && a.ioapic_count == 0);
	CHECK(a.rejected == 1);

	good_machine();
	off = MADT_OFF_ENTRIES;
	mem[MADT_AT + off] = MADT_IOAPIC; /* shorter than an I/O APIC entry: skipped */
	mem[MADT_AT + off + 1] = 6;
	off += 6;
	ioapic(&off, 1, 0, 0);   /* address 0: skipped */
	iso(&off, 1, 4, 4, 0);   /* bus 1 is not ISA: skipped */
	iso(&off, 0, 16, 16, 0); /* source 16 is not an ISA IRQ: skipped */
	lapic(&off, 7, MADT_CPU_ENABLED);
	lapic(&off, 7, MADT_CPU_ENABLED); /* duplicate */
	mem[MADT_AT + off] = 0x7f;        /* unknown type: skipped quietly */
	mem[MADT_AT + off + 1] = 3;
	off += 3;
	madt_finish(off);
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0);
	CHECK(a.ioapic_count == 0 && a.iso_count == 0 && a.cpu_count == 1 && a.cpus_dropped == 1);
	CHECK(a.rejected == 4);
}

static void test_limits(void)
{
	struct acpi_info a;
	good_machine();
	uint32_t off = MADT_OFF_ENTRIES;
	for (unsigned i = 0; i < ARCH_MAX_CPUS + 10; i++)
		x2apic(&off, 1000 + i, MADT_CPU_ENABLED);
	for (unsigned i = 0; i < ACPI_MAX_IOAPICS + 2; i++)
		ioapic(&off, (uint8_t)i, 0xfec00000 + 0x1000 * i, 24 * i);
	for (unsigned i = 0; i < ACPI_MAX_OVERRIDES + 2; i++)
		iso(&off, 0, (uint8_t)(i % 16), i, 0);
	madt_finish(off);
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0);
	CHECK(a.cpu_count == ARCH_MAX_CPUS && a.cpus_dropped == 10);
	CHECK(a.ioapic_count == ACPI_MAX_IOAPICS && a.iso_count == ACPI_MAX_OVERRIDES);
}

static void test_mcfg_and_fadt(void)
{
	struct acpi_info a;
	good_machine();
	header(MCFG_AT, MCFG_SIGNATURE, MCFG_OFF_ENTRIES + 3 * MCFG_ENTRY_LEN);
	uint64_t e = MCFG_AT + MCFG_OFF_ENTRIES;
	put64(e, 0xb0000000), mem[e + 10] = 5, mem[e + 11] = 4; /* start bus after end */
	e += MCFG_ENTRY_LEN;
	put64(e, 0xb0001000), mem[e + 11] = 1; /* not 1 MiB aligned */
	e += MCFG_ENTRY_LEN;
	put64(e, 0xe0000000), put16(e + 8, 1), mem[e + 11] = 7;
	seal(MCFG_AT);
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0);
	CHECK(a.ecam_count == 1 && a.ecam[0].base == 0xe0000000 && a.ecam[0].segment == 1);
	CHECK(a.rejected == 2);

	good_machine();
	fadt(116, 0); /* ACPI 1.0 size: flags present, no X_ fields */
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0 && a.pm_timer_port == 0x608 && !a.pm_timer_32bit);

	good_machine();
	fadt(100, 0); /* too short for the century and boot flags: they stay unknown */
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0 && a.have_fadt && a.rtc_century == 0);

	good_machine();
	fadt(276, FADT_FLAG_HW_REDUCED); /* microvm: no PM timer */
	put16(FADT_AT + FADT_OFF_BOOT_ARCH, FADT_BOOT_NO_CMOS_RTC);
	seal(FADT_AT);
	CHECK(acpi_parse(&fake, RSDP_AT, &a) == 0 && a.pm_timer_port == 0 && a.no_cmos_rtc);
}

/* ---- MP tables (mptable.c), as qboot writes them on microvm with acpi=off ---- */

#define MPF_AT 0x9fc00
#define MPC_AT 0x9fc10

static uint32_t mp_entry(uint32_t off, const uint8_t *e, unsigned len)
{
	memcpy(mem + MPC_AT + off, e, len);
	return off + len;
}

/* 2 enabled CPUs and a disabled one, an ISA bus, one I/O APIC, IRQ 0 -> pin 2. */
static uint32_t good_mp_entries(void)
{
	uint32_t off = 44;
	const uint8_t cpu0[20] = {0, 0, 0x14, 3}, cpu1[20] = {0, 1, 0x14, 1},
	              cpu2[20] = {0, 2, 0x14, 0};
	const uint8_t bus[8] = {1, 0, 'I', 'S', 'A', ' ', ' ', ' '};
	const uint8_t io[8] = {2, 3, 0x11, 1, 0x00, 0x00, 0xc0, 0xfe};
	const uint8_t irq0[8] = {3, 0, 0, 0, 0, 0, 3, 2}, irq9[8] = {3, 0, 0x0f, 0, 0, 9, 3, 9};
	off = mp_entry(off, cpu0, 20);
	off = mp_entry(off, cpu1, 20);
	off = mp_entry(off, cpu2, 20);
	off = mp_entry(off, bus, 8);
	off = mp_entry(off, io, 8);
	off = mp_entry(off, irq0, 8);
	return mp_entry(off, irq9, 8);
}

static void mp_seal(uint32_t len)
{
	memcpy(mem + MPF_AT, "_MP_", 4);
	put32(MPF_AT + 4, MPC_AT);
	mem[MPF_AT + 8] = 1;
	fix_sum(MPF_AT, 16, MPF_AT + 10);
	memcpy(mem + MPC_AT, "PCMP", 4);
	put16(MPC_AT + 4, (uint16_t)len);
	put16(MPC_AT + 34, 0); /* qboot's entry count: the parser must walk by length */
	put32(MPC_AT + 36, 0xfee00000);
	fix_sum(MPC_AT, len, MPC_AT + 7);
}

static void test_mptable(void)
{
	struct acpi_info a;
	memset(mem, 0, MEM_SIZE);
	mp_seal(good_mp_entries());
	memset(&a, 0, sizeof(a));
	CHECK(mptable_parse(&fake, &a) == 0 && a.have_mptable && a.rejected == 0);
	CHECK(a.cpu_count == 2 && a.cpu_apic_id[0] == 0 && a.cpu_apic_id[1] == 1);
	CHECK(a.ioapic_count == 1 && a.ioapic[0].address == 0xfec00000 && a.ioapic[0].id == 3);
	CHECK(a.iso_count == 2 && a.iso[0].isa_irq == 0 && a.iso[0].gsi == 2);
	CHECK(a.iso[1].isa_irq == 9 && a.iso[1].flags == 0x0f);
	CHECK(a.lapic_address == 0xfee00000 && a.pcat_compat);

	mem[MPC_AT + 50] ^= 1; /* table checksum */
	memset(&a, 0, sizeof(a));
	CHECK(mptable_parse(&fake, &a) == -EINVAL && a.cpu_count == 0);

	memset(mem, 0, MEM_SIZE); /* an entry running past the table's length */
	uint32_t len = good_mp_entries();
	mp_seal(len - 4);
	memset(&a, 0, sizeof(a));
	CHECK(mptable_parse(&fake, &a) == 0 && a.cpu_count == 2 && a.iso_count == 1);
	CHECK(a.rejected == 1);

	memset(mem, 0, MEM_SIZE); /* an unknown entry type stops the walk */
	len = good_mp_entries();
	mem[MPC_AT + 44 + 20] = 0x99;
	mp_seal(len);
	memset(&a, 0, sizeof(a));
	CHECK(mptable_parse(&fake, &a) == 0 && a.cpu_count == 1 && a.rejected == 1);

	memset(mem, 0, MEM_SIZE);
	memset(&a, 0, sizeof(a));
	CHECK(mptable_parse(&fake, &a) == -ENOENT);
}

int main(void)
{
	mem = calloc(1, MEM_SIZE);
	if (!mem)
		return 1;
	test_good();
	test_find_rsdp();
	test_bad_rsdp();
	test_root_fallback();
	test_bad_tables();
	test_bad_madt_entries();
	test_limits();
	test_mcfg_and_fadt();
	test_mptable();
	free(mem);
	return check_report("acpi");
}
