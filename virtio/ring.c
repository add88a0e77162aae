/*
 * The split virtqueue, driver side (virtio 1.2 §2.7): a descriptor free list
 * kept in driver-private memory, chained and indirect buffers (§2.7.5.3),
 * notification suppression both ways with flags or event indices (§2.7.7,
 * §2.7.10), and used-ring reaping that validates every entry the device wrote.
 *
 * The device is untrusted. Every used entry is checked before anything is
 * done with it: the used index may not run ahead of the buffers outstanding,
 * the id must be the head of an outstanding buffer, the length must fit the
 * device-writable part of that buffer. A bad entry is never followed: the
 * queue stops, the device is failed (virtio_device_broken) and
 * dev->bad_responses counts it.
 *
 * Ordering with the device uses arch_mb/rmb/wmb only; device-written fields
 * are read exactly once each (volatile), so a device changing them under us
 * cannot make a checked value differ from the one used.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rt.h"
#include "ring_reg.h"
#include "virtio.h"

#define READ_ONCE16(p)     (*(const volatile uint16_t *)(p))
#define READ_ONCE32(p)     (*(const volatile uint32_t *)(p))
#define WRITE_ONCE16(p, v) (*(volatile uint16_t *)(p) = (uint16_t)(v))

static uint32_t align_up(uint32_t v, uint32_t align)
{
	return (v + align - 1) & ~(align - 1);
}

static bool is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* Legacy layout (§2.7.2): descriptors, available ring, used ring at the next `align` boundary. */
size_t virtq_ring_bytes(uint16_t size, uint32_t align)
{
	uint32_t used_off = align_up(virtq_desc_bytes(size) + virtq_avail_bytes(size), align);
	return used_off + virtq_used_bytes(size);
}

static void free_list_init(struct virtq *vq)
{
	for (uint16_t i = 0; i < vq->size; i++)
		vq->slots[i] = (struct virtq_slot){.next = (uint16_t)(i + 1)};
	vq->free_head = 0;
	vq->num_free = vq->size;
}

int virtq_init(struct virtq *vq, struct virtio_device *dev, uint16_t index, uint16_t size,
               const struct virtq_mem *mem, bool event_idx)
{
	if (!is_pow2(size) || size > VIRTQ_MAX_SIZE || !is_pow2(mem->align) || !mem->ring ||
	    !mem->slots || ((uintptr_t)mem->ring & 15) || (mem->indirect && !mem->indirect_max))
		return -EINVAL;
	uint8_t *ring = mem->ring;
	memset(ring, 0, virtq_ring_bytes(size, mem->align));
	*vq = (struct virtq){
	    .dev = dev,
	    .index = index,
	    .size = size,
	    .desc = (struct virtq_desc *)ring,
	    .avail = (struct virtq_avail *)(ring + virtq_desc_bytes(size)),
	    .used = (struct virtq_used *)(ring +
	                                  align_up(virtq_desc_bytes(size) + virtq_avail_bytes(size),
	                                           mem->align)),
	    .slots = mem->slots,
	    .indirect = mem->indirect,
	    .indirect_max = mem->indirect ? mem->indirect_max : 0,
	    .event_idx = event_idx,
	    .cb_enabled = true,
	};
	free_list_init(vq);
	return 0;
}

/* ---- adding buffers (§2.7.13) ---- */

/* Total and device-writable byte counts; false when a piece is empty or a sum passes 2^32 - 1. */
static bool sg_sizes(const struct virtq_sg *sg, unsigned out, unsigned n, uint32_t *write_len)
{
	uint64_t total = 0, wlen = 0;
	for (unsigned i = 0; i < n; i++) {
		if (sg[i].len == 0 || !sg[i].addr)
			return false;
		total += sg[i].len;
		if (i >= out)
			wlen += sg[i].len;
	}
	*write_len = (uint32_t)wlen;
	return total <= UINT32_MAX; /* §2.7.5.2: a chain is at most 2^32 bytes */
}

static void fill_desc(struct virtq_desc *d, const struct virtq_sg *sg, bool writable, bool more,
                      uint16_t next)
{
	d->addr = virt_to_phys(sg->addr);
	d->len = sg->len;
	d->flags = (uint16_t)((writable ? VIRTQ_DESC_F_WRITE : 0) | (more ? VIRTQ_DESC_F_NEXT : 0));
	d->next = more ? next : 0;
}

/* One descriptor from the ring pointing at head's indirect table, filled with all n pieces. */
static void add_indirect(struct virtq *vq, uint16_t head, const struct virtq_sg *sg, unsigned out,
                         unsigned n)
{
	struct virtq_desc *table = vq->indirect + (size_t)head * vq->indirect_max;
	for (unsigned i = 0; i < n; i++)
		fill_desc(&table[i], &sg[i], i >= out, i + 1 < n, (uint16_t)(i + 1));
	struct virtq_desc *d = &vq->desc[head];
	d->addr = virt_to_phys(table);
	d->len = (uint32_t)(n * sizeof(struct virtq_desc));
	d->flags = VIRTQ_DESC_F_INDIRECT; /* never with NEXT (§2.7.5.3.1) */
	d->next = 0;
	vq->slots[head].last = head;
	vq->slots[head].ndesc = 1;
	vq->free_head = vq->slots[head].next;
	vq->num_free--;
	vq->stats.indirect++;
}

/* n descriptors off the free list, linked in the table as they are in slots[].next. */
static void add_chain(struct virtq *vq, uint16_t head, const struct virtq_sg *sg, unsigned out,
                      unsigned n)
{
	uint16_t i = head, last = head;
	for (unsigned k = 0; k < n; k++) {
		last = i;
		fill_desc(&vq->desc[i], &sg[k], k >= out, k + 1 < n, vq->slots[i].next);
		i = vq->slots[i].next;
	}
	vq->slots[head].last = last;
	vq->slots[head].ndesc = (uint16_t)n;
	vq->free_head = i;
	vq->num_free = (uint16_t)(vq->num_free - n);
}

/* Expose the head in the available ring (§2.7.13.2-3): entry first, then the index. */
static void publish(struct virtq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
	arch_wmb(); /* descriptors and ring entry visible before the index that exposes them */
	vq->avail_idx++;
	WRITE_ONCE16(&vq->avail->idx, vq->avail_idx);
	vq->outstanding++;
	vq->stats.added++;
	/* need_event compares 16-bit distances: never let 2^16 adds pass unkicked. */
	if ((uint16_t)(vq->avail_idx - vq->kicked_idx) == 0xffff)
		virtq_kick(vq);
}

int virtq_add(struct virtq *vq, const struct virtq_sg *sg, unsigned out, unsigned in, void *token)
{
	unsigned n = out + in;
	uint32_t write_len;
	if (vq->broken)
		return -EIO;
	if (!token || n == 0 || n > vq->size || !sg_sizes(sg, out, n, &write_len))
		return -EINVAL; /* §2.7.5.3.1: no chain longer than the Queue Size */
	bool indirect = n > 1 && vq->indirect && n <= vq->indirect_max;
	if (vq->num_free < (indirect ? 1 : n))
		return -ENOSPC;
	uint16_t head = vq->free_head;
	if (indirect)
		add_indirect(vq, head, sg, out, n);
	else
		add_chain(vq, head, sg, out, n);
	vq->slots[head].token = token;
	vq->slots[head].write_len = write_len;
	publish(vq, head);
	return 0;
}

/* ---- notifying the device (§2.7.10) ---- */

bool virtq_kick_prepare(struct virtq *vq)
{
	uint16_t old = vq->kicked_idx, now = vq->avail_idx;
	/* The avail index store must be visible before we read whether the device wants a kick. */
	arch_mb();
	vq->kicked_idx = now;
	if (now == old || vq->broken)
		return false;
	bool need;
	if (vq->event_idx)
		need =
		    vring_need_event(READ_ONCE16(virtq_avail_event(vq->used, vq->size)), now, old);
	else
		need = !(READ_ONCE16(&vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY);
	if (!need)
		vq->stats.kicks_suppressed++;
	return need;
}

void virtq_notify(struct virtq *vq)
{
	vq->stats.kicks++;
	vq->dev->ops->queue_notify(vq->dev, vq->index);
}

void virtq_kick(struct virtq *vq)
{
	if (virtq_kick_prepare(vq))
		virtq_notify(vq);
}

/* ---- taking used buffers (§2.7.14), with the device distrusted ---- */

static void *reject(struct virtq *vq, const char *fmt, ...)
    __attribute__((format(__printf__, 2, 3)));
static void *reject(struct virtq *vq, const char *fmt, ...)
{
	char what[96];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	vq->broken = true;
	vq->dev->bad_responses++;
	virtio_device_broken(vq->dev, "queue %u: %s", (unsigned)vq->index, what);
	return NULL;
}

static void free_chain(struct virtq *vq, uint16_t head)
{
	struct virtq_slot *s = &vq->slots[head];
	vq->slots[s->last].next = vq->free_head;
	vq->free_head = head;
	vq->num_free = (uint16_t)(vq->num_free + s->ndesc);
	s->token = NULL;
	vq->outstanding--;
}

void *virtq_get(struct virtq *vq, uint32_t *len)
{
	if (vq->broken)
		return NULL;
	uint16_t used_idx = READ_ONCE16(&vq->used->idx);
	uint16_t pending = (uint16_t)(used_idx - vq->last_used);
	if (pending == 0)
		return NULL;
	if (pending > vq->outstanding)
		return reject(vq, "used index %u is %u entries ahead, with %u buffers outstanding",
		              used_idx, pending, vq->outstanding);
	arch_rmb(); /* the entry is read only after the index that published it */
	const struct virtq_used_elem *e = &vq->used->ring[vq->last_used & (vq->size - 1)];
	uint32_t id = READ_ONCE32(&e->id), n = READ_ONCE32(&e->len);
	if (id >= vq->size)
		return reject(vq, "used id %u out of range (queue size %u)", id, vq->size);
	struct virtq_slot *s = &vq->slots[id];
	if (!s->token)
		return reject(vq, "used id %u is not an outstanding buffer (used entry %u)", id,
		              vq->last_used);
	if (n > s->write_len)
		return reject(vq, "used length %u for id %u, which has %u writable bytes", n, id,
		              s->write_len);
	void *token = s->token;
	vq->last_used++;
	free_chain(vq, (uint16_t)id);
	vq->stats.used++;
	*len = n;
	/* With interrupts wanted, move used_event along so the next entry raises one (§2.7.7). */
	if (vq->event_idx && vq->cb_enabled) {
		WRITE_ONCE16(virtq_used_event(vq->avail, vq->size), vq->last_used);
		arch_mb();
	}
	return token;
}

bool virtq_has_used(const struct virtq *vq)
{
	return !vq->broken && READ_ONCE16(&vq->used->idx) != vq->last_used;
}

/* ---- used buffer notification suppression (§2.7.7) ---- */

static bool enable_at(struct virtq *vq, uint16_t event)
{
	vq->cb_enabled = true;
	if (vq->event_idx)
		WRITE_ONCE16(virtq_used_event(vq->avail, vq->size), event);
	else
		WRITE_ONCE16(&vq->avail->flags, 0);
	/* The request must be visible before we look again, or an entry could slip by unsignalled.
	 */
	arch_mb();
	return !virtq_has_used(vq);
}

bool virtq_enable_cb(struct virtq *vq)
{
	return enable_at(vq, vq->last_used);
}

bool virtq_enable_cb_delayed(struct virtq *vq)
{
	uint16_t later = (uint16_t)(vq->outstanding * 3 / 4);
	return enable_at(vq, (uint16_t)(vq->last_used + later));
}

/*
 * With event indices the flags must stay 0 (§2.7.7.1); used_event one behind
 * the next entry is as far as the device can get from it: it would have to
 * use 2^16 - 1 more buffers to cross it.
 */
void virtq_disable_cb(struct virtq *vq)
{
	vq->cb_enabled = false;
	if (vq->event_idx)
		WRITE_ONCE16(virtq_used_event(vq->avail, vq->size), vq->last_used - 1);
	else
		WRITE_ONCE16(&vq->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
}

void *virtq_detach(struct virtq *vq)
{
	for (uint16_t i = 0; i < vq->size; i++) {
		void *token = vq->slots[i].token;
		if (token) {
			free_chain(vq, i);
			return token;
		}
	}
	return NULL;
}
