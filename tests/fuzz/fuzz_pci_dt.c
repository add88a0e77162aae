/*
 * libFuzzer target for pci/host_dt.c. A random blob is almost never a
 * device tree, so the input instead patches a QEMU-virt-shaped tree
 * (tests/host/pci_dt_blob.h): each 6 input bytes are a 16-bit offset and a
 * 32-bit big-endian word written there, which lands in property values,
 * lengths and cell counts alike. Whatever passes libfdt's full check (as
 * the arch's boot DTB check requires) is parsed; results must stay within
 * the bounds the parser promises, and INTx lookups must terminate.
 */
#include <stdint.h>
#include <stdlib.h>

#include "pci.h"
#include "pci_dt_blob.h"

static char pristine[sizeof(blob)];
static size_t pristine_size;

static void check_host(const struct pci_host *h)
{
	if (h->bus_start > h->bus_end)
		abort();
	for (unsigned sp = 0; sp < PCI_SPACES; sp++) {
		const struct pci_window *w = &h->win[sp];
		if (w->cpu_base + w->size < w->cpu_base || w->bus_base + w->size < w->bus_base)
			abort();
	}
	if (h->win[PCI_SPACE_MEM].bus_base + h->win[PCI_SPACE_MEM].size > (1ull << 32))
		abort();
}

static void lookups(struct pci_host *h)
{
	struct pci_func bridge = {.host = h, .bus = 0, .dev = 3, .int_pin = 1};
	for (unsigned dev = 0; dev < 6; dev++)
		for (unsigned pin = 0; pin <= 5; pin++) {
			struct pci_func f = {.host = h, .bus = 1, .dev = dev, .int_pin = pin};
			f.parent = dev & 1 ? &bridge : NULL;
			unsigned line = 0, flags = 0;
			if (pci_host_intx(&f, &line, &flags) == 0 &&
			    (line < 16 || line >= 1020 || !flags))
				abort();
		}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!pristine_size) {
		if (dt_build(&qemu_virt) != 0)
			abort();
		pristine_size = fdt_totalsize(blob);
		memcpy(pristine, blob, pristine_size);
	}
	memcpy(blob, pristine, pristine_size);
	for (size_t i = 0; i + 6 <= size; i += 6) {
		size_t off = ((size_t)data[i] << 8 | data[i + 1]) % (pristine_size - 3);
		memcpy(blob + off, data + i + 2, 4);
	}
	if (fdt_check_full(blob, pristine_size) != 0)
		return 0;
	for (int node = fdt_node_offset_by_compatible(blob, -1, "pci-host-ecam-generic"); node >= 0;
	     node = fdt_node_offset_by_compatible(blob, node, "pci-host-ecam-generic")) {
		struct pci_host h;
		uint64_t base;
		if (pci_dt_parse_host(blob, node, &h, &base) == 0) {
			check_host(&h);
			lookups(&h);
		}
	}
	return 0;
}
