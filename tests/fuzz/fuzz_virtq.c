/*
 * libFuzzer target for virtio/ring.c: the fuzzer is the device. Its input
 * picks the queue (size, EVENT_IDX, indirect tables) and then a sequence of
 * driver calls (add, kick, take used buffers, interrupt on/off) interleaved
 * with arbitrary device writes: used ring entries with any id and length,
 * any used index, any avail_event and flags.
 *
 * Checked on every step: a token comes back only if it is outstanding, and
 * only once; a length never exceeds the writable bytes posted with it; a
 * broken queue takes and returns nothing; bad_responses counts exactly when
 * the queue broke. At the end every outstanding token is detached once and
 * the free list holds every descriptor again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_fake.h"

#define MAX_TOKENS 512

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t byte(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint32_t word(struct input *in)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | byte(in);
	return v;
}

static struct fake f;
static uint8_t tokens[MAX_TOKENS];
static bool outstanding[MAX_TOKENS];
static uint32_t write_len[MAX_TOKENS];
static unsigned n_outstanding, next_token;
static uint8_t data[4096];

static void check(bool ok)
{
	if (!ok)
		abort();
}

static int token_index(void *t)
{
	uint8_t *p = t;
	check(p >= tokens && p < tokens + MAX_TOKENS);
	return (int)(p - tokens);
}

static void driver_add(struct virtq *vq, struct input *in)
{
	struct virtq_sg sg[6];
	unsigned n = 1 + byte(in) % 6, out = byte(in) % (n + 1);
	uint32_t wlen = 0;
	for (unsigned i = 0; i < n; i++) {
		sg[i] = (struct virtq_sg){data + byte(in), 1u + byte(in)};
		if (i >= out)
			wlen += sg[i].len;
	}
	if (next_token >= MAX_TOKENS)
		return;
	int t = (int)next_token;
	int rc = virtq_add(vq, sg, out, n - out, &tokens[t]);
	check(rc == 0 || rc == -ENOSPC || rc == -EIO || (rc == -EINVAL && n > vq->size));
	check((rc == -EIO) == vq->broken);
	if (rc == 0) {
		next_token++;
		outstanding[t] = true;
		write_len[t] = wlen;
		n_outstanding++;
	}
}

static void driver_take(struct virtq *vq)
{
	void *t;
	uint32_t len;
	while ((t = virtq_get(vq, &len)) != NULL) {
		int i = token_index(t);
		check(outstanding[i] && len <= write_len[i]);
		outstanding[i] = false;
		n_outstanding--;
	}
}

/* An arbitrary used entry; often the id of a head the driver really made available. */
static void device_used(struct virtq *vq, struct input *in)
{
	uint8_t how = byte(in);
	uint32_t id = word(in), len = word(in);
	uint16_t slot = (uint16_t)(vq->used->idx + (how >> 4));
	if (how & 1)
		id = vq->avail->ring[(uint16_t)(slot + (how >> 1)) & (vq->size - 1)];
	if (how & 2)
		len %= 512;
	struct virtq_used_elem *e = &vq->used->ring[slot & (vq->size - 1)];
	e->id = id;
	e->len = len;
	if (how & 8)
		vq->used->idx++;
}

static void device_misc(struct virtq *vq, struct input *in)
{
	uint8_t what = byte(in);
	uint16_t v = (uint16_t)word(in);
	switch (what % 4) {
	case 0:
		vq->used->idx = v;
		break;
	case 1:
		vq->used->idx = (uint16_t)(vq->used->idx + (v & 7));
		break;
	case 2:
		*virtq_avail_event(vq->used, vq->size) = v;
		break;
	default:
		vq->used->flags = v;
	}
}

static void step(struct virtq *vq, struct input *in)
{
	switch (byte(in) % 8) {
	case 0:
	case 1:
		driver_add(vq, in);
		break;
	case 2:
		virtq_kick(vq);
		break;
	case 3:
		device_used(vq, in);
		break;
	case 4:
		device_misc(vq, in);
		break;
	case 5:
		driver_take(vq);
		break;
	case 6:
		virtq_disable_cb(vq);
		break;
	default:
		if (byte(in) & 1)
			(void)virtq_enable_cb(vq);
		else
			(void)virtq_enable_cb_delayed(vq);
	}
	check(vq->outstanding == n_outstanding && vq->num_free <= vq->size);
	check(vq->broken == (f.dev.bad_responses != 0));
	check(!vq->broken || f.dev.bad_responses == 1); /* counted once: never read again */
}

static void finish(struct virtq *vq)
{
	void *t;
	while ((t = virtq_detach(vq)) != NULL) {
		int i = token_index(t);
		check(outstanding[i]);
		outstanding[i] = false;
		n_outstanding--;
	}
	check(n_outstanding == 0 && vq->num_free == vq->size);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* The core logs each failed device; keep libFuzzer's own output readable. */
	if (!freopen("/dev/null", "w", stdout))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
	struct input in = {d, size};
	uint8_t cfg = byte(&in);
	fake_init(&f, true);
	f.offered = 1ull << VIRTIO_F_VERSION_1;
	if (cfg & 0x10)
		f.offered |= 1ull << VIRTIO_F_EVENT_IDX;
	if (cfg & 0x20)
		f.offered |= 1ull << VIRTIO_F_INDIRECT_DESC;
	f.queue_max[0] = (uint16_t)(2u << (cfg % 8)); /* 2 .. 256 */
	memset(outstanding, 0, sizeof(outstanding));
	n_outstanding = next_token = 0;
	struct virtq *vq;
	check(virtio_device_init(&f.dev, 0) == 0);
	check(virtio_queue_setup(&f.dev, 0, f.queue_max[0], 4, &vq) == 0);
	while (in.left)
		step(vq, &in);
	finish(vq);
	virtio_device_remove(&f.dev);
	return 0;
}
