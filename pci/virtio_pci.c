/*
 * The virtio-pci transport (virtio 1.2 §4.1) as a PCI driver: it claims
 * vendor 0x1af4 devices 0x1000-0x107f, finds the device type (§4.1.2),
 * sets up the modern interface through the vendor capabilities (§4.1.4) or,
 * for a transitional device without them, the legacy interface
 * (virtio_pci_legacy.c), and hands the device to the virtio core.
 *
 * The modern ops below implement struct virtio_transport_ops over the
 * common configuration structure. Every structure was checked against its
 * BAR at probe time (virtio_pci_caps.c); queue notify offsets are checked
 * against the notify structure's length when a queue is enabled.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pci.h"
#include "rt.h"
#include "virtio_pci_reg.h"

/* Reads of device_status after a reset before the device is declared stuck (a count, not a time).
 */
#define RESET_POLLS    100000
#define QUEUE_SIZE_MAX 32768 /* §2.7: split virtqueues hold at most 32768 descriptors */

static struct virtio_pci_dev devices[VIRTIO_PCI_MAX_DEVICES];
static unsigned device_count;

static struct virtio_pci_dev *to_vpci(struct virtio_device *dev)
{
	return dev->transport;
}

static uint8_t common_read8(struct virtio_pci_dev *d, unsigned reg)
{
	return pci_bar_read8(d->common, d->common_off + reg);
}

static uint16_t common_read16(struct virtio_pci_dev *d, unsigned reg)
{
	return pci_bar_read16(d->common, d->common_off + reg);
}

static uint32_t common_read32(struct virtio_pci_dev *d, unsigned reg)
{
	return pci_bar_read32(d->common, d->common_off + reg);
}

static void common_write8(struct virtio_pci_dev *d, unsigned reg, uint8_t v)
{
	pci_bar_write8(d->common, d->common_off + reg, v);
}

static void common_write16(struct virtio_pci_dev *d, unsigned reg, uint16_t v)
{
	pci_bar_write16(d->common, d->common_off + reg, v);
}

static void common_write32(struct virtio_pci_dev *d, unsigned reg, uint32_t v)
{
	pci_bar_write32(d->common, d->common_off + reg, v);
}

/* 64-bit fields are written as two 32-bit halves, low first (§4.1.3.1). */
static void common_write64(struct virtio_pci_dev *d, unsigned reg, uint64_t v)
{
	common_write32(d, reg, (uint32_t)v);
	common_write32(d, reg + 4, (uint32_t)(v >> 32));
}

/* ---- status, reset, features (§4.1.4.3) ---- */

static uint8_t modern_get_status(struct virtio_device *dev)
{
	return common_read8(to_vpci(dev), VIRTIO_PCI_COMMON_STATUS);
}

static void modern_set_status(struct virtio_device *dev, uint8_t status)
{
	common_write8(to_vpci(dev), VIRTIO_PCI_COMMON_STATUS, status);
}

/* §4.1.4.3.2: after writing 0, wait for device_status to read back 0. */
static int modern_reset(struct virtio_device *dev)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	common_write8(d, VIRTIO_PCI_COMMON_STATUS, 0);
	for (int i = 0; i < RESET_POLLS; i++)
		if (common_read8(d, VIRTIO_PCI_COMMON_STATUS) == 0)
			return 0;
	dev->bad_responses++;
	return -EIO;
}

static uint64_t modern_get_features(struct virtio_device *dev)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	common_write32(d, VIRTIO_PCI_COMMON_DFSELECT, 0);
	uint64_t lo = common_read32(d, VIRTIO_PCI_COMMON_DF);
	common_write32(d, VIRTIO_PCI_COMMON_DFSELECT, 1);
	return lo | (uint64_t)common_read32(d, VIRTIO_PCI_COMMON_DF) << 32;
}

static void modern_set_features(struct virtio_device *dev, uint64_t features)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	common_write32(d, VIRTIO_PCI_COMMON_GFSELECT, 0);
	common_write32(d, VIRTIO_PCI_COMMON_GF, (uint32_t)features);
	common_write32(d, VIRTIO_PCI_COMMON_GFSELECT, 1);
	common_write32(d, VIRTIO_PCI_COMMON_GF, (uint32_t)(features >> 32));
}

/* ---- device configuration (§4.1.4.6) ---- */

/*
 * Access [offset, offset + len) of a configuration area of `avail` bytes at
 * `base` in a BAR: naturally aligned 1/2/4-byte fields in one access, 8-byte
 * fields as two 32-bit halves (§4.1.3.1), anything else byte by byte.
 */
int virtio_pci_config_access(const struct pci_bar *bar, uint64_t base, uint32_t avail,
                             uint32_t offset, void *buf, uint32_t len, bool write)
{
	if (offset > avail || len > avail - offset)
		return -EINVAL;
	uint64_t at = base + offset;
	uint8_t *p = buf;
	uint32_t step = (len == 1 || len == 2 || len == 4) && offset % len == 0 ? len
	                : len % 4 == 0 && offset % 4 == 0                       ? 4
	                                                                        : 1;
	for (uint32_t done = 0; done < len; done += step, at += step) {
		uint32_t v = 0;
		if (write)
			memcpy(&v, p + done, step);
		if (step == 4)
			write ? pci_bar_write32(bar, at, v) : (void)(v = pci_bar_read32(bar, at));
		else if (step == 2)
			write ? pci_bar_write16(bar, at, (uint16_t)v)
			      : (void)(v = pci_bar_read16(bar, at));
		else
			write ? pci_bar_write8(bar, at, (uint8_t)v)
			      : (void)(v = pci_bar_read8(bar, at));
		if (!write)
			memcpy(p + done, &v, step);
	}
	return 0;
}

static int modern_config_read(struct virtio_device *dev, uint32_t offset, void *buf, uint32_t len)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	if (!d->device)
		return -EINVAL;
	return virtio_pci_config_access(d->device, d->device_off, d->device_len, offset, buf, len,
	                                false);
}

static int modern_config_write(struct virtio_device *dev, uint32_t offset, const void *buf,
                               uint32_t len)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	if (!d->device)
		return -EINVAL;
	return virtio_pci_config_access(d->device, d->device_off, d->device_len, offset,
	                                (void *)buf, len, true);
}

static uint32_t modern_config_generation(struct virtio_device *dev)
{
	return common_read8(to_vpci(dev), VIRTIO_PCI_COMMON_CFGGENERATION);
}

/* ---- queues (§4.1.5.1.3) and notifications (§4.1.4.4) ---- */

static uint16_t modern_queue_max_size(struct virtio_device *dev, uint16_t index)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	if (index >= d->num_queues)
		return 0;
	common_write16(d, VIRTIO_PCI_COMMON_Q_SELECT, index);
	uint16_t size = common_read16(d, VIRTIO_PCI_COMMON_Q_SIZE);
	if (size > QUEUE_SIZE_MAX) {
		dev->bad_responses++;
		return 0;
	}
	return size;
}

/* Where queue `index` is notified: queue_notify_off * multiplier + 2 bytes inside the structure. */
static int notify_offset(struct virtio_pci_dev *d, uint32_t *out)
{
	uint64_t off = (uint64_t)common_read16(d, VIRTIO_PCI_COMMON_Q_NOFF) * d->notify_mult;
	if (off + VIRTIO_PCI_NOTIFY_WIDTH > d->notify_len) {
		d->vdev.bad_responses++;
		return -EIO;
	}
	*out = (uint32_t)off;
	return 0;
}

static int modern_queue_enable(struct virtio_device *dev, const struct virtio_queue_layout *q)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	uint16_t max = modern_queue_max_size(dev, q->index);
	if (q->index >= VIRTIO_PCI_MAX_QUEUES || q->size == 0 || q->size > max)
		return -EINVAL;
	uint32_t noff;
	if (notify_offset(d, &noff) < 0)
		return -EIO;
	common_write16(d, VIRTIO_PCI_COMMON_Q_SIZE, q->size);
	common_write64(d, VIRTIO_PCI_COMMON_Q_DESCLO, q->desc);
	common_write64(d, VIRTIO_PCI_COMMON_Q_AVAILLO, q->avail);
	common_write64(d, VIRTIO_PCI_COMMON_Q_USEDLO, q->used);
	if (d->msix_on)
		common_write16(d, VIRTIO_PCI_COMMON_Q_MSIX, d->queue_vector[q->index]);
	common_write16(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	d->queue_notify[q->index] = noff;
	return 0;
}

static void modern_queue_notify(struct virtio_device *dev, uint16_t index)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	if (index >= VIRTIO_PCI_MAX_QUEUES || d->queue_notify[index] == UINT32_MAX)
		panic("%s: notify of queue %u, which was never enabled", dev->name, index);
	pci_bar_write16(d->notify, d->notify_off + d->queue_notify[index], index);
}

static uint32_t modern_interrupt_ack(struct virtio_device *dev)
{
	struct virtio_pci_dev *d = to_vpci(dev);
	return pci_bar_read8(d->isr, d->isr_off) & (VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG);
}

/* ---- interrupts: MSI-X vector per queue where there are enough, else shared, else INTx ---- */

static void vector_fired(void *ctx)
{
	struct virtio_pci_vector *v = ctx;
	if (v->d->handler)
		v->d->handler(&v->d->vdev, v->index);
}

/* nvec == 1: config and every queue on entry 0; else config on 0, queue i on i + 1. */
static int modern_set_vectors(struct virtio_pci_dev *d, unsigned nvec)
{
	common_write16(d, VIRTIO_PCI_COMMON_MSIX, 0);
	if (common_read16(d, VIRTIO_PCI_COMMON_MSIX) != 0)
		return -EIO; /* §4.1.5.1.2.1: the device could not take the vector */
	for (uint16_t q = 0; q < d->num_queues; q++) {
		d->queue_vector[q] = nvec == 1 ? 0 : (uint16_t)(q + 1);
		common_write16(d, VIRTIO_PCI_COMMON_Q_SELECT, q);
		common_write16(d, VIRTIO_PCI_COMMON_Q_MSIX, d->queue_vector[q]);
		if (common_read16(d, VIRTIO_PCI_COMMON_Q_MSIX) != d->queue_vector[q])
			return -EIO;
	}
	return 0;
}

static void unroute_msix(struct virtio_pci_dev *d, unsigned routed)
{
	if (d->msix_on)
		pci_msix_enable(d->f, &d->msix, false);
	d->msix_on = false;
	for (unsigned i = 0; i < routed; i++)
		pci_msix_unroute(d->f, &d->msix, i, d->vec[i].handle);
}

static int route_msix(struct virtio_pci_dev *d, unsigned nvec,
                      int (*set_vectors)(struct virtio_pci_dev *d, unsigned nvec))
{
	for (unsigned i = 0; i < nvec; i++) {
		d->vec[i] = (struct virtio_pci_vector){.d = d, .index = i};
		int rc = pci_msix_route(d->f, &d->msix, i, vector_fired, &d->vec[i]);
		if (rc < 0) {
			unroute_msix(d, i);
			return rc;
		}
		d->vec[i].handle = rc;
	}
	/* Legacy devices show their vector registers only while MSI-X is on (§4.1.4.10). */
	pci_msix_enable(d->f, &d->msix, true);
	d->msix_on = true;
	int rc = set_vectors(d, nvec);
	if (rc < 0)
		unroute_msix(d, nvec);
	return rc;
}

/*
 * Shared by both transports: per-queue MSI-X vectors when the table has an
 * entry for config plus every queue, one shared MSI-X vector otherwise, and
 * the INTx line when MSI-X is absent or fails. Returns the vector count.
 */
static int irq_choose(struct virtio_pci_dev *d, unsigned nqueues,
                      int (*set_vectors)(struct virtio_pci_dev *d, unsigned nvec))
{
	unsigned want = nqueues + 1;
	if (d->msix.cap) {
		unsigned nvec = want <= d->msix.nvec && want <= VIRTIO_PCI_MAX_VECTORS ? want : 1;
		if (route_msix(d, nvec, set_vectors) == 0)
			return (int)nvec;
		if (nvec > 1 && route_msix(d, 1, set_vectors) == 0)
			return 1;
		/* Not the device's fault: the platform may have no MSI (GICv3 without an ITS). */
		printf("pci %s: MSI-X setup failed: falling back to INTx\n", d->f->name);
	}
	for (uint16_t q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
		d->queue_vector[q] = VIRTIO_MSI_NO_VECTOR;
	d->vec[0] = (struct virtio_pci_vector){.d = d, .index = 0};
	return pci_intx_route(d->f, vector_fired, &d->vec[0]);
}

/*
 * Shared by both transports: per-queue MSI-X vectors when the table has an
 * entry for config plus every queue, one shared MSI-X vector otherwise, and
 * the INTx line when MSI-X is absent or fails. Returns the vector count.
 */
int virtio_pci_irq_setup(struct virtio_pci_dev *d, unsigned nqueues,
                         int (*set_vectors)(struct virtio_pci_dev *d, unsigned nvec))
{
	/*
	 * Again after a reset (DEVICE_NEEDS_RESET recovery): the vectors stay
	 * routed and only the device's vector registers, cleared by the reset,
	 * are written again; an INTx handler stays registered.
	 */
	if (d->irq_vectors > 0) {
		if (d->msix_on && set_vectors(d, (unsigned)d->irq_vectors) < 0)
			return -EIO;
		return d->irq_vectors;
	}
	const char *name = d->f->name;
	int rc = irq_choose(d, nqueues, set_vectors);
	if (rc < 0)
		printf("pci %s: no interrupt (%d): the driver polls\n", name, rc);
	else if (d->msix_on)
		printf("pci %s: MSI-X, %d vector%s\n", name, rc, rc > 1 ? "s" : " shared");
	else
		printf("pci %s: INTx on line %d\n", name, rc);
	if (rc >= 0)
		d->irq_vectors = d->msix_on ? rc : 1;
	return rc < 0 ? rc : d->irq_vectors;
}

static int modern_interrupt_setup(struct virtio_device *dev,
                                  void (*handler)(struct virtio_device *dev, unsigned vector))
{
	struct virtio_pci_dev *d = to_vpci(dev);
	d->handler = handler;
	return virtio_pci_irq_setup(d, d->num_queues, modern_set_vectors);
}

static const struct virtio_transport_ops modern_ops = {
    .name = "pci-modern",
    .modern = true,
    .get_status = modern_get_status,
    .set_status = modern_set_status,
    .reset = modern_reset,
    .get_features = modern_get_features,
    .set_features = modern_set_features,
    .config_read = modern_config_read,
    .config_write = modern_config_write,
    .config_generation = modern_config_generation,
    .queue_max_size = modern_queue_max_size,
    .queue_enable = modern_queue_enable,
    .queue_notify = modern_queue_notify,
    .interrupt_ack = modern_interrupt_ack,
    .interrupt_setup = modern_interrupt_setup,
};

/* ---- probe ---- */

/* The structure's BAR mapped, or NULL. */
static const struct pci_bar *map_region(struct pci_func *f, const struct virtio_pci_region *r)
{
	if (!r->present || pci_bar_map(f, r->bar) < 0)
		return NULL;
	return &f->bar[r->bar];
}

static int modern_setup(struct virtio_pci_dev *d)
{
	struct pci_func *f = d->f;
	struct pci_cfg_reader r = pci_func_reader(f);
	struct pci_caps caps;
	if (pci_caps_read(&r, &caps) < 0)
		pci_error(f, "malformed capability list, read up to the fault");
	uint64_t sizes[PCI_NUM_BARS];
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		sizes[i] = f->bar[i].valid ? f->bar[i].size : 0;
	struct virtio_pci_layout lay;
	int rc = virtio_pci_find_layout(&r, &caps, sizes, &lay);
	for (unsigned i = 0; i < lay.rejected; i++)
		pci_error(f, "virtio capability outside its BAR or malformed: skipped");
	if (rc < 0)
		return rc;
	d->common = map_region(f, &lay.common);
	d->notify = map_region(f, &lay.notify);
	d->isr = map_region(f, &lay.isr);
	d->device = map_region(f, &lay.device);
	if (!d->common || !d->notify || !d->isr)
		return -ENOMEM;
	d->common_off = lay.common.offset;
	d->notify_off = lay.notify.offset;
	d->notify_len = lay.notify.length;
	d->notify_mult = lay.notify_mult;
	d->isr_off = lay.isr.offset;
	d->device_off = lay.device.offset;
	d->device_len = d->device ? lay.device.length : 0;
	d->num_queues = common_read16(d, VIRTIO_PCI_COMMON_NUMQ);
	if (d->num_queues > VIRTIO_PCI_MAX_QUEUES) {
		printf("pci %s: %u queues offered, %u used\n", f->name, d->num_queues,
		       VIRTIO_PCI_MAX_QUEUES);
		d->num_queues = VIRTIO_PCI_MAX_QUEUES;
	}
	d->vdev.ops = &modern_ops;
	return 0;
}

/* §4.1.2.1: modern IDs are 0x1040 + type; transitional ones carry the type in the subsystem ID. */
static uint32_t virtio_type(const struct pci_func *f)
{
	if (f->device >= VIRTIO_PCI_MODERN_BASE)
		return f->device - VIRTIO_PCI_MODERN_BASE;
	return f->subsys_device;
}

static const char *type_name(uint32_t type)
{
	static const char *const names[] = {
	    [1] = "virtio-net",    [2] = "virtio-blk",     [3] = "virtio-console",
	    [4] = "virtio-rng",    [5] = "virtio-balloon", [8] = "virtio-scsi",
	    [9] = "virtio-9p",     [16] = "virtio-gpu",    [18] = "virtio-input",
	    [19] = "virtio-vsock", [26] = "virtio-fs",
	};
	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "virtio";
}

static const char *virtio_pci_describe(const struct pci_func *f)
{
	return type_name(virtio_type(f));
}

static struct virtio_pci_dev *new_device(struct pci_func *f, uint32_t type)
{
	if (device_count >= VIRTIO_PCI_MAX_DEVICES)
		return NULL;
	struct virtio_pci_dev *d = &devices[device_count];
	*d = (struct virtio_pci_dev){.f = f};
	for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
		d->queue_notify[q] = UINT32_MAX;
		d->queue_vector[q] = VIRTIO_MSI_NO_VECTOR;
	}
	d->vdev.transport = d;
	d->vdev.device_id = type;
	snprintf(d->vdev.name, sizeof(d->vdev.name), "pci %s", f->name);
	return d;
}

/* Modern when the device has the capabilities; legacy only for a transitional revision 0. */
static int setup_transport(struct virtio_pci_dev *d)
{
	int rc = modern_setup(d);
	if (rc != -ENODEV)
		return rc;
	if (d->f->device > VIRTIO_PCI_TRANSITIONAL_LAST || d->f->revision != 0)
		return -ENODEV;
	return virtio_pci_legacy_setup(d);
}

static void hand_over(struct virtio_pci_dev *d)
{
	struct pci_func *f = d->f;
	printf("pci %s: %s over %s%s\n", f->name, type_name(d->vdev.device_id), d->vdev.ops->name,
	       d->msix.cap ? ", MSI-X capable" : "");
	int rc = virtio_device_found(&d->vdev);
	if (rc < 0)
		printf("pci %s: the virtio core refused the device (%d)\n", f->name, rc);
}

static int virtio_pci_probe(struct pci_func *f)
{
	uint32_t type = virtio_type(f);
	if (type == 0)
		return -ENODEV;
	struct virtio_pci_dev *d = new_device(f, type);
	if (!d) {
		pci_error(f, "too many virtio-pci devices: ignored");
		return -ENOSPC;
	}
	/* Decoding on before the transport reads its registers; DMA needs bus mastering. */
	pci_enable_decoding(f);
	pci_write16(f, PCI_COMMAND, pci_read16(f, PCI_COMMAND) | PCI_COMMAND_MASTER);
	int rc = setup_transport(d);
	if (rc < 0) {
		pci_error(f, "no usable virtio interface: device ignored");
		return rc;
	}
	if (pci_msix_probe(f, &d->msix) == -EINVAL)
		d->msix = (struct pci_msix){0};
	device_count++;
	f->driver_data = d;
	hand_over(d);
	return 0;
}

const struct pci_driver virtio_pci_driver = {
    .name = "virtio-pci",
    .vendor = VIRTIO_PCI_VENDOR,
    .device_first = VIRTIO_PCI_DEVICE_FIRST,
    .device_last = VIRTIO_PCI_DEVICE_LAST,
    .describe = virtio_pci_describe,
    .probe = virtio_pci_probe,
};
