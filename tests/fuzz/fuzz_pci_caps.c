/*
 * libFuzzer target for pci/caps.c and pci/virtio_pci_caps.c: the input is a
 * function's 256-byte configuration space followed by six BAR sizes. The
 * walker must never read outside configuration space, and everything it and
 * the virtio layout finder hand out must satisfy the bounds they promise.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pci.h"
#include "virtio_pci_reg.h"

static uint8_t space[PCI_CFG_SIZE];

static uint32_t space_read(const void *ctx, uint16_t off, unsigned size)
{
	(void)ctx;
	if (size < 1 || size > 4 || off + size > PCI_CFG_SIZE)
		abort(); /* a read outside configuration space */
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)space[off + i] << (8 * i);
	return v;
}

static void check_region(const struct virtio_pci_region *r, const uint64_t *sizes, uint32_t min)
{
	if (!r->present)
		return;
	if (r->bar >= PCI_NUM_BARS || r->length < min || r->offset > sizes[r->bar] ||
	    r->length > sizes[r->bar] - r->offset)
		abort();
}

static void check_caps(const struct pci_cfg_reader *r, const struct pci_caps *c)
{
	uint64_t seen = 0;
	if (c->count > PCI_MAX_CAPS)
		abort();
	for (unsigned i = 0; i < c->count; i++) {
		unsigned off = c->cap[i].offset;
		if (off < PCI_CAP_LIST_MIN || off > PCI_CAP_LIST_END - 4 || off % 4)
			abort();
		if (seen & (1ull << ((off - PCI_CAP_LIST_MIN) / 4)))
			abort(); /* the same capability twice: a loop was followed */
		seen |= 1ull << ((off - PCI_CAP_LIST_MIN) / 4);
		int len = pci_cap_vendor_len(r, &c->cap[i], 3);
		if (len >= 0 && (len < 3 || (unsigned)len > pci_cap_room(&c->cap[i])))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t sizes[PCI_NUM_BARS] = {0};
	memset(space, 0, sizeof(space));
	memcpy(space, data, size < sizeof(space) ? size : sizeof(space));
	for (unsigned i = 0; i < PCI_NUM_BARS && size > sizeof(space) + i; i++)
		sizes[i] = data[sizeof(space) + i] ? 1ull << (data[sizeof(space) + i] % 40) : 0;

	struct pci_cfg_reader r = {.read = space_read, .ctx = space};
	struct pci_caps c;
	int rc = pci_caps_read(&r, &c);
	if (rc != 0 && rc != -ELOOP && rc != -EINVAL)
		abort();
	check_caps(&r, &c);

	struct virtio_pci_layout l;
	rc = virtio_pci_find_layout(&r, &c, sizes, &l);
	check_region(&l.common, sizes, VIRTIO_PCI_COMMON_CFG_MIN_LEN);
	check_region(&l.notify, sizes, VIRTIO_PCI_NOTIFY_WIDTH);
	check_region(&l.isr, sizes, 1);
	check_region(&l.device, sizes, 1);
	if (l.notify_mult && (l.notify_mult & (l.notify_mult - 1) || l.notify_mult == 1))
		abort();
	if (rc == 0 && (!l.common.present || !l.notify.present || !l.isr.present))
		abort();
	return 0;
}
