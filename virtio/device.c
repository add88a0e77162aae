/*
 * Device initialisation and life cycle (virtio 1.2 §3.1.1): reset,
 * ACKNOWLEDGE, DRIVER, feature negotiation, FEATURES_OK checked by reading
 * it back, the driver's setup, DRIVER_OK; FAILED when something goes wrong,
 * and recovery when the device asks for it with DEVICE_NEEDS_RESET (§2.1).
 * Also the core's part of queues (their memory) and interrupts.
 *
 * Feature policy (§6): the core offers the transport features it
 * implements: VERSION_1 (required on modern transports), EVENT_IDX and
 * INDIRECT_DESC. It never accepts ACCESS_PLATFORM (noos programs physical
 * addresses, not an IOMMU's) nor RING_PACKED; a device that insists on
 * ACCESS_PLATFORM refuses FEATURES_OK and is failed with a log line saying so.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "ring_reg.h"
#include "virtio.h"

#define BIT64(n) (1ull << (n))

/* Device-type feature bits are 0-23 and 50-127 (§6); the rest belong to the core. */
#define DEVICE_FEATURE_MASK ((BIT64(24) - 1) | ~(BIT64(50) - 1))

/* The used ring's alignment in our (always legacy-compatible) layout: legacy PCI needs 4096. */
#define QUEUE_ALIGN 4096

/* Reads of the configuration generation before the device is called inconsistent. */
#define CONFIG_READ_TRIES 16

/* A queue with the memory behind it, kept across resets so a recovery reuses it. */
struct queue {
	struct virtq vq; /* first: dev->queues[] points here */
	struct virtq_mem mem;
	unsigned ring_order, indirect_order;
};

static uint64_t core_features(const struct virtio_device *dev)
{
	uint64_t f = BIT64(VIRTIO_F_INDIRECT_DESC) | BIT64(VIRTIO_F_EVENT_IDX);
	if (dev->ops->modern)
		f |= BIT64(VIRTIO_F_VERSION_1);
	return f;
}

bool virtio_has_feature(const struct virtio_device *dev, unsigned bit)
{
	return bit < 64 && (dev->features & BIT64(bit));
}

/* Add status bits (§2.1: the driver never clears one). DEVICE_NEEDS_RESET is the device's. */
static void status_set(struct virtio_device *dev, uint8_t bits)
{
	uint8_t now = dev->ops->get_status(dev) & (uint8_t)~VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	dev->ops->set_status(dev, now | bits);
}

static int fail(struct virtio_device *dev, int err, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));
static int fail(struct virtio_device *dev, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s: ", dev->name);
	vprintf(fmt, ap);
	printf(": device failed\n");
	va_end(ap);
	status_set(dev, VIRTIO_STATUS_FAILED);
	return err;
}

/* §3.1.1 steps 4-6: offer our subset, and on a modern transport check FEATURES_OK stuck. */
static int negotiate(struct virtio_device *dev, uint64_t driver_features)
{
	const struct virtio_transport_ops *ops = dev->ops;
	uint64_t offered = ops->get_features(dev);
	if (ops->modern && !(offered & BIT64(VIRTIO_F_VERSION_1)))
		return fail(dev, -ENODEV, "%s transport but no VIRTIO_F_VERSION_1 offered",
		            ops->name);
	uint64_t wanted = (driver_features & DEVICE_FEATURE_MASK) | core_features(dev);
	dev->features = offered & wanted;
	if (dev->driver && dev->driver->features_select)
		dev->features = dev->driver->features_select(dev->features);
	ops->set_features(dev, dev->features);
	if (!ops->modern)
		return 0; /* legacy devices have no FEATURES_OK step (§3.1.2) */
	status_set(dev, VIRTIO_STATUS_FEATURES_OK);
	if (ops->get_status(dev) & VIRTIO_STATUS_FEATURES_OK)
		return 0;
	if (offered & BIT64(VIRTIO_F_ACCESS_PLATFORM))
		return fail(dev, -ENOTSUP,
		            "requires VIRTIO_F_ACCESS_PLATFORM (DMA through an IOMMU or "
		            "platform translation), which noos does not support");
	return fail(dev, -ENOTSUP, "refused features 0x%llx (FEATURES_OK not kept; offered 0x%llx)",
	            (unsigned long long)dev->features, (unsigned long long)offered);
}

int virtio_device_init(struct virtio_device *dev, uint64_t driver_features)
{
	if (dev->broken)
		return -EIO;
	if (dev->ops->reset(dev) < 0)
		return fail(dev, -EIO, "does not complete a reset");
	status_set(dev, VIRTIO_STATUS_ACKNOWLEDGE);
	status_set(dev, VIRTIO_STATUS_DRIVER);
	return negotiate(dev, driver_features);
}

void virtio_device_ready(struct virtio_device *dev)
{
	if (!(dev->ops->get_status(dev) & VIRTIO_STATUS_DRIVER_OK))
		status_set(dev, VIRTIO_STATUS_DRIVER_OK);
}

/* ---- queues ---- */

static unsigned order_for(size_t bytes)
{
	unsigned order = 0;
	while (((size_t)PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

static uint16_t pow2_floor(uint32_t v)
{
	uint32_t p = 1;
	while (p * 2 <= v)
		p *= 2;
	return (uint16_t)p;
}

/* Legacy transports cannot shrink a queue (legacy PCI's size is read-only): take the device's. */
static uint16_t queue_size(const struct virtio_device *dev, uint16_t dev_max, uint16_t want)
{
	if (!dev->ops->modern)
		return (dev_max & (dev_max - 1)) == 0 ? dev_max : 0;
	uint32_t size = want < dev_max ? want : dev_max;
	return size > VIRTQ_MAX_SIZE ? VIRTQ_MAX_SIZE : pow2_floor(size);
}

static void queue_free(struct virtio_device *dev, uint16_t index)
{
	struct queue *q = (struct queue *)dev->queues[index];
	if (!q)
		return;
	page_free(q->mem.ring);
	if (q->mem.indirect)
		page_free(q->mem.indirect);
	free(q->mem.slots);
	free(q);
	dev->queues[index] = NULL;
}

static struct queue *queue_alloc(uint16_t size, uint16_t indirect_max)
{
	struct queue *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->ring_order = order_for(virtq_ring_bytes(size, QUEUE_ALIGN));
	q->mem = (struct virtq_mem){.align = QUEUE_ALIGN, .indirect_max = indirect_max};
	q->mem.ring = page_alloc(q->ring_order);
	q->mem.slots = calloc(size, sizeof(struct virtq_slot));
	if (indirect_max) {
		q->indirect_order =
		    order_for((size_t)size * indirect_max * sizeof(struct virtq_desc));
		q->mem.indirect = page_alloc(q->indirect_order);
	}
	if (!q->mem.ring || !q->mem.slots || (indirect_max && !q->mem.indirect)) {
		if (q->mem.ring)
			page_free(q->mem.ring);
		if (q->mem.indirect)
			page_free(q->mem.indirect);
		free(q->mem.slots);
		free(q);
		return NULL;
	}
	return q;
}

/* The queue for index at this size: the one kept from before a reset, or a new one. */
static struct queue *queue_get(struct virtio_device *dev, uint16_t index, uint16_t size,
                               uint16_t indirect_max)
{
	struct queue *q = (struct queue *)dev->queues[index];
	if (q && (q->vq.size != size || q->mem.indirect_max != indirect_max)) {
		queue_free(dev, index);
		q = NULL;
	}
	if (!q)
		q = queue_alloc(size, indirect_max);
	dev->queues[index] = q ? &q->vq : NULL;
	return q;
}

int virtio_queue_setup(struct virtio_device *dev, uint16_t index, uint16_t max_size,
                       uint16_t indirect_max, struct virtq **out)
{
	if (index >= VIRTIO_MAX_QUEUES || max_size == 0)
		return -EINVAL;
	uint16_t dev_max = dev->ops->queue_max_size(dev, index);
	if (dev_max == 0)
		return -ENOENT;
	uint16_t size = queue_size(dev, dev_max, max_size);
	if (size == 0)
		return -EINVAL;
	if (!virtio_has_feature(dev, VIRTIO_F_INDIRECT_DESC))
		indirect_max = 0;
	struct queue *q = queue_get(dev, index, size, indirect_max);
	if (!q)
		return -ENOMEM;
	bool event_idx = virtio_has_feature(dev, VIRTIO_F_EVENT_IDX);
	int err = virtq_init(&q->vq, dev, index, size, &q->mem, event_idx);
	if (err)
		return err;
	struct virtio_queue_layout layout = {
	    .index = index,
	    .size = size,
	    .desc = virt_to_phys(q->vq.desc),
	    .avail = virt_to_phys(q->vq.avail),
	    .used = virt_to_phys(q->vq.used),
	    .legacy_align = QUEUE_ALIGN,
	};
	err = dev->ops->queue_enable(dev, &layout);
	if (err)
		return err;
	if (dev->broken)
		q->vq.broken = true;
	*out = &q->vq;
	return 0;
}

static void queues_free(struct virtio_device *dev)
{
	for (uint16_t i = 0; i < VIRTIO_MAX_QUEUES; i++)
		queue_free(dev, i);
}

/* ---- interrupts ---- */

/*
 * A configuration change (§2.5) may carry DEVICE_NEEDS_RESET: note it, handle
 * it outside. Either way the driver hears of it (virtio-net's link status).
 */
static void config_interrupt(struct virtio_device *dev)
{
	if ((dev->ops->get_status(dev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) && !dev->needs_reset) {
		dev->needs_reset = true;
		printf("%s: device signals DEVICE_NEEDS_RESET\n", dev->name);
	}
	if (dev->driver && dev->driver->config_changed)
		dev->driver->config_changed(dev);
}

/*
 * With one shared line the interrupt status says what happened (and reading
 * it quiets a level-triggered line); with per-queue vectors (MSI-X) vector 0
 * is the configuration vector and 1 + n queue n's (pci/virtio_pci.c). Every
 * queue with used buffers waiting gets its callback, so the exact
 * vector-to-queue mapping does not matter here.
 */
static void interrupt(struct virtio_device *dev, unsigned vector)
{
	uint32_t isr;
	dev->interrupts++;
	if (dev->irq_vectors > 1)
		isr = vector == 0 ? VIRTIO_ISR_CONFIG : VIRTIO_ISR_QUEUE;
	else
		isr = dev->ops->interrupt_ack(dev);
	if (isr & VIRTIO_ISR_CONFIG)
		config_interrupt(dev);
	if (!(isr & VIRTIO_ISR_QUEUE))
		return;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtq *vq = dev->queues[i];
		if (vq && virtq_has_used(vq)) {
			vq->stats.interrupts++;
			if (vq->callback)
				vq->callback(vq);
		}
	}
}

int virtio_interrupts(struct virtio_device *dev)
{
	int n = dev->ops->interrupt_setup(dev, interrupt);
	dev->irq_vectors = n;
	return n;
}

/* ---- configuration space ---- */

int virtio_config_read(struct virtio_device *dev, uint32_t offset, void *buf, uint32_t len)
{
	for (int i = 0; i < CONFIG_READ_TRIES; i++) {
		uint32_t gen = dev->ops->config_generation(dev);
		int err = dev->ops->config_read(dev, offset, buf, len);
		if (err)
			return err;
		if (dev->ops->config_generation(dev) == gen)
			return 0;
	}
	dev->bad_responses++;
	return -EIO;
}

/* ---- failure and recovery ---- */

void virtio_device_broken(struct virtio_device *dev, const char *fmt, ...)
{
	bool first = !dev->broken;
	dev->broken = true;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		if (dev->queues[i])
			dev->queues[i]->broken = true;
	if (!first)
		return;
	va_list ap;
	va_start(ap, fmt);
	printf("%s: ", dev->name);
	vprintf(fmt, ap);
	printf(": device failed, no longer used\n");
	va_end(ap);
	status_set(dev, VIRTIO_STATUS_FAILED);
}

/* Stop the device first, so it no longer touches what the driver is about to release. */
static void stop(struct virtio_device *dev)
{
	if (dev->ops->reset(dev) < 0)
		dev->bad_responses++;
	if (dev->driver && dev->driver->remove)
		dev->driver->remove(dev);
}

int virtio_device_start(struct virtio_device *dev, const struct virtio_driver *drv)
{
	dev->driver = drv;
	int err = virtio_device_init(dev, drv->features);
	if (!err) {
		err = drv->probe(dev);
		if (err) {
			dev->ops->reset(dev);
			queues_free(dev);
			fail(dev, err, "%s driver could not start (error %d)", drv->name, err);
		}
	}
	if (err) {
		dev->driver = NULL; /* given up on: nothing to remove, nothing to recover */
		dev->broken = true;
		return err;
	}
	virtio_device_ready(dev);
	return 0;
}

static int recover(struct virtio_device *dev)
{
	const struct virtio_driver *drv = dev->driver;
	if (!drv || !drv->remove || dev->resets >= VIRTIO_MAX_RESETS) {
		virtio_device_broken(dev, "DEVICE_NEEDS_RESET after %u resets", dev->resets);
		return -EIO;
	}
	dev->resets++;
	printf("%s: resetting after DEVICE_NEEDS_RESET (%u of %u)\n", dev->name, dev->resets,
	       VIRTIO_MAX_RESETS);
	stop(dev);
	dev->needs_reset = false;
	return virtio_device_start(dev, drv) ? -EIO : 0;
}

int virtio_device_check(struct virtio_device *dev)
{
	if (dev->broken)
		return -EIO;
	if (!dev->needs_reset && !(dev->ops->get_status(dev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET))
		return 0;
	return recover(dev);
}

void virtio_device_remove(struct virtio_device *dev)
{
	stop(dev);
	queues_free(dev);
	dev->driver = NULL;
}
