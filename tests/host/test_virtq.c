/*
 * virtio/ring.c against a simulated device (virtio_fake.h): chains, indirect
 * tables, out-of-order completion, index wraparound past 2^16, notification
 * suppression both ways with and without EVENT_IDX, and a hostile device
 * whose every kind of bad used entry must be rejected, counted and never
 * followed.
 */
#include <stdio.h>

#include "virtio_fake.h"

static struct fake f;
static struct sim s;
static uint8_t bufs[64][256];

/* A modern fake with the given features and queue 0 of `size` set up through the core. */
static struct virtq *setup(uint64_t features, uint16_t size, uint16_t indirect_max)
{
	fake_init(&f, true);
	f.offered = features | (1ull << VIRTIO_F_VERSION_1);
	f.queue_max[0] = size;
	CHECK(virtio_device_init(&f.dev, 0) == 0);
	struct virtq *vq = NULL;
	CHECK(virtio_queue_setup(&f.dev, 0, size, indirect_max, &vq) == 0);
	CHECK(vq != NULL && vq->size == size);
	sim_attach(&s, &f, 0);
	return vq;
}

static int add_in(struct virtq *vq, int i, uint32_t len)
{
	struct virtq_sg sg = {bufs[i], len};
	return virtq_add(vq, &sg, 0, 1, bufs[i]);
}

static void test_basic(void)
{
	struct virtq *vq = setup(1ull << VIRTIO_F_EVENT_IDX, 8, 0);
	for (int i = 0; i < 3; i++)
		CHECK(add_in(vq, i, 100) == 0);
	CHECK(vq->num_free == 5 && vq->outstanding == 3);
	virtq_kick(vq);
	CHECK(f.notifies[0] == 1);
	CHECK(sim_run(&s, 10) == 3 && s.errors == 0);
	uint32_t len = 0;
	for (int i = 0; i < 3; i++) {
		CHECK(virtq_get(vq, &len) == bufs[i]);
		CHECK(len == 100);
		CHECK(bufs[i][0] == (uint8_t)s.used->ring[i].id && bufs[i][1] == bufs[i][0] + 1);
	}
	CHECK(virtq_get(vq, &len) == NULL);
	CHECK(vq->num_free == 8 && vq->outstanding == 0 && vq->stats.used == 3);
	/* arguments the ring refuses */
	struct virtq_sg sg = {bufs[0], 10}, empty = {bufs[0], 0};
	CHECK(virtq_add(vq, &sg, 0, 1, NULL) == -EINVAL);
	CHECK(virtq_add(vq, &sg, 0, 0, bufs[0]) == -EINVAL);
	CHECK(virtq_add(vq, &empty, 0, 1, bufs[0]) == -EINVAL);
	struct virtq_sg many[9];
	for (int i = 0; i < 9; i++)
		many[i] = sg;
	CHECK(virtq_add(vq, many, 9, 0, bufs[0]) == -EINVAL); /* longer than the queue */
	CHECK(vq->num_free == 8 && f.dev.bad_responses == 0);
}

static void test_chains_and_full(void)
{
	struct virtq *vq = setup(0, 8, 0);
	struct virtq_sg sg[3] = {{bufs[0], 10}, {bufs[1], 20}, {bufs[2], 30}};
	CHECK(virtq_add(vq, sg, 2, 1, bufs[0]) == 0);
	CHECK(virtq_add(vq, sg, 1, 2, bufs[1]) == 0);
	CHECK(vq->num_free == 2);
	CHECK(virtq_add(vq, sg, 1, 2, bufs[2]) == -ENOSPC);
	CHECK(virtq_add(vq, sg, 1, 1, bufs[3]) == 0);
	CHECK(vq->num_free == 0);
	CHECK(add_in(vq, 4, 5) == -ENOSPC);
	virtq_kick(vq);
	uint32_t head, len;
	CHECK(sim_take(&s, &head, &len));
	CHECK(s.last_nread == 2 && s.last_nwrite == 1 && s.last_readable == 30 && len == 30);
	sim_put_used(&s, head, len);
	CHECK(sim_take(&s, &head, &len));
	CHECK(s.last_nread == 1 && s.last_nwrite == 2 && s.last_writable == 50 && len == 50);
	sim_put_used(&s, head, 7); /* the device may write less than it was given */
	CHECK(sim_take(&s, &head, &len));
	sim_put_used(&s, head, len);
	sim_publish(&s);
	CHECK(s.errors == 0 && !s.last_indirect);
	CHECK(virtq_get(vq, &len) == bufs[0] && len == 30);
	CHECK(virtq_get(vq, &len) == bufs[1] && len == 7);
	CHECK(virtq_get(vq, &len) == bufs[3] && len == 20);
	CHECK(vq->num_free == 8);
	/* the freed descriptors chain again: a full-length chain fits */
	struct virtq_sg eight[8];
	for (int i = 0; i < 8; i++)
		eight[i] = (struct virtq_sg){bufs[i], 16};
	CHECK(virtq_add(vq, eight, 4, 4, bufs[9]) == 0 && vq->num_free == 0);
	virtq_kick(vq);
	CHECK(sim_run(&s, 1) == 1 && s.last_descs == 8 && s.errors == 0);
	CHECK(virtq_get(vq, &len) == bufs[9] && len == 64);
}

static void test_indirect(void)
{
	struct virtq *vq = setup(1ull << VIRTIO_F_INDIRECT_DESC, 4, 4);
	CHECK(vq->indirect != NULL && vq->indirect_max == 4);
	struct virtq_sg sg[5];
	for (int i = 0; i < 5; i++)
		sg[i] = (struct virtq_sg){bufs[i], (uint32_t)(8 * (i + 1))};
	for (int k = 0; k < 4; k++) /* four 3-piece buffers in a 4-descriptor queue */
		CHECK(virtq_add(vq, sg, 1, 2, bufs[10 + k]) == 0);
	CHECK(vq->num_free == 0 && vq->stats.indirect == 4);
	virtq_kick(vq);
	uint32_t len;
	CHECK(sim_run(&s, 4) == 4);
	CHECK(s.last_indirect && s.last_descs == 3 && s.last_nread == 1 && s.errors == 0);
	for (int k = 0; k < 4; k++)
		CHECK(virtq_get(vq, &len) == bufs[10 + k] && len == 16 + 24);
	/* a full table still takes one descriptor */
	CHECK(virtq_add(vq, sg, 2, 2, bufs[20]) == 0 && vq->stats.indirect == 5);
	CHECK(vq->num_free == 3);
	/* more pieces than a table holds: a plain chain */
	struct virtq *vq2 = setup(1ull << VIRTIO_F_INDIRECT_DESC, 8, 4);
	CHECK(virtq_add(vq2, sg, 2, 3, bufs[22]) == 0 && vq2->num_free == 3 &&
	      vq2->stats.indirect == 0);
	virtq_kick(vq2);
	CHECK(sim_run(&s, 1) == 1 && !s.last_indirect && s.last_descs == 5);
	CHECK(virtq_get(vq2, &len) == bufs[22] && len == 24 + 32 + 40);
	/* INDIRECT_DESC not negotiated: no tables even if asked for */
	struct virtq *vq3 = setup(0, 8, 4);
	CHECK(vq3->indirect == NULL);
}

static void test_out_of_order(void)
{
	struct virtq *vq = setup(1ull << VIRTIO_F_EVENT_IDX, 8, 0);
	uint32_t heads[8], lens[8], len;
	for (int i = 0; i < 8; i++)
		CHECK(add_in(vq, i, 32) == 0);
	virtq_kick(vq);
	for (int i = 0; i < 8; i++)
		CHECK(sim_take(&s, &heads[i], &lens[i]));
	for (int i = 7; i >= 0; i -= 2) /* odd ones first, in reverse */
		sim_put_used(&s, heads[i], lens[i]);
	sim_publish(&s);
	for (int i = 7; i >= 0; i -= 2)
		CHECK(virtq_get(vq, &len) == bufs[i]);
	CHECK(vq->num_free == 4);
	for (int i = 0; i < 4; i++) /* refill the holes before the rest come back */
		CHECK(add_in(vq, 20 + i, 16) == 0);
	for (int i = 6; i >= 0; i -= 2)
		sim_put_used(&s, heads[i], lens[i]);
	sim_publish(&s);
	for (int i = 6; i >= 0; i -= 2)
		CHECK(virtq_get(vq, &len) == bufs[i]);
	virtq_kick(vq);
	CHECK(sim_run(&s, 8) == 4);
	for (int i = 0; i < 4; i++)
		CHECK(virtq_get(vq, &len) == bufs[20 + i] && len == 16);
	CHECK(vq->num_free == 8 && s.errors == 0);
}

/* 2^16 + more buffers through a 4-entry queue: every free-running index wraps. */
static void test_wraparound(void)
{
	struct virtq *vq = setup(1ull << VIRTIO_F_EVENT_IDX, 4, 0);
	uint32_t len;
	unsigned bad = 0;
	for (unsigned round = 0; round < 70000 / 3; round++) {
		for (int i = 0; i < 3; i++)
			bad += add_in(vq, i, (uint32_t)(1 + (round + i) % 200)) != 0;
		virtq_kick(vq);
		bad += sim_run(&s, 3) != 3;
		for (int i = 0; i < 3; i++) {
			bad += virtq_get(vq, &len) != bufs[i];
			bad += len != 1 + (round + i) % 200;
		}
	}
	CHECK(bad == 0);
	CHECK(vq->stats.used == 3 * (70000 / 3) && vq->stats.used > 65536);
	CHECK(vq->avail_idx == (uint16_t)vq->stats.added && vq->last_used == vq->avail_idx);
	CHECK(vq->num_free == 4 && !vq->broken && f.dev.bad_responses == 0 && s.errors == 0);
	/* the device asked for every notification (avail_event at its position) */
	CHECK(f.notifies[0] == 70000 / 3 && vq->stats.kicks_suppressed == 0);
}

static void test_notify_suppression(void)
{
	/* EVENT_IDX: the device asks to be told only at its avail_event. */
	struct virtq *vq = setup(1ull << VIRTIO_F_EVENT_IDX, 16, 0);
	uint32_t len;
	for (int i = 0; i < 4; i++)
		CHECK(add_in(vq, i, 8) == 0);
	virtq_kick(vq); /* avail_event 0 lies in [0, 4): notify */
	CHECK(f.notifies[0] == 1);
	CHECK(add_in(vq, 4, 8) == 0);
	virtq_kick(vq); /* the device has not run: event 0 is behind [4, 5) */
	CHECK(f.notifies[0] == 1 && vq->stats.kicks_suppressed == 1);
	s.want_notify = false; /* a polling device: avail_event stays behind */
	CHECK(sim_run(&s, 16) == 5);
	for (int i = 0; i < 5; i++)
		CHECK(virtq_get(vq, &len) == bufs[i]);
	for (int i = 0; i < 3; i++) {
		CHECK(add_in(vq, i, 8) == 0);
		virtq_kick(vq);
	}
	CHECK(f.notifies[0] == 1 && vq->stats.kicks_suppressed == 4);
	s.want_notify = true;
	CHECK(sim_run(&s, 16) == 3); /* avail_event = 8 now */
	for (int i = 0; i < 3; i++)
		CHECK(virtq_get(vq, &len) == bufs[i]);
	CHECK(add_in(vq, 0, 8) == 0 && add_in(vq, 1, 8) == 0);
	virtq_kick(vq);
	CHECK(f.notifies[0] == 2);
	virtq_kick(vq); /* nothing new: never a notification */
	CHECK(f.notifies[0] == 2);

	/* Without EVENT_IDX: the NO_NOTIFY flag. */
	vq = setup(0, 16, 0);
	s.want_notify = false;
	sim_publish(&s);
	CHECK(add_in(vq, 0, 8) == 0);
	virtq_kick(vq);
	CHECK(f.notifies[0] == 0 && vq->stats.kicks_suppressed == 1);
	s.want_notify = true;
	CHECK(sim_run(&s, 4) == 1);
	CHECK(add_in(vq, 1, 8) == 0);
	virtq_kick(vq);
	CHECK(f.notifies[0] == 1);
}

static unsigned complete_n(struct virtq *vq, int n, int base)
{
	for (int i = 0; i < n; i++)
		CHECK(add_in(vq, base + i, 8) == 0);
	virtq_kick(vq);
	unsigned before = s.interrupts;
	for (int i = 0; i < n; i++)
		sim_run(&s, 1); /* one used buffer per publish: one chance to interrupt each */
	return s.interrupts - before;
}

static void drain(struct virtq *vq, int n)
{
	uint32_t len;
	for (int i = 0; i < n; i++)
		CHECK(virtq_get(vq, &len) != NULL);
}

static void test_interrupt_suppression(void)
{
	struct virtq *vq = setup(1ull << VIRTIO_F_EVENT_IDX, 16, 0);
	CHECK(complete_n(vq, 4, 0) == 1); /* used_event 0: only the first crosses it */
	drain(vq, 4);                     /* reaping with callbacks on moves used_event along */
	CHECK(complete_n(vq, 2, 0) == 1);
	drain(vq, 2);
	virtq_disable_cb(vq);
	CHECK(vq->avail->flags == 0); /* §2.7.7.1: flags stay 0 with EVENT_IDX */
	CHECK(complete_n(vq, 6, 0) == 0);
	CHECK(!virtq_enable_cb(vq)); /* six are waiting: take them, do not sleep */
	drain(vq, 6);
	CHECK(virtq_enable_cb(vq));
	CHECK(complete_n(vq, 3, 0) == 1);
	drain(vq, 3);
	/* delayed: with 8 outstanding, no interrupt until about 6 are used */
	for (int i = 0; i < 8; i++)
		CHECK(add_in(vq, i, 8) == 0);
	virtq_kick(vq);
	CHECK(virtq_enable_cb_delayed(vq));
	unsigned before = s.interrupts, first_irq = 0;
	for (int i = 1; i <= 8; i++) {
		sim_run(&s, 1);
		if (!first_irq && s.interrupts != before)
			first_irq = (unsigned)i;
	}
	CHECK(first_irq == 7); /* used_event = last_used + 6: the 7th entry crosses it */
	drain(vq, 8);

	/* Without EVENT_IDX: the NO_INTERRUPT flag. */
	vq = setup(0, 16, 0);
	CHECK(complete_n(vq, 3, 0) == 3);
	drain(vq, 3);
	virtq_disable_cb(vq);
	CHECK(vq->avail->flags == VIRTQ_AVAIL_F_NO_INTERRUPT);
	CHECK(complete_n(vq, 3, 0) == 0);
	CHECK(!virtq_enable_cb(vq) && vq->avail->flags == 0);
	drain(vq, 3);
}

/* ---- the hostile device ---- */

static struct virtq *hostile_setup(int posted)
{
	struct virtq *vq = setup(1ull << VIRTIO_F_EVENT_IDX, 8, 0);
	struct virtq_sg two[2] = {{bufs[40], 16}, {bufs[41], 16}};
	for (int i = 0; i < posted; i++)
		CHECK(virtq_add(vq, two, 1, 1, bufs[i]) == 0); /* heads 0, 2, 4, ... */
	virtq_kick(vq);
	return vq;
}

static void expect_rejected(struct virtq *vq, const char *what)
{
	uint32_t len = 12345;
	CHECK_MSG(virtq_get(vq, &len) == NULL, "%s: entry accepted", what);
	CHECK_MSG(len == 12345, "%s: length reported", what);
	CHECK_MSG(vq->broken && f.dev.broken, "%s: queue not broken", what);
	CHECK_MSG(f.dev.bad_responses == 1, "%s: %u bad responses", what, f.dev.bad_responses);
	CHECK_MSG(f.status & VIRTIO_STATUS_FAILED, "%s: device not FAILED", what);
	/* never followed afterwards: nothing taken, nothing added, nothing freed */
	uint16_t free_before = vq->num_free;
	CHECK(virtq_get(vq, &len) == NULL && add_in(vq, 50, 8) == -EIO);
	CHECK(vq->num_free == free_before && f.dev.bad_responses == 1);
}

static void test_hostile(void)
{
	struct virtq *vq = hostile_setup(2);
	sim_put_used(&s, 8, 0); /* id == queue size */
	sim_publish(&s);
	expect_rejected(vq, "id out of range");

	vq = hostile_setup(2);
	sim_put_used(&s, 0xffffffffu, 0);
	sim_publish(&s);
	expect_rejected(vq, "id 2^32-1");

	vq = hostile_setup(2);
	sim_put_used(&s, 1, 0); /* the second descriptor of buffer 0's chain */
	sim_publish(&s);
	expect_rejected(vq, "id inside a chain");

	vq = hostile_setup(2);
	sim_put_used(&s, 6, 0); /* a free descriptor */
	sim_publish(&s);
	expect_rejected(vq, "id of a free descriptor");

	vq = hostile_setup(2);
	uint32_t len;
	sim_put_used(&s, 0, 16);
	sim_put_used(&s, 0, 16); /* the same buffer twice */
	sim_publish(&s);
	CHECK(virtq_get(vq, &len) == bufs[0] && len == 16);
	expect_rejected(vq, "duplicate id");

	vq = hostile_setup(2);
	sim_put_used(&s, 2, 17); /* 16 writable bytes were posted */
	sim_publish(&s);
	expect_rejected(vq, "length beyond the buffer");

	vq = setup(0, 8, 0);
	struct virtq_sg ro = {bufs[0], 64};
	CHECK(virtq_add(vq, &ro, 1, 0, bufs[0]) == 0);
	sim_put_used(&s, 0, 1); /* a read-only buffer cannot have been written */
	sim_publish(&s);
	expect_rejected(vq, "length on a read-only buffer");

	vq = hostile_setup(2);
	s.used_idx = 3; /* three used entries for two buffers */
	sim_publish(&s);
	expect_rejected(vq, "used index ahead of the buffers outstanding");

	vq = hostile_setup(3);
	sim_put_used(&s, 0, 16);
	sim_publish(&s);
	s.used->idx = (uint16_t)(s.used->idx + 40000); /* a jump far past the queue size */
	expect_rejected(vq, "used index jump");
}

/* After a reset the driver gets back every token the device held, once. */
static void test_detach(void)
{
	struct virtq *vq = setup(1ull << VIRTIO_F_INDIRECT_DESC, 8, 4);
	struct virtq_sg sg[2] = {{bufs[0], 8}, {bufs[1], 8}};
	for (int i = 0; i < 5; i++)
		CHECK(virtq_add(vq, sg, 1, 1, bufs[i]) == 0);
	CHECK(add_in(vq, 5, 8) == 0);
	bool seen[6] = {false};
	void *t;
	int n = 0;
	while ((t = virtq_detach(vq)) != NULL) {
		int i = (int)(((uint8_t(*)[256])t) - bufs);
		CHECK(i >= 0 && i < 6 && !seen[i]);
		if (i >= 0 && i < 6)
			seen[i] = true;
		n++;
	}
	CHECK(n == 6 && vq->num_free == 8 && vq->outstanding == 0);
}

int main(void)
{
	test_basic();
	test_chains_and_full();
	test_indirect();
	test_out_of_order();
	test_wraparound();
	test_notify_suppression();
	test_interrupt_suppression();
	test_hostile();
	test_detach();
	return check_report("virtq");
}
