/*
 * PCI capability list walking (PCI 3.0 §6.7).
 *
 * The list is device-controlled data: a hostile or broken device can point
 * anywhere, loop, or claim lengths that run past the configuration space.
 * Every pointer is checked before it is followed: it must lie in
 * 0x40..0xfc (the capabilities area after the standard header, with room for
 * the 4-byte entry header), and no dword slot may be visited twice. The
 * bottom two bits of a pointer are reserved and masked off, as §6.7 tells
 * software to do, so every offset handed out is 4-byte aligned.
 *
 * Reads go through struct pci_cfg_reader only, so tests/host and
 * tests/fuzz run this file against synthetic configuration spaces.
 */
#include <errno.h>
#include <string.h>

#include "pci.h"

#define CAP_SLOTS (PCI_MAX_CAPS)

static uint8_t cfg_read8(const struct pci_cfg_reader *r, uint16_t off)
{
	return (uint8_t)r->read(r->ctx, off, 1);
}

/* A pointer is usable when, masked to a dword, it is inside the capabilities area. */
static int cap_pointer(uint8_t raw, uint8_t *out)
{
	uint8_t p = raw & ~3u;
	if (p < PCI_CAP_LIST_MIN)
		return -EINVAL;
	if (p > PCI_CAP_LIST_END - 4)
		return -EINVAL;
	*out = p;
	return 0;
}

/* Slots are the dwords from 0x40 to 0xfc; a second visit means the list loops. */
static bool mark_visited(uint64_t *visited, uint8_t off)
{
	unsigned slot = (off - PCI_CAP_LIST_MIN) / 4;
	if (*visited & (1ull << slot))
		return false;
	*visited |= 1ull << slot;
	return true;
}

int pci_caps_read(const struct pci_cfg_reader *r, struct pci_caps *out)
{
	out->count = 0;
	uint16_t status = (uint16_t)r->read(r->ctx, PCI_STATUS, 2);
	if (status == 0xffff || !(status & PCI_STATUS_CAP_LIST))
		return 0;

	uint8_t raw = cfg_read8(r, PCI_CAPABILITY_LIST);
	uint64_t visited = 0;
	while (raw != 0) {
		uint8_t off;
		if (cap_pointer(raw, &off) < 0)
			return -EINVAL;
		if (!mark_visited(&visited, off) || out->count >= CAP_SLOTS)
			return -ELOOP;
		out->cap[out->count++] = (struct pci_cap){.id = cfg_read8(r, off), .offset = off};
		raw = cfg_read8(r, off + PCI_CAP_NEXT);
	}
	return 0;
}

const struct pci_cap *pci_caps_find(const struct pci_caps *c, uint8_t id,
                                    const struct pci_cap *after)
{
	unsigned i = after ? (unsigned)(after - c->cap) + 1 : 0;
	for (; i < c->count; i++)
		if (c->cap[i].id == id)
			return &c->cap[i];
	return NULL;
}

/*
 * Vendor-specific capabilities (ID 0x09) carry their length in byte 2
 * (PCI 3.0 §6.8.4, "Vendor Specific"). It must cover what the caller will
 * read (min) and must not run past the configuration space.
 */
int pci_cap_vendor_len(const struct pci_cfg_reader *r, const struct pci_cap *cap, unsigned min)
{
	if (pci_cap_room(cap) < 3 || pci_cap_room(cap) < min)
		return -EINVAL;
	unsigned len = cfg_read8(r, cap->offset + 2);
	if (len < min || len < 3 || len > pci_cap_room(cap))
		return -EINVAL;
	return (int)len;
}
