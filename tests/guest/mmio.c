/*
 * Guest test for virtio-mmio discovery and transport (mmio/). Lists the
 * devices the boot step found and checks them against the command line:
 *
 *   expect=virtio-rng:2,virtio-net:1  exactly these devices, by type
 *   version=1|2                      every device uses this register layout
 *   rejected=N                       N declarations refused (malformed, overlapping)
 *   irq=1|0                          every rng device has (1) or lacks (0) its interrupt
 *
 * Every virtio-rng device must then deliver entropy through its queue
 * (polled, or by interrupt when it has one), with no device misbehaviour
 * recorded. Prints "mmio: ok" and returns 0, or "mmio: FAIL ..." and 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noos.h"
#include "rt.h"
#include "../../mmio/mmio.h"
#include "../../virtio/virtio.h"

#define DELIVERY_TIMEOUT_NS (10ull * 1000 * 1000 * 1000) /* generous: TCG on a busy host */

static int failures;

static void fail(const char *what, const char *name)
{
	printf("mmio: FAIL %s%s%s\n", what, name ? ": " : "", name ? name : "");
	failures++;
}

static const char *type_of(const struct virtio_device *dev)
{
	const char *t = virtio_type_name(dev->device_id);
	return t ? t : "unknown";
}

/* "virtio-rng:2,virtio-net:1": each type's count must match exactly, and nothing else found. */
static void check_expected(const char *expect)
{
	unsigned listed = 0;
	const char *p = expect;
	while (*p) {
		const char *colon = strchr(p, ':');
		if (!colon)
			return fail("bad expect= syntax", expect);
		char *end;
		unsigned want = (unsigned)strtoul(colon + 1, &end, 10);
		unsigned have = 0;
		for (unsigned i = 0; i < mmio_device_count(); i++) {
			const char *t = type_of(mmio_device_at(i));
			have += strlen(t) == (size_t)(colon - p) && strncmp(t, p, colon - p) == 0;
		}
		if (have != want)
			fail("device count differs for", p);
		listed += want;
		p = *end == ',' ? end + 1 : end;
	}
	if (listed != mmio_device_count())
		fail("more devices than expected", NULL);
}

static void list_devices(const char *version)
{
	for (unsigned i = 0; i < mmio_device_count(); i++) {
		struct virtio_device *dev = mmio_device_at(i);
		printf("mmio: %s %s %s, %s, %d interrupt vectors\n", dev->name, type_of(dev),
		       dev->ops->name, dev->driver ? "driven" : "no driver", dev->irq_vectors);
		if (version && strcmp(dev->ops->name + strlen("mmio-v"), version) != 0)
			fail("register layout version differs", dev->name);
		uint8_t b;
		if (dev->ops->config_read(dev, 0xfffffffc, &b, 1) != -EINVAL ||
		    dev->ops->config_read(dev, 0, &b, 0xffffffff) != -EINVAL)
			fail("config access outside the window not refused", dev->name);
	}
}

/* The rng device's request queue returns filled buffers (§5.4.6). */
static void check_rng(struct virtio_device *dev, int want_irq)
{
	struct virtq *vq = dev->queues[0];
	if (!dev->driver || !vq)
		return fail("virtio-rng not started", dev->name);
	if (want_irq >= 0 && (dev->irq_vectors > 0) != want_irq)
		fail(want_irq ? "no interrupt line" : "unexpected interrupt line", dev->name);
	uint64_t deadline = arch_time_ns() + DELIVERY_TIMEOUT_NS;
	/* Harvesting is polled (random.c asks); an interrupt is counted when it finds work. */
	while ((vq->stats.used < 2 || (dev->irq_vectors > 0 && vq->stats.interrupts == 0)) &&
	       arch_time_ns() < deadline)
		random_poll();
	printf("mmio: %s: %llu buffers used, %llu interrupts, %u bad responses\n", dev->name,
	       (unsigned long long)vq->stats.used, (unsigned long long)vq->stats.interrupts,
	       (unsigned)dev->bad_responses);
	if (vq->stats.used < 2)
		fail("no entropy delivered", dev->name);
	if (dev->irq_vectors > 0 && vq->stats.interrupts == 0)
		fail("interrupt line never fired", dev->name);
	if (dev->bad_responses || dev->broken)
		fail("device misbehaved", dev->name);
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const char *expect = noos_getenv("expect"), *rejected = noos_getenv("rejected");
	const char *irq = noos_getenv("irq");
	printf("mmio: %u devices\n", mmio_device_count());
	list_devices(noos_getenv("version"));
	if (expect)
		check_expected(expect);
	if (rejected && strtoul(rejected, NULL, 10) != mmio_declared()->rejected)
		fail("rejected declarations differ", rejected);
	for (unsigned i = 0; i < mmio_device_count(); i++) {
		struct virtio_device *dev = mmio_device_at(i);
		if (dev->device_id == VIRTIO_ID_RNG)
			check_rng(dev, irq ? atoi(irq) : -1);
	}
	if (failures)
		return 1;
	printf("mmio: ok %u devices\n", mmio_device_count());
	return 0;
}
