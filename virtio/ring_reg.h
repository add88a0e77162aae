/*
 * The split virtqueue's memory layout, virtio 1.2 §2.7, with the spec's own
 * names. These structures are shared with the device: the driver writes the
 * descriptor table and the available ring, the device writes the used ring.
 *
 * Fields are little-endian on modern transports (§2.7) and guest-native on
 * legacy ones (§2.7.3 "Legacy Interfaces: A Note on Virtqueue Endianness").
 * Both arches noos runs on are little-endian, so one native layout serves
 * both; the static assertion below keeps that assumption visible.
 */
#ifndef NOOS_VIRTIO_RING_REG_H
#define NOOS_VIRTIO_RING_REG_H

#include <stdint.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "virtio rings are little-endian; a big-endian port needs byte swaps here");

/* Largest split-ring Queue Size, §2.7: "The maximum Queue Size value is 32768". */
#define VIRTQ_MAX_SIZE 32768

/* §2.7.5 The Virtqueue Descriptor Table. */
#define VIRTQ_DESC_F_NEXT     1 /* the buffer continues via the next field */
#define VIRTQ_DESC_F_WRITE    2 /* device write-only (otherwise device read-only) */
#define VIRTQ_DESC_F_INDIRECT 4 /* the buffer holds a table of descriptors (§2.7.5.3) */

struct virtq_desc {
	uint64_t addr; /* guest-physical */
	uint32_t len;
	uint16_t flags;
	uint16_t next; /* valid if flags & VIRTQ_DESC_F_NEXT */
};

/* §2.7.6 The Virtqueue Available Ring (driver area), alignment 2. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;    /* where the driver puts the next entry, free-running */
	uint16_t ring[]; /* Queue Size entries, then used_event if VIRTIO_F_EVENT_IDX */
};

/* §2.7.8 The Virtqueue Used Ring (device area), alignment 4. */
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq_used_elem {
	uint32_t id;  /* index of the start of the used descriptor chain */
	uint32_t len; /* bytes written into the device-writable part of the buffer */
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;                  /* where the device puts the next entry, free-running */
	struct virtq_used_elem ring[]; /* Queue Size entries, then avail_event if EVENT_IDX */
};

_Static_assert(sizeof(struct virtq_desc) == 16, "§2.7.5 descriptor is 16 bytes");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "§2.7.8 used element is 8 bytes");

/* Part sizes in bytes, §2.7 table "Virtqueue Part / Alignment / Size". */
static inline uint32_t virtq_desc_bytes(uint32_t qsz)
{
	return 16 * qsz;
}

static inline uint32_t virtq_avail_bytes(uint32_t qsz)
{
	return 6 + 2 * qsz; /* flags, idx, ring[qsz], used_event */
}

static inline uint32_t virtq_used_bytes(uint32_t qsz)
{
	return 6 + 8 * qsz; /* flags, idx, ring[qsz], avail_event */
}

/*
 * §2.7.7 / §2.7.10: used_event sits after the available ring's entries and
 * avail_event after the used ring's; both exist only with VIRTIO_F_EVENT_IDX.
 */
static inline uint16_t *virtq_used_event(struct virtq_avail *avail, uint32_t qsz)
{
	return &avail->ring[qsz];
}

static inline uint16_t *virtq_avail_event(struct virtq_used *used, uint32_t qsz)
{
	return (uint16_t *)&used->ring[qsz];
}

/*
 * §2.7.10 (the spec's vring_need_event): true when moving an index from
 * old_idx to new_idx crossed event_idx, i.e. event_idx lies in
 * [old_idx, new_idx) modulo 2^16. Used both ways: the driver against the
 * device's avail_event before notifying it, the device against the driver's
 * used_event before interrupting.
 */
static inline int vring_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

#endif
