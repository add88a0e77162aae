/*
 * pci: what PCI enumeration found at boot, checked from the inside.
 *
 * Every function: each implemented BAR is valid (QEMU's windows have room
 * for all), a power of two in size, aligned, what the BAR registers hold,
 * and overlaps no other BAR; bridges hold consistent bus numbers and their
 * children sit on buses inside them; virtio functions were claimed by the
 * virtio-pci transport with decoding and bus mastering on.
 *
 * Arguments name functions that must be there, one word per instance:
 *   VVVV:DDDD[^][/TRANSPORT]   e.g. 1af4:1005/pci-legacy, 1af4:1044^/pci-modern
 * where ^ means "behind a bridge" and TRANSPORT is the virtio transport's
 * name. mac=xx:xx:xx:xx:xx:xx checks the virtio-net device's configuration
 * space (its first six bytes) through the transport.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noos.h"
#include "../../pci/pci.h"
#include "fail.h"

static uint64_t bar_register(const struct pci_func *f, unsigned i)
{
	uint32_t lo = pci_read32(f, PCI_BASE_ADDRESS_0 + 4 * i);
	if (f->bar[i].kind == PCI_BAR_IO)
		return lo & PCI_BAR_IO_MASK;
	uint64_t a = lo & PCI_BAR_MEM_MASK;
	if (f->bar[i].kind == PCI_BAR_MEM64)
		a |= (uint64_t)pci_read32(f, PCI_BASE_ADDRESS_0 + 4 * i + 4) << 32;
	return a;
}

static void check_overlaps(const struct pci_func *f, unsigned i)
{
	const struct pci_bar *b = &f->bar[i];
	for (unsigned j = 0; j < pci_func_count(); j++)
		for (unsigned k = 0; k < PCI_NUM_BARS; k++) {
			const struct pci_bar *o = &pci_func_at(j)->bar[k];
			if (o == b || !o->valid ||
			    (o->kind == PCI_BAR_IO) != (b->kind == PCI_BAR_IO))
				continue;
			if (o->bus_addr < b->bus_addr + b->size &&
			    b->bus_addr < o->bus_addr + o->size)
				FAIL("%s bar%u overlaps %s bar%u\n", f->name, i,
				     pci_func_at(j)->name, k);
		}
}

static void check_bars(const struct pci_func *f)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct pci_bar *b = &f->bar[i];
		if (b->kind == PCI_BAR_NONE)
			continue;
		if (!b->valid) {
			FAIL("%s bar%u has no usable address\n", f->name, i);
			continue;
		}
		if (b->size == 0 || (b->size & (b->size - 1)) || (b->bus_addr & (b->size - 1)))
			FAIL("%s bar%u: size 0x%lx or address 0x%lx\n", f->name, i,
			     (unsigned long)b->size, (unsigned long)b->bus_addr);
		if (bar_register(f, i) != b->bus_addr)
			FAIL("%s bar%u register 0x%lx, recorded 0x%lx\n", f->name, i,
			     (unsigned long)bar_register(f, i), (unsigned long)b->bus_addr);
		check_overlaps(f, i);
	}
}

static void check_topology(const struct pci_func *f)
{
	const struct pci_func *p = f->parent;
	if (p && (f->bus != p->secondary || f->bus > p->subordinate))
		FAIL("%s is on bus %02x, behind %s (buses %02x-%02x)\n", f->name, f->bus, p->name,
		     p->secondary, p->subordinate);
	if (f->header_type == PCI_HEADER_TYPE_BRIDGE &&
	    (f->secondary <= f->bus || f->subordinate < f->secondary))
		FAIL("%s: bridge buses %02x-%02x\n", f->name, f->secondary, f->subordinate);
}

static void check_virtio(const struct pci_func *f)
{
	if (f->vendor != 0x1af4 || f->device < 0x1000 || f->device > 0x107f)
		return;
	const struct virtio_pci_dev *d = f->driver_data;
	if (f->driver != &virtio_pci_driver || !d || !d->vdev.ops) {
		FAIL("%s: virtio function not taken by virtio-pci\n", f->name);
		return;
	}
	uint16_t cmd = pci_read16(f, PCI_COMMAND);
	if (!(cmd & PCI_COMMAND_MASTER) || !(cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_IO)))
		FAIL("%s: command register 0x%x\n", f->name, cmd);
	struct virtio_device *vdev = (struct virtio_device *)&d->vdev;
	uint64_t features = vdev->ops->get_features(vdev);
	bool version1 = features & (1ull << VIRTIO_F_VERSION_1);
	if (vdev->ops->modern != version1 || (!vdev->ops->modern && features >> 32))
		FAIL("%s: %s transport, device features 0x%lx\n", f->name, vdev->ops->name,
		     (unsigned long)features);
	printf("pci-test: %s virtio type %u over %s, features 0x%lx\n", f->name,
	       (unsigned)vdev->device_id, vdev->ops->name, (unsigned long)features);
}

/* "VVVV:DDDD[^][/TRANSPORT]": a function not yet counted that matches. */
static void expect_function(const char *spec, bool *used)
{
	char *end;
	unsigned long vendor = strtoul(spec, &end, 16), device = 0;
	if (*end == ':')
		device = strtoul(end + 1, &end, 16);
	bool bridged = *end == '^';
	end += bridged;
	const char *transport = *end == '/' ? end + 1 : NULL;
	for (unsigned i = 0; i < pci_func_count(); i++) {
		const struct pci_func *f = pci_func_at(i);
		const struct virtio_pci_dev *d = f->driver_data;
		if (used[i] || f->vendor != vendor || f->device != device ||
		    (bridged && !f->parent))
			continue;
		if (transport && (f->driver != &virtio_pci_driver || !d || !d->vdev.ops ||
		                  strcmp(d->vdev.ops->name, transport)))
			continue;
		used[i] = true;
		return;
	}
	FAIL("no function matching %s\n", spec);
}

static void check_mac(const char *want)
{
	for (unsigned i = 0; i < pci_func_count(); i++) {
		const struct pci_func *f = pci_func_at(i);
		const struct virtio_pci_dev *d = f->driver_data;
		if (f->driver != &virtio_pci_driver || !d || d->vdev.device_id != VIRTIO_ID_NET)
			continue;
		struct virtio_device *vdev = (struct virtio_device *)&d->vdev;
		uint8_t mac[6];
		char got[18];
		if (vdev->ops->config_read(vdev, 0, mac, sizeof(mac)) < 0) {
			FAIL("%s: config read refused\n", f->name);
			return;
		}
		snprintf(got, sizeof(got), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		         mac[3], mac[4], mac[5]);
		printf("pci-test: %s mac %s\n", f->name, got);
		if (strcmp(got, want))
			FAIL("%s: mac %s, want %s\n", f->name, got, want);
		uint8_t byte;
		if (vdev->ops->config_read(vdev, 0xfffffff0u, &byte, 1) != -EINVAL)
			FAIL("%s: config read far out of range accepted\n", f->name);
		return;
	}
	FAIL("no virtio-net function for mac=%s\n", want);
}

int main(int argc, char **argv)
{
	static bool used[PCI_MAX_FUNCS];
	printf("pci-test: %u functions, %u errors\n", pci_func_count(), pci_errors);
	if (pci_func_count() == 0)
		FAIL("no PCI functions\n");
	for (unsigned i = 0; i < pci_func_count(); i++) {
		const struct pci_func *f = pci_func_at(i);
		check_bars(f);
		check_topology(f);
		check_virtio(f);
	}
	for (int i = 1; i < argc; i++)
		expect_function(argv[i], used);
	const char *mac = noos_getenv("mac");
	if (mac)
		check_mac(mac);
	if (pci_errors)
		FAIL("%u malformed values reported while booting\n", pci_errors);
	printf(failures ? "pci: %d failures\n" : "pci: ok\n", failures);
	return failures ? 1 : 0;
}
