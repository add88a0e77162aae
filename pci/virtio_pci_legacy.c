/*
 * The legacy virtio-pci interface (virtio 1.2 §4.1.4.10 and §4.1.5 legacy
 * notes), what QEMU offers with disable-modern=on: one I/O BAR 0 holding
 * the header below, followed by the device configuration (which moves from
 * 0x14 to 0x18 while MSI-X is enabled).
 *
 * Legacy devices have 32 feature bits, no FEATURES_OK step (ops.modern is
 * false), a queue size fixed by the device, and queues given as a single
 * page frame number with the parts in the §2.7 legacy layout at 4096-byte
 * alignment, which is how the virtio core allocates them anyway.
 */
#include <errno.h>

#include "pci.h"
#include "rt.h"
#include "virtio_pci_reg.h"

static struct virtio_pci_dev *to_vpci(struct virtio_device *dev)
{
	return dev->transport;
}

static const struct pci_bar *bar0(struct virtio_device *dev)
{
	return to_vpci(dev)->common;
}

static uint8_t legacy_get_status(struct virtio_device *dev)
{
	return pci_bar_read8(bar0(dev), VIRTIO_PCI_LEGACY_STATUS);
}

static void legacy_set_status(struct virtio_device *dev, uint8_t status)
{
	pci_bar_write8(bar0(dev), VIRTIO_PCI_LEGACY_STATUS, status);
}

/* Writing 0 resets a legacy device at once; a status that stays set means it is broken. */
static int legacy_reset(struct virtio_device *dev)
{
	legacy_set_status(dev, 0);
	if (legacy_get_status(dev) == 0)
		return 0;
	dev->bad_responses++;
	return -EIO;
}

static uint64_t legacy_get_features(struct virtio_device *dev)
{
	return pci_bar_read32(bar0(dev), VIRTIO_PCI_LEGACY_HOST_FEATURES);
}

static void legacy_set_features(struct virtio_device *dev, uint64_t features)
{
	pci_bar_write32(bar0(dev), VIRTIO_PCI_LEGACY_GUEST_FEATURES, (uint32_t)features);
}

static uint32_t config_avail(const struct virtio_pci_dev *d)
{
	uint64_t size = d->common->size;
	return size > d->legacy_config ? (uint32_t)(size - d->legacy_config) : 0;
}

static int legacy_config_read(struct virtio_device *dev, uint32_t offset, void *buf, uint32_t len)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	return virtio_pci_config_access(d->common, d->legacy_config, config_avail(d), offset, buf,
	                                len, false);
}

static int legacy_config_write(struct virtio_device *dev, uint32_t offset, const void *buf,
                               uint32_t len)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	return virtio_pci_config_access(d->common, d->legacy_config, config_avail(d), offset,
	                                (void *)buf, len, true);
}

static uint32_t legacy_config_generation(struct virtio_device *dev)
{
	(void)dev;
	return 0; /* legacy has no generation counter */
}

static uint16_t legacy_queue_max_size(struct virtio_device *dev, uint16_t index)
{
	if (index >= VIRTIO_PCI_MAX_QUEUES)
		return 0;
	pci_bar_write16(bar0(dev), VIRTIO_PCI_LEGACY_QUEUE_SEL, index);
	uint16_t size = pci_bar_read16(bar0(dev), VIRTIO_PCI_LEGACY_QUEUE_NUM);
	if (size & (size - 1)) { /* §2.7: legacy queue sizes are powers of two */
		dev->bad_responses++;
		return 0;
	}
	return size;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* The one layout a PFN can describe (§2.7, legacy interfaces: virtqueue layout). */
static bool legacy_layout_ok(const struct virtio_queue_layout *q)
{
	uint64_t avail = q->desc + 16ull * q->size;
	uint64_t used = align_up(avail + 6 + 2ull * q->size, VIRTIO_PCI_LEGACY_ALIGN);
	return q->legacy_align == VIRTIO_PCI_LEGACY_ALIGN &&
	       (q->desc & (VIRTIO_PCI_LEGACY_ALIGN - 1)) == 0 && q->avail == avail &&
	       q->used == used && (q->desc >> VIRTIO_PCI_LEGACY_PFN_SHIFT) <= UINT32_MAX;
}

static int legacy_queue_enable(struct virtio_device *dev, const struct virtio_queue_layout *q)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	uint16_t size = legacy_queue_max_size(dev, q->index);
	if (size == 0 || q->size != size || !legacy_layout_ok(q))
		return -EINVAL;
	if (d->msix_on) {
		pci_bar_write16(d->common, VIRTIO_PCI_LEGACY_MSIX_QUEUE, d->queue_vector[q->index]);
		if (pci_bar_read16(d->common, VIRTIO_PCI_LEGACY_MSIX_QUEUE) !=
		    d->queue_vector[q->index])
			return -EIO;
	}
	pci_bar_write32(d->common, VIRTIO_PCI_LEGACY_QUEUE_PFN,
	                (uint32_t)(q->desc >> VIRTIO_PCI_LEGACY_PFN_SHIFT));
	d->queue_notify[q->index] = 0;
	return 0;
}

static void legacy_queue_notify(struct virtio_device *dev, uint16_t index)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	if (index >= VIRTIO_PCI_MAX_QUEUES || d->queue_notify[index] == UINT32_MAX)
		panic("%s: notify of queue %u, which was never enabled", dev->name, index);
	pci_bar_write16(d->common, VIRTIO_PCI_LEGACY_QUEUE_NOTIFY, index);
}

static uint32_t legacy_interrupt_ack(struct virtio_device *dev)
{
	return pci_bar_read8(bar0(dev), VIRTIO_PCI_LEGACY_ISR) &
	       (VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
}

/* Queues a legacy device has: sizes are nonzero up to the first missing one. */
static unsigned legacy_queue_count(struct virtio_device *dev)
{
	unsigned n = 0;
	while (n < VIRTIO_PCI_MAX_QUEUES && legacy_queue_max_size(dev, (uint16_t)n) != 0)
		n++;
	return n;
}

/* Called with MSI-X already enabled, when the vector registers exist (§4.1.4.10). */
static int legacy_set_vectors(struct virtio_pci_dev *d, unsigned nvec)
{
	d->legacy_config = VIRTIO_PCI_LEGACY_CONFIG_MSIX;
	pci_bar_write16(d->common, VIRTIO_PCI_LEGACY_MSIX_CONFIG, 0);
	if (pci_bar_read16(d->common, VIRTIO_PCI_LEGACY_MSIX_CONFIG) != 0) {
		d->legacy_config = VIRTIO_PCI_LEGACY_CONFIG;
		return -EIO;
	}
	for (uint16_t q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
		d->queue_vector[q] = nvec == 1 ? 0 : (uint16_t)(q + 1);
		if (d->queue_notify[q] == UINT32_MAX)
			continue; /* not enabled yet: legacy_queue_enable writes it */
		pci_bar_write16(d->common, VIRTIO_PCI_LEGACY_QUEUE_SEL, q);
		pci_bar_write16(d->common, VIRTIO_PCI_LEGACY_MSIX_QUEUE, d->queue_vector[q]);
		if (pci_bar_read16(d->common, VIRTIO_PCI_LEGACY_MSIX_QUEUE) != d->queue_vector[q])
			return -EIO;
	}
	return 0;
}

static int legacy_interrupt_setup(struct virtio_device *dev,
                                  void (*handler)(struct virtio_device *dev, unsigned vector))
{
	struct virtio_pci_dev *d = to_vpci(dev);
	d->handler = handler;
	int rc = virtio_pci_irq_setup(d, legacy_queue_count(dev), legacy_set_vectors);
	if (!d->msix_on)
		d->legacy_config = VIRTIO_PCI_LEGACY_CONFIG;
	return rc;
}

const struct virtio_transport_ops virtio_pci_legacy_ops = {
    .name = "pci-legacy",
    .modern = false,
    .get_status = legacy_get_status,
    .set_status = legacy_set_status,
    .reset = legacy_reset,
    .get_features = legacy_get_features,
    .set_features = legacy_set_features,
    .config_read = legacy_config_read,
    .config_write = legacy_config_write,
    .config_generation = legacy_config_generation,
    .queue_max_size = legacy_queue_max_size,
    .queue_enable = legacy_queue_enable,
    .queue_notify = legacy_queue_notify,
    .interrupt_ack = legacy_interrupt_ack,
    .interrupt_setup = legacy_interrupt_setup,
};

/* BAR 0 must be a valid I/O BAR large enough for the header (§4.1.4.10). */
int virtio_pci_legacy_setup(struct virtio_pci_dev *d)
{
	struct pci_func *f = d->f;
	const struct pci_bar *b = &f->bar[0];
	if (b->kind != PCI_BAR_IO || !b->valid || b->size < VIRTIO_PCI_LEGACY_CONFIG ||
	    pci_bar_map(f, 0) < 0)
		return -ENODEV;
	d->common = b;
	d->legacy_config = VIRTIO_PCI_LEGACY_CONFIG;
	d->vdev.ops = &virtio_pci_legacy_ops;
	return 0;
}
