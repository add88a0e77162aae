/*
 * The virtio-mmio transport (virtio 1.2 §4.2): version 2 (modern, §4.2.2,
 * §4.2.3) and version 1 (legacy, §4.2.4), behind the transport ops table of
 * virtio/virtio.h, and the probe of one declared window (bus.c finds them).
 *
 * The device is untrusted: every register value it returns is range-checked
 * (queue sizes, interrupt bits), and configuration space accesses stay
 * inside the declared window. Registers are accessed 32 bits wide and
 * aligned (§4.2.2.2); configuration fields with their own width.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "mmio.h"
#include "mmio_reg.h"
#include "rt.h"
#include "../virtio/virtio.h"

/* Split virtqueues hold at most 32768 descriptors (§2.7). */
#define QUEUE_SIZE_MAX 32768
/* Reads of Status after a reset before the device is declared stuck (not a time: TCG or KVM). */
#define RESET_POLLS 100000
/* Legacy queues are addressed in pages of this size (GuestPageSize, QueuePFN). */
#define LEGACY_PAGE_SIZE 4096

struct mmio_dev {
	struct virtio_device vdev; /* vdev.transport points back here */
	struct mmio_desc desc;
	uintptr_t regs;       /* the window, mapped */
	uint32_t version;     /* 1 or 2 */
	uint32_t config_size; /* bytes of configuration space the window holds */
	bool line_registered; /* the interrupt line has our handler */
	void (*handler)(struct virtio_device *dev, unsigned vector); /* the core's */
};

static struct mmio_dev devices[MMIO_MAX_DEVICES];
static unsigned device_count;

static struct mmio_dev *to_mmio(struct virtio_device *dev)
{
	return dev->transport;
}

static uint32_t reg_read(struct mmio_dev *m, uint32_t reg)
{
	return mmio_read32(m->regs + reg);
}

static void reg_write(struct mmio_dev *m, uint32_t reg, uint32_t v)
{
	mmio_write32(m->regs + reg, v);
}

/* ---- status, reset, features (§4.2.3.1) ---- */

static uint8_t get_status(struct virtio_device *dev)
{
	return (uint8_t)reg_read(to_mmio(dev), VIRTIO_MMIO_Status);
}

static void set_status(struct virtio_device *dev, uint8_t status)
{
	reg_write(to_mmio(dev), VIRTIO_MMIO_Status, status);
}

/* Writing 0 to Status resets the device; it reads back 0 once the reset is done (§4.2.2.1). */
static int reset(struct virtio_device *dev)
{
	struct mmio_dev *m = to_mmio(dev);
	reg_write(m, VIRTIO_MMIO_Status, 0);
	for (int i = 0; i < RESET_POLLS; i++)
		if (reg_read(m, VIRTIO_MMIO_Status) == 0)
			return 0;
	dev->bad_responses++;
	return -EIO;
}

/* 64 feature bits, 32 at a time through the *Sel registers. */
static uint64_t get_features(struct virtio_device *dev)
{
	struct mmio_dev *m = to_mmio(dev);
	reg_write(m, VIRTIO_MMIO_DeviceFeaturesSel, 1);
	uint64_t high = reg_read(m, VIRTIO_MMIO_DeviceFeatures);
	reg_write(m, VIRTIO_MMIO_DeviceFeaturesSel, 0);
	return high << 32 | reg_read(m, VIRTIO_MMIO_DeviceFeatures);
}

static void set_features(struct virtio_device *dev, uint64_t features)
{
	struct mmio_dev *m = to_mmio(dev);
	reg_write(m, VIRTIO_MMIO_DriverFeaturesSel, 1);
	reg_write(m, VIRTIO_MMIO_DriverFeatures, (uint32_t)(features >> 32));
	reg_write(m, VIRTIO_MMIO_DriverFeaturesSel, 0);
	reg_write(m, VIRTIO_MMIO_DriverFeatures, (uint32_t)features);
}

/* Legacy devices have only feature bits 0-31 (§4.2.4: HostFeaturesSel 0). */
static uint64_t get_features_v1(struct virtio_device *dev)
{
	struct mmio_dev *m = to_mmio(dev);
	reg_write(m, VIRTIO_MMIO_HostFeaturesSel, 0);
	return reg_read(m, VIRTIO_MMIO_HostFeatures);
}

static void set_features_v1(struct virtio_device *dev, uint64_t features)
{
	struct mmio_dev *m = to_mmio(dev);
	reg_write(m, VIRTIO_MMIO_GuestFeaturesSel, 0);
	reg_write(m, VIRTIO_MMIO_GuestFeatures, (uint32_t)features);
}

/* ---- device-specific configuration space (§4.2.2: offset 0x100) ---- */

static bool config_range_ok(struct mmio_dev *m, uint32_t offset, uint32_t len)
{
	return len <= m->config_size && offset <= m->config_size - len;
}

/* Fields are accessed with their own width when aligned (§4.2.2.2), else byte by byte. */
static int config_read(struct virtio_device *dev, uint32_t offset, void *buf, uint32_t len)
{
	struct mmio_dev *m = to_mmio(dev);
	if (!config_range_ok(m, offset, len))
		return -EINVAL;
	uintptr_t a = m->regs + VIRTIO_MMIO_Config + offset;
	uint8_t *out = buf;
	if (len == 2 && offset % 2 == 0) {
		uint16_t v = mmio_read16(a);
		memcpy(out, &v, 2);
	} else if ((len == 4 || len == 8) && offset % 4 == 0) {
		for (uint32_t i = 0; i < len; i += 4) {
			uint32_t v = mmio_read32(a + i);
			memcpy(out + i, &v, 4);
		}
	} else {
		for (uint32_t i = 0; i < len; i++)
			out[i] = mmio_read8(a + i);
	}
	return 0;
}

static int config_write(struct virtio_device *dev, uint32_t offset, const void *buf, uint32_t len)
{
	struct mmio_dev *m = to_mmio(dev);
	if (!config_range_ok(m, offset, len))
		return -EINVAL;
	uintptr_t a = m->regs + VIRTIO_MMIO_Config + offset;
	const uint8_t *in = buf;
	if (len == 2 && offset % 2 == 0) {
		uint16_t v;
		memcpy(&v, in, 2);
		mmio_write16(a, v);
	} else if ((len == 4 || len == 8) && offset % 4 == 0) {
		for (uint32_t i = 0; i < len; i += 4) {
			uint32_t v;
			memcpy(&v, in + i, 4);
			mmio_write32(a + i, v);
		}
	} else {
		for (uint32_t i = 0; i < len; i++)
			mmio_write8(a + i, in[i]);
	}
	return 0;
}

static uint32_t config_generation(struct virtio_device *dev)
{
	return reg_read(to_mmio(dev), VIRTIO_MMIO_ConfigGeneration);
}

/* Legacy devices have no generation counter (§4.2.4). */
static uint32_t config_generation_v1(struct virtio_device *dev)
{
	(void)dev;
	return 0;
}

/* ---- virtqueues (§4.2.3.2, legacy §4.2.4) ---- */

static uint16_t queue_max_size(struct virtio_device *dev, uint16_t index)
{
	struct mmio_dev *m = to_mmio(dev);
	reg_write(m, VIRTIO_MMIO_QueueSel, index);
	uint32_t max = reg_read(m, VIRTIO_MMIO_QueueNumMax);
	if (max > QUEUE_SIZE_MAX) {
		dev->bad_responses++;
		max = QUEUE_SIZE_MAX;
	}
	return (uint16_t)max;
}

/* The layout must be one the device will accept: a size it offers, parts aligned (§2.7). */
static bool queue_size_ok(struct mmio_dev *m, const struct virtio_queue_layout *q)
{
	uint16_t max = queue_max_size(&m->vdev, q->index); /* also selects the queue */
	return q->size != 0 && (q->size & (q->size - 1)) == 0 && q->size <= max;
}

static void reg_write64(struct mmio_dev *m, uint32_t low_reg, uint64_t v)
{
	reg_write(m, low_reg, (uint32_t)v);
	reg_write(m, low_reg + 4, (uint32_t)(v >> 32));
}

static int queue_enable(struct virtio_device *dev, const struct virtio_queue_layout *q)
{
	struct mmio_dev *m = to_mmio(dev);
	if (!queue_size_ok(m, q) || q->desc % 16 || q->avail % 2 || q->used % 4)
		return -EINVAL;
	if (reg_read(m, VIRTIO_MMIO_QueueReady) != 0)
		return -EBUSY; /* §4.2.3.2: the queue must not be in use */
	reg_write(m, VIRTIO_MMIO_QueueNum, q->size);
	reg_write64(m, VIRTIO_MMIO_QueueDescLow, q->desc);
	reg_write64(m, VIRTIO_MMIO_QueueDriverLow, q->avail);
	reg_write64(m, VIRTIO_MMIO_QueueDeviceLow, q->used);
	reg_write(m, VIRTIO_MMIO_QueueReady, 1);
	return 0;
}

/*
 * Legacy: the device derives the rings from one page number and QueueAlign
 * (§2.7.2 legacy layout: descriptors, available ring with used_event, then
 * the used ring at the next QueueAlign boundary), so the layout must be
 * exactly that one.
 */
static bool legacy_layout_ok(const struct virtio_queue_layout *q)
{
	uint64_t align = q->legacy_align;
	if (align < 4 || align > LEGACY_PAGE_SIZE || (align & (align - 1)))
		return false;
	uint64_t avail_end = q->avail + 6 + 2 * (uint64_t)q->size;
	return q->desc % LEGACY_PAGE_SIZE == 0 && q->desc / LEGACY_PAGE_SIZE <= UINT32_MAX &&
	       q->avail == q->desc + 16 * (uint64_t)q->size &&
	       q->used == ((avail_end + align - 1) & ~(align - 1));
}

static int queue_enable_v1(struct virtio_device *dev, const struct virtio_queue_layout *q)
{
	struct mmio_dev *m = to_mmio(dev);
	if (!queue_size_ok(m, q) || !legacy_layout_ok(q))
		return -EINVAL;
	if (reg_read(m, VIRTIO_MMIO_QueuePFN) != 0)
		return -EBUSY;
	/* GuestPageSize must be set before the first QueuePFN; a reset may clear it. */
	reg_write(m, VIRTIO_MMIO_GuestPageSize, LEGACY_PAGE_SIZE);
	reg_write(m, VIRTIO_MMIO_QueueNum, q->size);
	reg_write(m, VIRTIO_MMIO_QueueAlign, q->legacy_align);
	reg_write(m, VIRTIO_MMIO_QueuePFN, (uint32_t)(q->desc / LEGACY_PAGE_SIZE));
	return 0;
}

static void queue_notify(struct virtio_device *dev, uint16_t index)
{
	reg_write(to_mmio(dev), VIRTIO_MMIO_QueueNotify, index);
}

/* ---- interrupts ---- */

static uint32_t interrupt_ack(struct virtio_device *dev)
{
	struct mmio_dev *m = to_mmio(dev);
	uint32_t status = reg_read(m, VIRTIO_MMIO_InterruptStatus);
	if (status)
		reg_write(m, VIRTIO_MMIO_InterruptACK, status);
	if (status & ~(uint32_t)(VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG))
		dev->bad_responses++;
	return status & (VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
}

/* The line fired: hand it to the core's handler, which reads InterruptStatus (shared lines too). */
static void line_handler(void *ctx)
{
	struct mmio_dev *m = ctx;
	if (m->handler)
		m->handler(&m->vdev, 0);
}

/* ARCH_IRQ_* for the window's line: the DT trigger cell, else what QEMU's device does. */
static unsigned line_flags(const struct mmio_desc *d)
{
	switch (d->irq_flags) {
	case 1: /* IRQ_TYPE_EDGE_RISING */
		return ARCH_IRQ_EDGE | ARCH_IRQ_ACTIVE_HIGH;
	case 2: /* IRQ_TYPE_EDGE_FALLING */
		return ARCH_IRQ_EDGE | ARCH_IRQ_ACTIVE_LOW;
	case 4: /* IRQ_TYPE_LEVEL_HIGH */
		return ARCH_IRQ_LEVEL | ARCH_IRQ_ACTIVE_HIGH;
	case 8: /* IRQ_TYPE_LEVEL_LOW */
		return ARCH_IRQ_LEVEL | ARCH_IRQ_ACTIVE_LOW;
	}
	/*
	 * The command line says nothing about the trigger. A virtio-mmio device
	 * holds its line high while InterruptStatus is non-zero (QEMU's
	 * hw/virtio/virtio-mmio.c), so level, active high, whatever the pin.
	 */
	return ARCH_IRQ_LEVEL | ARCH_IRQ_ACTIVE_HIGH;
}

/* One line for everything (§4.2.3.4): the handler runs for queue and config interrupts. */
static int interrupt_setup(struct virtio_device *dev,
                           void (*handler)(struct virtio_device *dev, unsigned vector))
{
	struct mmio_dev *m = to_mmio(dev);
	m->handler = handler;
	if (m->line_registered)
		return 1; /* a recovery after reset: the line is still ours */
	if (m->desc.irq == 0) {
		printf("%s: no interrupt line declared, the driver polls\n", dev->name);
		return -ENXIO;
	}
	int err = arch_irq_register(m->desc.irq, line_flags(&m->desc), line_handler, m);
	if (err < 0) {
		printf("%s: interrupt line %u refused (%d), the driver polls\n", dev->name,
		       (unsigned)m->desc.irq, err);
		return err;
	}
	m->line_registered = true;
	return 1;
}

static const struct virtio_transport_ops ops_v2 = {
    .name = "mmio-v2",
    .modern = true,
    .get_status = get_status,
    .set_status = set_status,
    .reset = reset,
    .get_features = get_features,
    .set_features = set_features,
    .config_read = config_read,
    .config_write = config_write,
    .config_generation = config_generation,
    .queue_max_size = queue_max_size,
    .queue_enable = queue_enable,
    .queue_notify = queue_notify,
    .interrupt_ack = interrupt_ack,
    .interrupt_setup = interrupt_setup,
};

static const struct virtio_transport_ops ops_v1 = {
    .name = "mmio-v1",
    .modern = false,
    .get_status = get_status,
    .set_status = set_status,
    .reset = reset,
    .get_features = get_features_v1,
    .set_features = set_features_v1,
    .config_read = config_read,
    .config_write = config_write,
    .config_generation = config_generation_v1,
    .queue_max_size = queue_max_size,
    .queue_enable = queue_enable_v1,
    .queue_notify = queue_notify,
    .interrupt_ack = interrupt_ack,
    .interrupt_setup = interrupt_setup,
};

/* ---- probing a window (§4.2.3.1.1) ---- */

/* One line per device: "virtio-mmio@0a000000 irq 48 virtio-rng v2". */
static void log_device(const struct mmio_dev *m)
{
	char irq[24] = "no irq", type[32];
	if (m->desc.irq)
		snprintf(irq, sizeof(irq), "irq %u", (unsigned)m->desc.irq);
	const char *name = virtio_type_name(m->vdev.device_id);
	if (name)
		snprintf(type, sizeof(type), "%s", name);
	else
		snprintf(type, sizeof(type), "virtio device type %u", (unsigned)m->vdev.device_id);
	printf("%s %s %s v%u\n", m->vdev.name, irq, type, (unsigned)m->version);
}

/* Checks the identification registers; 0 for a device, -ENOENT for an empty slot. */
static int identify(struct mmio_dev *m)
{
	uint32_t magic = reg_read(m, VIRTIO_MMIO_MagicValue);
	if (magic != VIRTIO_MMIO_MAGIC) {
		printf("%s: no virtio-mmio device (magic 0x%08x)\n", m->vdev.name, (unsigned)magic);
		return -ENODEV;
	}
	m->version = reg_read(m, VIRTIO_MMIO_Version);
	if (m->version != 1 && m->version != 2) {
		printf("%s: unsupported virtio-mmio version %u\n", m->vdev.name,
		       (unsigned)m->version);
		return -ENODEV;
	}
	/* §4.2.3.1.1: device ID 0 is a transport slot with no device behind it. */
	m->vdev.device_id = reg_read(m, VIRTIO_MMIO_DeviceID);
	return m->vdev.device_id == 0 ? -ENOENT : 0;
}

static void describe(struct mmio_dev *m, const struct mmio_desc *d, uintptr_t regs)
{
	memset(m, 0, sizeof(*m));
	m->desc = *d;
	m->regs = regs;
	uint64_t config = d->size > VIRTIO_MMIO_Config ? d->size - VIRTIO_MMIO_Config : 0;
	m->config_size = config > UINT32_MAX ? UINT32_MAX : (uint32_t)config;
	m->vdev.transport = m;
	snprintf(m->vdev.name, sizeof(m->vdev.name), "virtio-mmio@%08llx",
	         (unsigned long long)d->base);
}

int mmio_probe(const struct mmio_desc *d)
{
	if (device_count >= MMIO_MAX_DEVICES) {
		printf("virtio-mmio@%08llx: more than %d devices, not probed\n",
		       (unsigned long long)d->base, MMIO_MAX_DEVICES);
		return -ENOSPC;
	}
	struct mmio_dev *m = &devices[device_count];
	uintptr_t regs = d->size > VIRTIO_MMIO_Config ? io_map(d->base, d->size) : 0;
	describe(m, d, regs);
	if (!regs) {
		printf("%s: window of 0x%llx bytes is too small or not mapped\n", m->vdev.name,
		       (unsigned long long)d->size);
		return -ENXIO;
	}
	int err = identify(m);
	if (err)
		return err;
	m->vdev.ops = m->version == 2 ? &ops_v2 : &ops_v1;
	device_count++;
	log_device(m);
	/* The core logs what it decided (no driver, refused, started). */
	virtio_device_found(&m->vdev);
	return 0;
}

unsigned mmio_device_count(void)
{
	return device_count;
}

struct virtio_device *mmio_device_at(unsigned i)
{
	return i < device_count ? &devices[i].vdev : NULL;
}
