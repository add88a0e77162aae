/*
 * rng: noos_random delivers bytes that look random (not constant, not
 * repeating, no byte value wildly over-represented), and the console shows
 * which sources seeded the pool and which virtio devices were found.
 *
 * Options (key=value on the command line):
 *   require=virtio-rng   that source must deliver (polled for up to 10 s
 *                        even when the CPU's instruction seeded the pool first)
 *   bits=N               how much it must deliver (default 256; more than
 *                        the first batch of buffers makes the ring go round)
 *   rngs=N               exactly N virtio-rng devices must be working
 *   irqs=1               the virtio-rng devices must have taken interrupts
 *   fails=-E             noos_random must fail with -E (no source: -19)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../virtio/virtio.h"
#include "noos.h"
#include "rt.h"

#define WAIT_NS (10ull * 1000 * 1000 * 1000)

static int failures;

static void fail(const char *what)
{
	printf("FAIL %s\n", what);
	failures++;
}

static uint8_t sample[4096];

static void check_output(void)
{
	long n = noos_random(sample, sizeof(sample));
	const char *fails = noos_getenv("fails");
	if (fails) {
		printf("rng: noos_random returned %ld\n", n);
		if (n != strtol(fails, NULL, 0))
			fail("noos_random did not fail as expected");
		return;
	}
	if (n != (long)sizeof(sample)) {
		printf("FAIL noos_random returned %ld\n", n);
		failures++;
		return;
	}
	printf("rng: first bytes %02x %02x %02x %02x %02x %02x %02x %02x\n", sample[0], sample[1],
	       sample[2], sample[3], sample[4], sample[5], sample[6], sample[7]);
	unsigned count[256] = {0};
	for (size_t i = 0; i < sizeof(sample); i++)
		count[sample[i]]++;
	for (int v = 0; v < 256; v++)
		if (count[v] > 64) /* expected 16 each; 64 is beyond any honest chance */
			fail("a byte value dominates the output");
	/* no 8-byte word twice, in this sample or against a second request */
	uint64_t words[sizeof(sample) / 8 + 8];
	memcpy(words, sample, sizeof(sample));
	if (noos_random(&words[sizeof(sample) / 8], 64) != 64)
		fail("second noos_random");
	size_t nw = sizeof(words) / sizeof(words[0]);
	for (size_t i = 0; i < nw; i++)
		for (size_t j = i + 1; j < nw; j++)
			if (words[i] == words[j]) {
				fail("a 64-bit word repeats");
				return;
			}
}

static void require_source(const char *name, uint64_t bits)
{
	uint64_t start = arch_time_ns();
	while (random_source_bits(name) < bits && arch_time_ns() - start < WAIT_NS)
		if (random_poll() == 0)
			break;
	printf("rng: %s delivered %llu bits\n", name, (unsigned long long)random_source_bits(name));
	if (random_source_bits(name) < bits)
		fail("the required source did not deliver");
}

/* Working virtio-rng devices, listing every device found. */
static unsigned list_devices(uint64_t *irqs)
{
	unsigned working = 0;
	*irqs = 0;
	for (unsigned i = 0; i < virtio_device_count(); i++) {
		struct virtio_device *d = virtio_device_at(i);
		const char *type = virtio_type_name(d->device_id);
		struct virtq *q = d->queues[0];
		printf("rng: device %s %s over %s: %s, %llu interrupts, queue 0 %llu used %llu "
		       "kicks, %u bad responses\n",
		       d->name, type ? type : "?", d->ops->name,
		       d->broken   ? "failed"
		       : d->driver ? "driven"
		                   : "no driver",
		       (unsigned long long)d->interrupts, q ? (unsigned long long)q->stats.used : 0,
		       q ? (unsigned long long)q->stats.kicks : 0, (unsigned)d->bad_responses);
		if (d->device_id == VIRTIO_ID_RNG && d->driver && !d->broken) {
			working++;
			*irqs += d->interrupts;
		}
	}
	return working;
}

int main(void)
{
	check_output();
	const char *req = noos_getenv("require");
	const char *bits = noos_getenv("bits");
	if (req)
		require_source(req, bits ? strtoul(bits, NULL, 0) : 256);
	random_report();
	uint64_t irqs;
	unsigned working = list_devices(&irqs);
	const char *rngs = noos_getenv("rngs");
	if (rngs && working != (unsigned)atoi(rngs)) {
		printf("FAIL %u working virtio-rng devices, expected %s\n", working, rngs);
		failures++;
	}
	if (noos_getenv("irqs") && irqs == 0)
		fail("no virtio-rng interrupts");
	printf(failures ? "rng: %d failures\n" : "rng: ok\n", failures);
	return failures ? 1 : 0;
}
