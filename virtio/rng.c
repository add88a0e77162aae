/*
 * virtio-rng (virtio 1.2 §5.4): one queue, requestq (index 0), of
 * device-writable buffers that the device fills with entropy (§5.4.6). The
 * driver keeps a few buffers posted and is an entropy source for
 * rt/random.c: when the pool polls it, every buffer the device returned is
 * hashed into the pool, credited at the length the device reported (already
 * checked by the ring against what was posted), wiped and posted again.
 *
 * Completion is polled: random.c asks when it needs entropy. With
 * interrupts routed (virtio_interrupts), the core counts them per queue;
 * once threads exist they will wake a waiting noos_random instead of it
 * spinning. A device that stalls is checked for DEVICE_NEEDS_RESET now and
 * then, and recovered by the core (remove, reset, probe again).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "rt.h"
#include "virtio.h"

#define RNG_QUEUE_SIZE    8 /* requested; QEMU offers 8 */
#define RNG_BUFS          4
#define RNG_BUF_BYTES     64
#define STALL_CHECK_POLLS 4096 /* idle polls between status reads (each one a VM exit) */

struct rng {
	struct random_source src; /* first: random.c hands it back to rng_poll */
	struct virtio_device *dev;
	struct virtq *vq;
	struct spinlock lock; /* serialises the queue between pollers */
	uint32_t idle_polls;  /* polls since the device last returned a buffer */
	uint8_t bufs[RNG_BUFS][RNG_BUF_BYTES] __attribute__((aligned(64)));
};

static int post(struct rng *r, uint8_t *buf)
{
	struct virtq_sg sg = {.addr = buf, .len = RNG_BUF_BYTES};
	return virtq_add(r->vq, &sg, 0, 1, buf);
}

/* Lock held. Mix every returned buffer into the pool and post it again. */
static int harvest(struct rng *r)
{
	int got = 0, reposted = 0;
	uint32_t len;
	uint8_t *buf;
	while ((buf = virtq_get(r->vq, &len)) != NULL) {
		random_add_entropy(&r->src, buf, len, len * 8);
		crypto_wipe(buf, len);
		if (post(r, buf) == 0)
			reposted++;
		got += (int)len;
	}
	if (reposted)
		virtq_kick(r->vq);
	return got;
}

/*
 * A recovery (virtio_device_check) may remove this driver instance, freeing
 * r, and probe a new one: after it, r is touched only if it is still the
 * device's.
 */
static int rng_poll(struct random_source *src)
{
	struct rng *r = (struct rng *)src;
	struct virtio_device *dev = r->dev;
	spin_lock(&r->lock);
	int got = harvest(r);
	bool broken = r->vq->broken;
	r->idle_polls = got ? 0 : r->idle_polls + 1;
	bool check = r->idle_polls % STALL_CHECK_POLLS == STALL_CHECK_POLLS - 1;
	spin_unlock(&r->lock);
	if (broken)
		return -EIO;
	if (!check)
		return got;
	int err = virtio_device_check(dev);
	return err < 0 && dev->driver_data == r ? err : 0;
}

int virtio_rng_probe(struct virtio_device *dev)
{
	struct rng *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->dev = dev;
	r->src = (struct random_source){.name = "virtio-rng", .where = dev->name, .poll = rng_poll};
	int vectors = virtio_interrupts(dev);
	int err = virtio_queue_setup(dev, 0, RNG_QUEUE_SIZE, 0, &r->vq);
	if (err) {
		free(r);
		return err;
	}
	r->vq->priv = r;
	err = random_add_source(&r->src);
	if (err) {
		free(r);
		return err;
	}
	if (vectors <= 0)
		virtq_disable_cb(r->vq); /* nobody listens: spare the device the signalling */
	for (int i = 0; i < RNG_BUFS; i++)
		if (post(r, r->bufs[i]) < 0)
			break; /* a smaller legacy queue: fewer buffers */
	dev->driver_data = r;
	virtio_device_ready(dev); /* DRIVER_OK before the first notification (§3.1.1) */
	virtq_kick(r->vq);
	return 0;
}

/* Called with the device reset: it no longer writes into the buffers. */
void virtio_rng_remove(struct virtio_device *dev)
{
	struct rng *r = dev->driver_data;
	if (!r)
		return;
	random_remove_source(&r->src);
	while (virtq_detach(r->vq))
		;
	dev->driver_data = NULL;
	crypto_wipe(r->bufs, sizeof(r->bufs));
	free(r);
}
