/*
 * Locating the virtio structures of a modern virtio-pci device (virtio 1.2
 * §4.1.4): walk the vendor-specific capabilities, take the first usable
 * instance of each of COMMON_CFG, NOTIFY_CFG, ISR_CFG and DEVICE_CFG, and
 * check each one against the BAR it points into.
 *
 * A capability is skipped (and counted) when its length byte is too short
 * or runs past configuration space, when its structure does not fit inside
 * its BAR, is misaligned, is shorter than the structure it claims to be, or
 * (notify) has a multiplier that is neither 0 nor an even power of two
 * (§4.1.4.4). Reserved BAR numbers and unknown cfg_types are ignored
 * without counting, as §4.1.4 requires of drivers. No hardware access: the
 * caller passes the BAR sizes, so tests/host and tests/fuzz run this too.
 */
#include <errno.h>

#include "pci.h"
#include "virtio_pci_reg.h"

static uint32_t rd32(const struct pci_cfg_reader *r, unsigned off)
{
	return r->read(r->ctx, (uint16_t)off, 4);
}

static uint8_t rd8(const struct pci_cfg_reader *r, unsigned off)
{
	return (uint8_t)r->read(r->ctx, (uint16_t)off, 1);
}

/* Smallest length and required alignment of each structure type. */
static void type_rules(unsigned type, uint32_t *min_len, uint32_t *align)
{
	*align = 4;
	*min_len = 1;
	if (type == VIRTIO_PCI_CAP_COMMON_CFG)
		*min_len = VIRTIO_PCI_COMMON_CFG_MIN_LEN;
	else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		*min_len = *align = VIRTIO_PCI_NOTIFY_WIDTH;
	else if (type == VIRTIO_PCI_CAP_ISR_CFG)
		*align = 1;
}

static bool region_fits(const struct virtio_pci_region *reg, unsigned type,
                        const uint64_t bar_size[PCI_NUM_BARS])
{
	uint32_t min_len, align;
	type_rules(type, &min_len, &align);
	uint64_t size = bar_size[reg->bar];
	return size != 0 && reg->length >= min_len && (reg->offset & (align - 1)) == 0 &&
	       reg->offset <= size && reg->length <= size - reg->offset;
}

static bool multiplier_ok(uint32_t m)
{
	return m == 0 || (m >= 2 && (m & (m - 1)) == 0);
}

static struct virtio_pci_region *slot_for(struct virtio_pci_layout *out, unsigned type)
{
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG:
		return &out->common;
	case VIRTIO_PCI_CAP_NOTIFY_CFG:
		return &out->notify;
	case VIRTIO_PCI_CAP_ISR_CFG:
		return &out->isr;
	case VIRTIO_PCI_CAP_DEVICE_CFG:
		return &out->device;
	default:
		return NULL;
	}
}

/* Consider one vendor capability; false when it is malformed. */
static bool take_cap(const struct pci_cfg_reader *r, const struct pci_cap *cap,
                     const uint64_t bar_size[PCI_NUM_BARS], struct virtio_pci_layout *out)
{
	int len = pci_cap_vendor_len(r, cap, VIRTIO_PCI_CAP_LEN);
	if (len < 0)
		return false;
	unsigned type = rd8(r, cap->offset + VIRTIO_PCI_CAP_CFG_TYPE);
	struct virtio_pci_region *slot = slot_for(out, type);
	struct virtio_pci_region reg = {
	    .bar = rd8(r, cap->offset + VIRTIO_PCI_CAP_BAR),
	    .offset = rd32(r, cap->offset + VIRTIO_PCI_CAP_OFFSET),
	    .length = rd32(r, cap->offset + VIRTIO_PCI_CAP_LENGTH),
	    .present = true,
	};
	if (!slot || slot->present || reg.bar >= PCI_NUM_BARS)
		return true; /* not ours, already have one, or a reserved BAR: ignore */
	if (!region_fits(&reg, type, bar_size))
		return false;
	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
		if (len < VIRTIO_PCI_NOTIFY_CAP_LEN)
			return false;
		uint32_t mult = rd32(r, cap->offset + VIRTIO_PCI_NOTIFY_CAP_MULT);
		if (!multiplier_ok(mult))
			return false;
		out->notify_mult = mult;
	}
	*slot = reg;
	return true;
}

int virtio_pci_find_layout(const struct pci_cfg_reader *r, const struct pci_caps *caps,
                           const uint64_t bar_size[PCI_NUM_BARS], struct virtio_pci_layout *out)
{
	*out = (struct virtio_pci_layout){0};
	for (const struct pci_cap *c = pci_caps_find(caps, PCI_CAP_ID_VNDR, NULL); c;
	     c = pci_caps_find(caps, PCI_CAP_ID_VNDR, c))
		if (!take_cap(r, c, bar_size, out))
			out->rejected++;
	if (!out->common.present || !out->notify.present || !out->isr.present)
		return -ENODEV;
	return 0;
}
