/*
 * PCI bring-up, one boot step: find the host bridges (ACPI MCFG or port
 * CF8 on x86_64, the DTB on aarch64), enumerate each across its bridges,
 * keep or assign BARs, log every function, then offer each function to the
 * drivers in drivers.c's table.
 *
 * Everything lives in static tables: PCI comes up before anything needs the
 * heap, and QEMU's machines have far fewer functions than PCI_MAX_FUNCS.
 */
#include <errno.h>
#include <stdio.h>

#include "pci.h"
#include "rt.h"

static struct pci_host hosts[PCI_MAX_HOSTS];
static unsigned host_count;
static struct pci_func funcs[PCI_MAX_FUNCS];
static unsigned func_count;

unsigned pci_func_count(void)
{
	return func_count;
}

struct pci_func *pci_func_at(unsigned i)
{
	return i < func_count ? &funcs[i] : NULL;
}

/* What a function is, for the log, when no driver claims it (PCI Code and ID Assignment). */
static const char *class_name(uint32_t class_code)
{
	static const struct {
		uint16_t class;
		const char *name;
	} names[] = {
	    {0x0100, "scsi"},        {0x0101, "ide"},        {0x0106, "sata"},
	    {0x0200, "ethernet"},    {0x0300, "vga"},        {0x0380, "display"},
	    {0x0600, "host-bridge"}, {0x0601, "isa-bridge"}, {0x0604, "pci-bridge"},
	    {0x0680, "bridge"},      {0x0700, "serial"},     {0x0c03, "usb"},
	    {0x0c05, "smbus"},
	};
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].class == class_code >> 8)
			return names[i].name;
	return "device";
}

static const char *const bar_kinds[] = {"none", "io", "mem", "mem64"};

/* "pci 00:02.0 1af4:1044 virtio-rng bar1 mem 0xfebd1000+0x1000 bar4 mem64 pref 0x...+0x4000" */
static void log_func(const struct pci_func *f)
{
	const struct pci_driver *drv = pci_driver_match(f);
	printf("pci %s %04x:%04x %s", f->name, f->vendor, f->device,
	       drv && drv->describe ? drv->describe(f) : class_name(f->class_code));
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &f->bar[i];
		if (b->kind == PCI_BAR_NONE)
			continue;
		printf(" bar%u %s%s ", i, bar_kinds[b->kind], b->prefetch ? " pref" : "");
		if (b->valid)
			printf("0x%lx+0x%lx", (unsigned long)b->cpu_addr, (unsigned long)b->size);
		else
			printf("unassigned+0x%lx", (unsigned long)b->size);
	}
	if (f->header_type == PCI_HEADER_TYPE_BRIDGE)
		printf(" buses %02x-%02x", f->secondary, f->subordinate);
	if (f->int_pin >= 1 && f->int_pin <= 4)
		printf(" INT%c", 'A' + f->int_pin - 1);
	printf("\n");
}

static void log_host(const struct pci_host *h)
{
	static const char *const space[] = {"io", "mem", "mem64"};
	printf("pci: host %04x buses %02x-%02x via %s%s", h->segment, h->bus_start, h->bus_end,
	       h->ops->name, h->assign ? ", noos assigns BARs" : "");
	for (unsigned sp = 0; sp < PCI_SPACES; sp++)
		if (h->win[sp].size && (h->assign || h->win[sp].cpu_base != h->win[sp].bus_base))
			printf(" %s 0x%lx+0x%lx", space[sp], (unsigned long)h->win[sp].cpu_base,
			       (unsigned long)h->win[sp].size);
	printf("\n");
}

static void probe_drivers(void)
{
	for (unsigned i = 0; i < func_count; i++) {
		struct pci_func *f = &funcs[i];
		const struct pci_driver *drv = pci_driver_match(f);
		if (!drv)
			continue;
		f->driver = drv;
		int rc = drv->probe(f);
		if (rc < 0) {
			printf("pci %s: %s probe failed (%d)\n", f->name, drv->name, rc);
			f->driver = NULL;
		}
	}
}

int pci_init(const struct boot_info *bi)
{
	int n = pci_hosts_discover(bi, hosts, PCI_MAX_HOSTS);
	if (n <= 0) {
		printf("pci: no host bridge found\n");
		return n < 0 ? n : -ENODEV;
	}
	host_count = (unsigned)n;
	for (unsigned i = 0; i < host_count; i++) {
		struct pci_host *h = &hosts[i];
		log_host(h);
		unsigned found = pci_enumerate(h, funcs + func_count, PCI_MAX_FUNCS - func_count);
		pci_assign_resources(h, funcs + func_count, found);
		func_count += found;
	}
	for (unsigned i = 0; i < func_count; i++)
		log_func(&funcs[i]);
	probe_drivers();
	if (pci_errors)
		printf("pci: %u malformed values from devices or firmware were rejected\n",
		       pci_errors);
	return (int)func_count;
}
