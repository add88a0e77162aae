/*
 * x86_64 host bridges: ECAM windows from the ACPI MCFG table (arch.h
 * arch_pci_ecam, parsed and checksummed by arch/x86_64/acpi.c), else
 * configuration mechanism #1 at ports 0xcf8/0xcfc (QEMU pc has no MCFG).
 *
 * Firmware (SeaBIOS) numbered the buses and assigned the BARs; the host
 * windows here are identity ranges that only bound what a valid BAR may
 * hold (the real windows are in the DSDT's _CRS, which is AML). BARs are
 * still checked against RAM, alignment, bridge windows and each other.
 *
 * INTx: SeaBIOS routed each pin and wrote the ISA IRQ to the Interrupt Line
 * register; QEMU's DSDT describes those links as level, active high.
 */
#include <errno.h>

#include "io.h"
#include "pci.h"
#include "rt.h"

static void x86_windows(struct pci_host *h, const struct boot_info *bi)
{
	h->win[PCI_SPACE_IO] = (struct pci_window){0, 0, 0x10000};
	h->win[PCI_SPACE_MEM] = (struct pci_window){0, 0, 1ull << 32};
	h->win[PCI_SPACE_PREF64] =
	    (struct pci_window){1ull << 32, 1ull << 32, (1ull << 46) - (1ull << 32)};
	h->io_ports = true;
	h->ram = bi->ram;
	h->ram_count = bi->ram_count;
}

/* MCFG gives the address of bus 0 of the segment (PCI Firmware 3.0 §4.1.2). */
static bool ecam_host(struct pci_host *h, const struct arch_ecam *e)
{
	if (e->bus_end < e->bus_start)
		return false;
	uint64_t first = e->base + ((uint64_t)e->bus_start << PCI_ECAM_BUS_SHIFT);
	uint64_t size = (uint64_t)(e->bus_end - e->bus_start + 1) << PCI_ECAM_BUS_SHIFT;
	uintptr_t va = io_map(first, size);
	if (!va)
		return false;
	*h = (struct pci_host){.ops = &pci_ecam_ops,
	                       .ecam = va,
	                       .segment = e->segment,
	                       .bus_start = e->bus_start,
	                       .bus_end = e->bus_end};
	return true;
}

int pci_hosts_discover(const struct boot_info *bi, struct pci_host *hosts, unsigned max)
{
	unsigned n = 0;
	struct arch_ecam e;
	for (unsigned i = 0; n < max && arch_pci_ecam(i, &e) == 0; i++) {
		if (!ecam_host(&hosts[n], &e)) {
			pci_error(NULL, "MCFG entry with bad buses or an unmapped window: skipped");
			continue;
		}
		x86_windows(&hosts[n++], bi);
	}
	if (n == 0 && max > 0 && pci_cf8_present()) {
		hosts[0] = (struct pci_host){.ops = &pci_cf8_ops, .bus_start = 0, .bus_end = 255};
		x86_windows(&hosts[n++], bi);
	}
	return (int)n;
}

int pci_host_intx(const struct pci_func *f, unsigned *line, unsigned *flags)
{
	if (f->int_line == 0 || f->int_line >= 16)
		return -ENOENT; /* 0xff: not routed */
	*line = f->int_line;
	*flags = ARCH_IRQ_LEVEL | ARCH_IRQ_ACTIVE_HIGH;
	return 0;
}
