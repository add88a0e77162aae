/*
 * The machine as ACPI describes it, read once at boot: acpi.c parses, this
 * file gives it memory to read (the low 4 GiB, where firmware puts its
 * tables, are identity-mapped) and reports what it rejected.
 * Without a MADT it falls back to the MP tables (mptable.c); without those
 * too noos still boots, on the boot CPU alone with no I/O APIC lines.
 */
#include <errno.h>

#include "acpi.h"
#include "rt.h"
#include "x86.h"

#define IDENTITY_LIMIT (4ull << 30)

#define BDA_EBDA_SEGMENT 0x40e /* BIOS data area: the EBDA's segment (ACPI 5.2.5.1) */

static struct acpi_info acpi;
static uint16_t bda_ebda_segment; /* saved by arch_boot while page 0 is still mapped */

void platform_save_bda(void)
{
	bda_ebda_segment = *(const volatile uint16_t *)BDA_EBDA_SEGMENT;
}

/*
 * The low 4 GiB, identity-mapped by the boot tables and by arch_mmu_init's
 * alike, except page 0, which the latter leaves unmapped to catch null
 * pointers: the one word the scanners read there comes from the saved copy.
 */
static const void *identity_map(void *ctx, uint64_t phys, uint64_t len)
{
	(void)ctx;
	if (phys == BDA_EBDA_SEGMENT && len == 2)
		return &bda_ebda_segment;
	if (phys < 4096 || phys >= IDENTITY_LIMIT || len > IDENTITY_LIMIT - phys)
		return NULL;
	return (const void *)(uintptr_t)phys;
}

static void report(void *ctx, const char *what, const char *why)
{
	(void)ctx;
	printf("acpi: %s: %s\n", what, why);
}

static const struct acpi_mem boot_mem = {.map = identity_map, .warn = report};

/* No MADT: the MP tables, else the boot CPU alone. */
static void without_madt(const char *why)
{
	if (mptable_parse(&boot_mem, &acpi) == 0)
		return;
	printf("acpi: %s and no MP table; running on the boot CPU without an I/O APIC\n", why);
}

const struct acpi_info *platform_init(const struct boot_info *bi)
{
	uint64_t rsdp = bi->acpi_rsdp;
	acpi.nmi_lint = -1;
	if (rsdp == 0 && acpi_find_rsdp(&boot_mem, &rsdp) != 0)
		without_madt("no RSDP");
	else if (acpi_parse(&boot_mem, rsdp, &acpi) != 0)
		without_madt("unusable tables");
	else if (!acpi.have_madt)
		without_madt("no MADT");
	if (acpi.cpus_dropped)
		printf("acpi: %u CPU entries ignored (duplicates, or beyond %d)\n",
		       acpi.cpus_dropped, ARCH_MAX_CPUS);
	return &acpi;
}

const struct acpi_info *platform(void)
{
	return &acpi;
}

int arch_pci_ecam(unsigned index, struct arch_ecam *out)
{
	if (index >= acpi.ecam_count)
		return -ENOENT;
	*out = acpi.ecam[index];
	return 0;
}
