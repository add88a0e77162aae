/*
 * The virtio driver table and the entry point every bus calls.
 *
 * Drivers are listed here explicitly, not collected through linker-section
 * constructors (DESIGN.md): what the image can drive reads top to bottom.
 * A bus (pci/, mmio/) identifies a device, logs where it found it and calls
 * virtio_device_found(); the core looks the type up here and starts the
 * driver with the §3.1.1 sequence (virtio/device.c).
 */
#include <errno.h>
#include <stdio.h>

#include "net_reg.h"
#include "virtio.h"

static const struct virtio_driver drivers[] = {
    {
        .device_id = VIRTIO_ID_NET,
        .name = "virtio-net",
        /* §5.1.3; TSO both ways (large segments received only with mergeable buffers), no MQ,
         * no receive filtering. */
        .features = (1ull << VIRTIO_NET_F_CSUM) | (1ull << VIRTIO_NET_F_GUEST_CSUM) |
                    (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_MRG_RXBUF) |
                    (1ull << VIRTIO_NET_F_STATUS) | (1ull << VIRTIO_NET_F_CTRL_VQ) |
                    (1ull << VIRTIO_NET_F_GUEST_ANNOUNCE) | (1ull << VIRTIO_NET_F_HOST_TSO4) |
                    (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_GUEST_TSO4) |
                    (1ull << VIRTIO_NET_F_GUEST_TSO6),
        .features_select = virtio_net_features,
        .probe = virtio_net_probe,
        .remove = virtio_net_remove,
        .config_changed = virtio_net_config_changed,
    },
    {
        .device_id = VIRTIO_ID_RNG,
        .name = "virtio-rng",
        .features = 0, /* §5.4.3: virtio-rng defines no feature bits */
        .probe = virtio_rng_probe,
        .remove = virtio_rng_remove,
    },
};

/* Device type names (§5) for log lines, drivers or not. */
static const char *const type_names[] = {
    [1] = "virtio-net",     [2] = "virtio-blk",    [3] = "virtio-console", [4] = "virtio-rng",
    [5] = "virtio-balloon", [8] = "virtio-scsi",   [9] = "virtio-9p",      [16] = "virtio-gpu",
    [18] = "virtio-input",  [19] = "virtio-vsock", [20] = "virtio-crypto", [23] = "virtio-iommu",
    [24] = "virtio-mem",    [25] = "virtio-sound", [26] = "virtio-fs",     [27] = "virtio-pmem",
};

/* Every device a bus reported, for diagnostics and tests (the buses own the structures). */
#define MAX_DEVICES 64
static struct virtio_device *found[MAX_DEVICES];
static unsigned found_count;

const char *virtio_type_name(uint32_t device_id)
{
	if (device_id >= sizeof(type_names) / sizeof(type_names[0]))
		return NULL;
	return type_names[device_id];
}

static const struct virtio_driver *driver_for(uint32_t device_id)
{
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (drivers[i].device_id == device_id)
			return &drivers[i];
	return NULL;
}

/* The bus has already logged the device; say only what the core decided about it. */
int virtio_device_found(struct virtio_device *dev)
{
	if (found_count < MAX_DEVICES)
		found[found_count++] = dev;
	const struct virtio_driver *drv = driver_for(dev->device_id);
	if (!drv) {
		const char *type = virtio_type_name(dev->device_id);
		if (type)
			printf("%s: no driver for %s, left alone\n", dev->name, type);
		else
			printf("%s: no driver for virtio device type %u, left alone\n", dev->name,
			       (unsigned)dev->device_id);
		return -ENODEV;
	}
	return virtio_device_start(dev, drv);
}

unsigned virtio_device_count(void)
{
	return found_count;
}

struct virtio_device *virtio_device_at(unsigned i)
{
	return i < found_count ? found[i] : NULL;
}
