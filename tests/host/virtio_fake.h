/*
 * For host tests of virtio/: a fake transport (status register, features,
 * queue registers, interrupt status, all in memory) and a simulated device
 * that works a split ring from the device side (virtio 1.2 §2.7.12-14):
 * it takes available buffers, walks their chains and indirect tables, fills
 * the device-writable parts, publishes used entries and decides whether to
 * interrupt from used_event or the NO_INTERRUPT flag, and tells the driver
 * when to notify it through avail_event or the NO_NOTIFY flag.
 *
 * The device side reads the rings through phys_to_virt of the addresses the
 * driver programmed (queue_enable), as a real device would.
 */
#ifndef NOOS_TEST_VIRTIO_FAKE_H
#define NOOS_TEST_VIRTIO_FAKE_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ring_reg.h"
#include "rt.h"
#include "virtio.h"

#define FAKE_MAX_STATUS_LOG 32

struct fake {
	struct virtio_device dev;
	/* transport registers */
	uint8_t status;
	uint8_t status_log[FAKE_MAX_STATUS_LOG]; /* every value written */
	unsigned status_writes;
	uint64_t offered, accepted;
	uint64_t must_accept; /* FEATURES_OK is refused unless these are accepted */
	bool reset_stuck;     /* reset never completes */
	uint16_t queue_max[VIRTIO_MAX_QUEUES];
	struct virtio_queue_layout layout[VIRTIO_MAX_QUEUES];
	bool enabled[VIRTIO_MAX_QUEUES];
	unsigned notifies[VIRTIO_MAX_QUEUES];
	uint32_t isr;
	uint32_t generation;
	bool generation_unstable; /* the counter moves on every read */
	uint8_t config[64];
	void (*handler)(struct virtio_device *dev, unsigned vector);
	int irq_vectors; /* what interrupt_setup returns */
	unsigned resets;
};

static inline struct fake *to_fake(struct virtio_device *dev)
{
	return (struct fake *)dev;
}

static inline uint8_t fake_get_status(struct virtio_device *dev)
{
	return to_fake(dev)->status;
}

/* A device clears FEATURES_OK when the accepted set lacks what it requires (§3.1.1 step 6). */
static inline void fake_set_status(struct virtio_device *dev, uint8_t status)
{
	struct fake *f = to_fake(dev);
	if (f->status_writes < FAKE_MAX_STATUS_LOG)
		f->status_log[f->status_writes] = status;
	f->status_writes++;
	if ((status & VIRTIO_STATUS_FEATURES_OK) &&
	    (f->accepted & f->must_accept) != f->must_accept)
		status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	f->status = (uint8_t)(status | (f->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
}

static inline int fake_reset(struct virtio_device *dev)
{
	struct fake *f = to_fake(dev);
	if (f->reset_stuck)
		return -EIO;
	f->status = 0;
	f->resets++;
	memset(f->enabled, 0, sizeof(f->enabled));
	return 0;
}

static inline uint64_t fake_get_features(struct virtio_device *dev)
{
	struct fake *f = to_fake(dev);
	return dev->ops->modern ? f->offered : (uint32_t)f->offered;
}

static inline void fake_set_features(struct virtio_device *dev, uint64_t features)
{
	to_fake(dev)->accepted = features;
}

static inline int fake_config_read(struct virtio_device *dev, uint32_t off, void *buf, uint32_t len)
{
	struct fake *f = to_fake(dev);
	if (len > sizeof(f->config) || off > sizeof(f->config) - len)
		return -EINVAL;
	memcpy(buf, f->config + off, len);
	return 0;
}

static inline int fake_config_write(struct virtio_device *dev, uint32_t off, const void *buf,
                                    uint32_t len)
{
	struct fake *f = to_fake(dev);
	if (len > sizeof(f->config) || off > sizeof(f->config) - len)
		return -EINVAL;
	memcpy(f->config + off, buf, len);
	return 0;
}

static inline uint32_t fake_config_generation(struct virtio_device *dev)
{
	struct fake *f = to_fake(dev);
	return f->generation_unstable ? f->generation++ : f->generation;
}

static inline uint16_t fake_queue_max_size(struct virtio_device *dev, uint16_t index)
{
	return index < VIRTIO_MAX_QUEUES ? to_fake(dev)->queue_max[index] : 0;
}

static inline int fake_queue_enable(struct virtio_device *dev, const struct virtio_queue_layout *q)
{
	struct fake *f = to_fake(dev);
	if (q->index >= VIRTIO_MAX_QUEUES || q->size > f->queue_max[q->index])
		return -EINVAL;
	f->layout[q->index] = *q;
	f->enabled[q->index] = true;
	return 0;
}

static inline void fake_queue_notify(struct virtio_device *dev, uint16_t index)
{
	to_fake(dev)->notifies[index]++;
}

static inline uint32_t fake_interrupt_ack(struct virtio_device *dev)
{
	struct fake *f = to_fake(dev);
	uint32_t isr = f->isr;
	f->isr = 0;
	return isr;
}

static inline int fake_interrupt_setup(struct virtio_device *dev,
                                       void (*handler)(struct virtio_device *dev, unsigned vector))
{
	struct fake *f = to_fake(dev);
	f->handler = handler;
	return f->irq_vectors;
}

static const struct virtio_transport_ops fake_modern_ops = {
    .name = "fake-modern",
    .modern = true,
    .get_status = fake_get_status,
    .set_status = fake_set_status,
    .reset = fake_reset,
    .get_features = fake_get_features,
    .set_features = fake_set_features,
    .config_read = fake_config_read,
    .config_write = fake_config_write,
    .config_generation = fake_config_generation,
    .queue_max_size = fake_queue_max_size,
    .queue_enable = fake_queue_enable,
    .queue_notify = fake_queue_notify,
    .interrupt_ack = fake_interrupt_ack,
    .interrupt_setup = fake_interrupt_setup,
};

static const struct virtio_transport_ops fake_legacy_ops = {
    .name = "fake-legacy",
    .modern = false,
    .get_status = fake_get_status,
    .set_status = fake_set_status,
    .reset = fake_reset,
    .get_features = fake_get_features,
    .set_features = fake_set_features,
    .config_read = fake_config_read,
    .config_write = fake_config_write,
    .config_generation = fake_config_generation,
    .queue_max_size = fake_queue_max_size,
    .queue_enable = fake_queue_enable,
    .queue_notify = fake_queue_notify,
    .interrupt_ack = fake_interrupt_ack,
    .interrupt_setup = fake_interrupt_setup,
};

static inline void fake_init(struct fake *f, bool modern)
{
	memset(f, 0, sizeof(*f));
	f->dev.ops = modern ? &fake_modern_ops : &fake_legacy_ops;
	strcpy(f->dev.name, modern ? "fake-modern" : "fake-legacy");
	f->dev.device_id = VIRTIO_ID_RNG;
	f->offered = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_F_EVENT_IDX) |
	             (modern ? 1ull << VIRTIO_F_VERSION_1 : 0);
	for (int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		f->queue_max[i] = 256;
	f->irq_vectors = -ENOSYS;
}

/* ---- the simulated device's side of one queue ---- */

struct sim {
	struct fake *f;
	uint16_t index, size;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail;  /* next available entry the device takes */
	uint16_t used_idx;    /* the device's used index (published on sim_publish) */
	uint16_t signalled;   /* used_idx at the last interrupt decision */
	bool event_idx;       /* negotiated */
	bool want_notify;     /* ask to be notified at the next buffer (avail_event / flags) */
	unsigned interrupts;  /* interrupts the device would have raised */
	uint32_t write_limit; /* most bytes written per buffer (UINT32_MAX: all) */
	/* what the device saw of the last buffer it took */
	unsigned last_nread, last_nwrite, last_descs;
	uint32_t last_readable, last_writable;
	bool last_indirect;
	unsigned errors; /* malformed chains the device saw (a correct driver makes none) */
};

static inline void sim_attach(struct sim *s, struct fake *f, uint16_t index)
{
	const struct virtio_queue_layout *l = &f->layout[index];
	memset(s, 0, sizeof(*s));
	s->f = f;
	s->index = index;
	s->size = l->size;
	s->desc = phys_to_virt(l->desc);
	s->avail = phys_to_virt(l->avail);
	s->used = phys_to_virt(l->used);
	s->event_idx = (f->accepted >> VIRTIO_F_EVENT_IDX) & 1;
	s->write_limit = UINT32_MAX;
	s->want_notify = true;
}

/* Walk one descriptor table from index i: readable pieces first, then writable (§2.7.4.2). */
static inline void sim_walk(struct sim *s, struct virtq_desc *table, unsigned n, uint16_t i,
                            uint16_t head, uint32_t *written)
{
	bool writing = false;
	for (unsigned hops = 0;; hops++) {
		if (i >= n || hops >= n) {
			s->errors++;
			return;
		}
		struct virtq_desc *d = &table[i];
		s->last_descs++;
		if (d->flags & VIRTQ_DESC_F_WRITE) {
			writing = true;
			s->last_nwrite++;
			s->last_writable += d->len;
			uint8_t *buf = phys_to_virt(d->addr);
			for (uint32_t k = 0; k < d->len && *written < s->write_limit; k++)
				buf[k] = (uint8_t)(head + (*written)++);
		} else {
			if (writing)
				s->errors++; /* a readable piece after a writable one */
			s->last_nread++;
			s->last_readable += d->len;
		}
		if (!(d->flags & VIRTQ_DESC_F_NEXT))
			return;
		i = d->next;
	}
}

/* Take one available buffer, fill it and put it on the used ring (unpublished). false: none. */
static inline bool sim_take(struct sim *s, uint32_t *head_out, uint32_t *len_out)
{
	if (s->last_avail == s->avail->idx)
		return false;
	uint16_t head = s->avail->ring[s->last_avail++ & (s->size - 1)];
	s->last_nread = s->last_nwrite = s->last_descs = 0;
	s->last_readable = s->last_writable = 0;
	s->last_indirect = false;
	uint32_t written = 0;
	if (head >= s->size) {
		s->errors++;
		return false;
	}
	struct virtq_desc *d = &s->desc[head];
	if (d->flags & VIRTQ_DESC_F_INDIRECT) {
		s->last_indirect = true;
		if (d->flags & VIRTQ_DESC_F_NEXT)
			s->errors++; /* §2.7.5.3.1 */
		sim_walk(s, phys_to_virt(d->addr), d->len / 16, 0, head, &written);
	} else {
		sim_walk(s, s->desc, s->size, head, head, &written);
	}
	*head_out = head;
	*len_out = written;
	return true;
}

static inline void sim_put_used(struct sim *s, uint32_t id, uint32_t len)
{
	struct virtq_used_elem *e = &s->used->ring[s->used_idx & (s->size - 1)];
	e->id = id;
	e->len = len;
	s->used_idx++;
}

/* Publish the used index and decide on an interrupt as a device must (§2.7.7). */
static inline void sim_publish(struct sim *s)
{
	uint16_t old = s->signalled;
	arch_wmb();
	s->used->idx = s->used_idx;
	arch_mb();
	bool irq;
	if (s->event_idx)
		irq = vring_need_event(*virtq_used_event(s->avail, s->size), s->used_idx, old);
	else
		irq = !(s->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT) && s->used_idx != old;
	s->signalled = s->used_idx;
	if (irq)
		s->interrupts++;
	/* Notification suppression, device side (§2.7.10). */
	if (s->event_idx)
		*virtq_avail_event(s->used, s->size) =
		    s->want_notify ? s->last_avail : (uint16_t)(s->last_avail - 1);
	else
		s->used->flags = s->want_notify ? 0 : VIRTQ_USED_F_NO_NOTIFY;
}

/* Take and complete up to max buffers in order; publish. Returns how many. */
static inline unsigned sim_run(struct sim *s, unsigned max)
{
	unsigned n = 0;
	uint32_t head, len;
	while (n < max && sim_take(s, &head, &len)) {
		sim_put_used(s, head, len);
		n++;
	}
	sim_publish(s);
	return n;
}

#endif
