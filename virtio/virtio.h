/*
 * virtio/ internal header: the transport interface every bus implements, the
 * device each driver sees, and the core's functions, grouped by file.
 *
 * Drivers never know which transport they sit on (DESIGN.md). A transport is
 * a small ops table implemented by pci/ (virtio-pci modern and legacy,
 * virtio 1.2 §4.1) and mmio/ (virtio-mmio v2 and v1, §4.2). A bus finds a
 * device, fills a struct virtio_device and calls virtio_device_found(); the
 * core runs the initialisation sequence (§3.1) and hands the device to the
 * driver registered for its device type in virtio/drivers.c's table.
 *
 * Every value read from a device is untrusted: sizes, offsets, ids and
 * lengths are range-checked before use, and a misbehaving device is failed
 * (DEVICE_NEEDS_RESET / FAILED), never followed.
 */
#ifndef NOOS_VIRTIO_H
#define NOOS_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Device status bits, virtio 1.2 §2.1. */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED             128

/* Reserved feature bits, virtio 1.2 §6. */
#define VIRTIO_F_INDIRECT_DESC   28
#define VIRTIO_F_EVENT_IDX       29
#define VIRTIO_F_VERSION_1       32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED     34

/* Device types, virtio 1.2 §5. */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_RNG 4

/* Interrupt status bits as the ISR / InterruptStatus registers report them (§4.1.4.5, §4.2.2). */
#define VIRTIO_ISR_QUEUE  1
#define VIRTIO_ISR_CONFIG 2

struct virtio_device;

/*
 * Where a queue's three parts live (physical addresses) and how big it is.
 * The core always allocates the parts contiguously in the legacy layout
 * (§2.7: descriptor table, available ring, then the used ring at the next
 * `legacy_align` boundary), so legacy transports can program a single PFN.
 */
struct virtio_queue_layout {
	uint16_t index;
	uint16_t size; /* number of descriptors, a power of two for legacy transports */
	uint64_t desc, avail, used;
	uint32_t legacy_align; /* 4096 on legacy PCI; mmio v1 writes it to QueueAlign */
};

/* What a transport implements. Every function may be called only from the device's owner. */
struct virtio_transport_ops {
	const char *name; /* "pci-modern", "pci-legacy", "mmio-v2", "mmio-v1" */
	bool modern;      /* VERSION_1 transport: 64 feature bits, FEATURES_OK step */
	uint8_t (*get_status)(struct virtio_device *dev);
	void (*set_status)(struct virtio_device *dev, uint8_t status);
	/* Write 0 to the status and wait (bounded) until the device reads back 0: 0 or -EIO. */
	int (*reset)(struct virtio_device *dev);
	uint64_t (*get_features)(struct virtio_device *dev);
	void (*set_features)(struct virtio_device *dev, uint64_t features);
	/* Device-specific configuration space, by byte offset; -EINVAL when out of range. */
	int (*config_read)(struct virtio_device *dev, uint32_t offset, void *buf, uint32_t len);
	int (*config_write)(struct virtio_device *dev, uint32_t offset, const void *buf, uint32_t len);
	uint32_t (*config_generation)(struct virtio_device *dev); /* 0 when the transport has none */
	/* Largest queue size the device offers for this index (0: no such queue). */
	uint16_t (*queue_max_size)(struct virtio_device *dev, uint16_t index);
	/* Program and enable a queue; -EINVAL if the device cannot take this layout. */
	int (*queue_enable)(struct virtio_device *dev, const struct virtio_queue_layout *q);
	void (*queue_notify)(struct virtio_device *dev, uint16_t index);
	/* Read (and thereby acknowledge) the interrupt status: VIRTIO_ISR_* bits. */
	uint32_t (*interrupt_ack)(struct virtio_device *dev);
	/*
	 * Route the device's interrupts to handler(dev, vector_index): one vector
	 * per queue plus config where the transport can (MSI-X), else one shared
	 * line. Returns the number of vectors set up, or a negative errno (then
	 * the driver polls).
	 */
	int (*interrupt_setup)(struct virtio_device *dev,
			       void (*handler)(struct virtio_device *dev, unsigned vector));
};

struct virtio_device {
	const struct virtio_transport_ops *ops;
	void *transport;        /* the transport's own state */
	char name[40];          /* where it was found: "pci 00:02.0", "virtio-mmio@0a000000" */
	uint32_t device_id;     /* VIRTIO_ID_* */
	uint64_t features;      /* negotiated: the driver's wanted set & the device's offer */
	void *driver_data;      /* the driver's per-device state */
	uint32_t bad_responses; /* device misbehaviour seen and rejected */
};

#endif
