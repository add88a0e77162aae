/*
 * virtio/device.c against a fake transport: the §3.1.1 status sequence,
 * feature negotiation (VERSION_1, EVENT_IDX, INDIRECT_DESC, refusing
 * ACCESS_PLATFORM and RING_PACKED), legacy devices, queue sizing and
 * layout, interrupts, consistent configuration reads, and recovery from
 * DEVICE_NEEDS_RESET.
 */
#include <stdio.h>

#include "virtio_fake.h"

#define F(bit) (1ull << (bit))

static struct fake f;

static bool status_log_is(const uint8_t *want, unsigned n)
{
	if (f.status_writes != n)
		return false;
	return memcmp(f.status_log, want, n) == 0;
}

static void test_modern_sequence(void)
{
	fake_init(&f, true);
	f.offered |= F(VIRTIO_F_ACCESS_PLATFORM) | F(VIRTIO_F_RING_PACKED) | F(3) | F(5) | F(30);
	CHECK(virtio_device_init(&f.dev, F(3) | F(40)) == 0);
	/* bit 3 asked and offered; 5 offered, not asked; 40 and 30 not device bits */
	CHECK(f.accepted ==
	      (F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_INDIRECT_DESC) | F(3)));
	CHECK(f.dev.features == f.accepted);
	CHECK(virtio_has_feature(&f.dev, VIRTIO_F_EVENT_IDX) && !virtio_has_feature(&f.dev, 5));
	CHECK(!virtio_has_feature(&f.dev, 200));
	virtio_device_ready(&f.dev);
	const uint8_t want[] = {1, 3, 11, 15};
	CHECK(f.resets == 1 && status_log_is(want, 4));
	virtio_device_ready(&f.dev); /* once only */
	CHECK(f.status_writes == 4);
}

static void test_modern_failures(void)
{
	fake_init(&f, true);
	f.offered &= ~F(VIRTIO_F_VERSION_1);
	CHECK(virtio_device_init(&f.dev, 0) == -ENODEV);
	CHECK(f.status & VIRTIO_STATUS_FAILED);

	/* A device that requires ACCESS_PLATFORM: FEATURES_OK does not stick. */
	fake_init(&f, true);
	f.offered |= F(VIRTIO_F_ACCESS_PLATFORM);
	f.must_accept = F(VIRTIO_F_ACCESS_PLATFORM);
	CHECK(virtio_device_init(&f.dev, 0) == -ENOTSUP);
	CHECK(!(f.accepted & F(VIRTIO_F_ACCESS_PLATFORM)));
	CHECK((f.status & VIRTIO_STATUS_FAILED) && !(f.status & VIRTIO_STATUS_FEATURES_OK));

	/* A device that refuses for another reason. */
	fake_init(&f, true);
	f.must_accept = F(7);
	f.offered |= F(7);
	CHECK(virtio_device_init(&f.dev, 0) == -ENOTSUP);

	fake_init(&f, true);
	f.reset_stuck = true;
	CHECK(virtio_device_init(&f.dev, 0) == -EIO);
	CHECK(f.status & VIRTIO_STATUS_FAILED);
}

static void test_legacy(void)
{
	fake_init(&f, false);
	f.offered |= F(VIRTIO_F_VERSION_1) | F(2); /* a legacy transport shows only bits 0-31 */
	CHECK(virtio_device_init(&f.dev, F(2)) == 0);
	CHECK(f.accepted == (F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_INDIRECT_DESC) | F(2)));
	virtio_device_ready(&f.dev);
	const uint8_t want[] = {1, 3, 7}; /* no FEATURES_OK on legacy devices */
	CHECK(status_log_is(want, 3));
}

static void test_queue_setup(void)
{
	struct virtq *vq;
	fake_init(&f, true);
	CHECK(virtio_device_init(&f.dev, 0) == 0);
	f.queue_max[0] = 256;
	CHECK(virtio_queue_setup(&f.dev, 0, 8, 0, &vq) == 0 && vq->size == 8);
	CHECK(vq->event_idx && f.enabled[0] && f.layout[0].size == 8);
	const struct virtio_queue_layout *l = &f.layout[0];
	CHECK(l->desc % 4096 == 0 && l->avail == l->desc + 16 * 8);
	CHECK(l->used == l->desc + 4096 && l->legacy_align == 4096); /* legacy layout, always */
	f.queue_max[1] = 100; /* not a power of two: round down */
	CHECK(virtio_queue_setup(&f.dev, 1, 128, 0, &vq) == 0 && vq->size == 64);
	f.queue_max[2] = 0;
	CHECK(virtio_queue_setup(&f.dev, 2, 8, 0, &vq) == -ENOENT);
	CHECK(virtio_queue_setup(&f.dev, VIRTIO_MAX_QUEUES, 8, 0, &vq) == -EINVAL);
	/* a second setup after a reset reuses the memory */
	struct virtq *before = f.dev.queues[0];
	CHECK(virtio_queue_setup(&f.dev, 0, 8, 0, &vq) == 0 && vq == before);
	virtio_device_remove(&f.dev);
	CHECK(f.dev.queues[0] == NULL && f.dev.queues[1] == NULL);

	fake_init(&f, false);
	CHECK(virtio_device_init(&f.dev, 0) == 0);
	f.queue_max[0] = 256;
	CHECK(virtio_queue_setup(&f.dev, 0, 8, 0, &vq) == 0 && vq->size == 256);
	l = &f.layout[0];
	CHECK(l->used == l->desc + 8192); /* 4096 + 518 bytes, rounded up to Queue Align */
	f.queue_max[1] = 100;
	CHECK(virtio_queue_setup(&f.dev, 1, 8, 0, &vq) == -EINVAL);
	virtio_device_remove(&f.dev);
}

static unsigned callbacks;
static void count_callback(struct virtq *vq)
{
	(void)vq;
	callbacks++;
}

static void test_interrupts(void)
{
	struct virtq *vq;
	struct sim s;
	fake_init(&f, true);
	f.irq_vectors = 1;
	CHECK(virtio_device_init(&f.dev, 0) == 0);
	CHECK(virtio_interrupts(&f.dev) == 1 && f.handler != NULL);
	CHECK(virtio_queue_setup(&f.dev, 0, 8, 0, &vq) == 0);
	vq->callback = count_callback;
	sim_attach(&s, &f, 0);
	uint8_t buf[16];
	struct virtq_sg sg = {buf, sizeof(buf)};
	CHECK(virtq_add(vq, &sg, 0, 1, buf) == 0);
	virtq_kick(vq);
	f.handler(&f.dev, 0); /* nothing used yet: no callback */
	CHECK(callbacks == 0);
	sim_run(&s, 1);
	f.isr = VIRTIO_ISR_QUEUE;
	f.handler(&f.dev, 0);
	CHECK(callbacks == 1 && vq->stats.interrupts == 1 && f.isr == 0);
	f.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	f.isr = VIRTIO_ISR_CONFIG;
	f.handler(&f.dev, 0);
	CHECK(f.dev.needs_reset);
	/* per-queue vectors: vector 0 is configuration, the ISR is not read */
	f.dev.irq_vectors = 3;
	f.isr = VIRTIO_ISR_QUEUE;
	f.handler(&f.dev, 1);
	CHECK(callbacks == 2 && f.isr == VIRTIO_ISR_QUEUE);
	virtio_device_remove(&f.dev);
}

static void test_config_read(void)
{
	fake_init(&f, true);
	uint8_t mac[6];
	memcpy(f.config, "\x52\x54\x00\x12\x34\x56", 6);
	CHECK(virtio_config_read(&f.dev, 0, mac, 6) == 0 && memcmp(mac, f.config, 6) == 0);
	CHECK(virtio_config_read(&f.dev, 60, mac, 6) == -EINVAL);
	f.generation_unstable = true;
	CHECK(virtio_config_read(&f.dev, 0, mac, 6) == -EIO && f.dev.bad_responses == 1);
}

/* ---- DEVICE_NEEDS_RESET recovery ---- */

static unsigned probes, removes;
static int fail_probe_at = -1;

static int test_probe(struct virtio_device *dev)
{
	struct virtq *vq;
	probes++;
	if ((int)probes == fail_probe_at)
		return -ENOMEM;
	return virtio_queue_setup(dev, 0, 8, 0, &vq);
}

static void test_remove(struct virtio_device *dev)
{
	(void)dev;
	removes++;
}

static const struct virtio_driver test_driver = {
    .device_id = VIRTIO_ID_RNG,
    .name = "test",
    .probe = test_probe,
    .remove = test_remove,
};

static void test_needs_reset(void)
{
	fake_init(&f, true);
	CHECK(virtio_device_start(&f.dev, &test_driver) == 0);
	CHECK(probes == 1 && (f.status & VIRTIO_STATUS_DRIVER_OK));
	CHECK(virtio_device_check(&f.dev) == 0 && removes == 0);
	for (unsigned i = 1; i <= VIRTIO_MAX_RESETS; i++) {
		f.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
		CHECK(virtio_device_check(&f.dev) == 0);
		CHECK(probes == 1 + i && removes == i && f.dev.resets == i);
		CHECK(f.status == 15 && f.enabled[0]); /* fresh: DRIVER_OK, queue enabled again */
	}
	f.status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
	CHECK(virtio_device_check(&f.dev) == -EIO); /* too many: given up on */
	CHECK(f.dev.broken && (f.status & VIRTIO_STATUS_FAILED));
	CHECK(virtio_device_check(&f.dev) == -EIO);
	CHECK(virtio_device_init(&f.dev, 0) == -EIO);

	/* a probe that fails: device reset, queues freed, FAILED */
	fake_init(&f, true);
	probes = 0;
	fail_probe_at = 1;
	CHECK(virtio_device_start(&f.dev, &test_driver) == -ENOMEM);
	CHECK((f.status & VIRTIO_STATUS_FAILED) && !(f.status & VIRTIO_STATUS_DRIVER_OK));
	CHECK(f.dev.queues[0] == NULL);
	CHECK(f.dev.broken && f.dev.driver == NULL);

	/* init failing (ACCESS_PLATFORM required): the driver is never probed */
	fake_init(&f, true);
	probes = 0;
	fail_probe_at = -1;
	f.offered |= F(VIRTIO_F_ACCESS_PLATFORM);
	f.must_accept = F(VIRTIO_F_ACCESS_PLATFORM);
	CHECK(virtio_device_start(&f.dev, &test_driver) == -ENOTSUP);
	CHECK(probes == 0 && f.dev.broken && f.dev.driver == NULL);
}

int main(void)
{
	test_modern_sequence();
	test_modern_failures();
	test_legacy();
	test_queue_setup();
	test_interrupts();
	test_config_read();
	test_needs_reset();
	return check_report("virtio_device");
}
