/*
 * The entropy pool and noos_random().
 *
 * Construction (the shape Linux's random.c has had since 5.18, written
 * here from the primitives' RFCs):
 *   - Input pool: a BLAKE2s hash state (RFC 7693). Every input, from
 *     virtio-rng and the CPU's RDSEED/RDRAND/RNDR (arch_hw_random), is
 *     hashed in; sources credit the entropy they vouch for.
 *   - Reseed, once 256 bits are credited: seed = BLAKE2s(pool); the output
 *     key becomes BLAKE2s keyed with the old key over the seed, so it
 *     depends on everything before; the pool restarts from the seed.
 *   - Output: ChaCha20 (RFC 8439) with fast key erasure. Each request (and
 *     every 4 KiB of a long one) draws its first block from the current key,
 *     keeps half of it as the next key and uses the other half and the
 *     following blocks as output; the key that made them is wiped, so a later
 *     compromise of the state does not reveal earlier output.
 *   - Reseeding repeats every RESEED_NS while sources deliver.
 *
 * Blocking: there are no threads to sleep yet, so "block until seeded"
 * means: poll every source (the CPU instruction, the virtio-rng queues) in a
 * loop for up to WAIT_NS by arch_time_ns (or WAIT_POLLS_MAX polls in a row
 * that see the clock stand still, should it not run), then give up with
 * -EAGAIN. With no source at all the wait could never end: -ENODEV at once.
 * Unseeded, nothing is ever returned: there is no fallback to timers or
 * counters.
 *
 * Locking: rng.lock guards the pool and the key. Sources are polled without
 * it (their poll calls random_add_entropy). Not for interrupt handlers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "noos.h"
#include "rt.h"

#define SEED_BITS       256
#define POOL_BITS_MAX   4096
#define MAX_SOURCES     8
#define RESEED_NS       (60ull * 1000 * 1000 * 1000)
#define WAIT_NS         (5ull * 1000 * 1000 * 1000)
#define WAIT_POLLS_MAX  10000000ul /* polls without the clock moving: it does not run */
#define REKEY_BYTES     4096
#define CPU_POLL_VALUES 4                 /* 256 bits per poll of the CPU source */
#define LEN_MAX         ((size_t)-1 >> 1) /* the return value is a long */

static int cpu_poll(struct random_source *src);

static struct {
	struct spinlock lock; /* guards everything below */
	bool started;         /* pool initialised */
	bool seeded;          /* the key came from >= SEED_BITS of credited input */
	struct blake2s pool;
	unsigned pool_bits; /* credited since the last reseed */
	uint8_t key[CHACHA20_KEY_BYTES];
	uint64_t reseeds, last_reseed_ns;
	struct random_source *sources[MAX_SOURCES];
	struct random_source cpu;
} rng = {
    .cpu = {.name = "cpu", .where = "", .poll = cpu_poll},
};

/* Lock held. The CPU instruction is a source like the others, registered first. */
static void start(void)
{
	if (rng.started)
		return;
	rng.started = true;
	blake2s_init(&rng.pool, BLAKE2S_OUT_BYTES, NULL, 0);
	rng.sources[0] = &rng.cpu;
}

static int cpu_poll(struct random_source *src)
{
	uint64_t v[CPU_POLL_VALUES];
	for (int i = 0; i < CPU_POLL_VALUES; i++)
		if (!arch_hw_random(&v[i]))
			return -ENODEV;
	random_add_entropy(src, v, sizeof(v), 64 * CPU_POLL_VALUES);
	crypto_wipe(v, sizeof(v));
	return (int)sizeof(v);
}

int random_add_source(struct random_source *src)
{
	int err = -ENOSPC;
	spin_lock(&rng.lock);
	start();
	for (int i = 0; i < MAX_SOURCES; i++) {
		if (!rng.sources[i]) {
			rng.sources[i] = src;
			src->bits = 0;
			src->dead = false;
			err = 0;
			break;
		}
	}
	spin_unlock(&rng.lock);
	return err;
}

void random_remove_source(struct random_source *src)
{
	spin_lock(&rng.lock);
	for (int i = 0; i < MAX_SOURCES; i++)
		if (rng.sources[i] == src)
			rng.sources[i] = NULL;
	spin_unlock(&rng.lock);
}

void random_add_entropy(struct random_source *src, const void *buf, size_t len, unsigned bits)
{
	spin_lock(&rng.lock);
	start();
	blake2s_update(&rng.pool, buf, len);
	if (src) {
		src->bits += bits;
		rng.pool_bits += bits;
		if (rng.pool_bits > POOL_BITS_MAX)
			rng.pool_bits = POOL_BITS_MAX;
	}
	spin_unlock(&rng.lock);
}

/* ---- polling the sources ---- */

static void source_failed(struct random_source *src, int err)
{
	src->dead = true;
	if (src != &rng.cpu) /* a CPU without the instruction is normal, not news */
		printf("random: source %s %s stopped (error %d)\n", src->name, src->where, err);
}

/* Poll each live source once, outside the lock. Returns how many are live. */
int random_poll(void)
{
	struct random_source *list[MAX_SOURCES];
	spin_lock(&rng.lock);
	start();
	memcpy(list, rng.sources, sizeof(list));
	spin_unlock(&rng.lock);
	int live = 0;
	for (int i = 0; i < MAX_SOURCES; i++) {
		struct random_source *src = list[i];
		if (!src || src->dead)
			continue;
		int n = src->poll(src);
		if (n < 0)
			source_failed(src, n);
		else
			live++;
	}
	return live;
}

/* ---- reseeding ---- */

static void log_seeded(void)
{
	printf("random: pool seeded from");
	for (int i = 0; i < MAX_SOURCES; i++) {
		struct random_source *src = rng.sources[i];
		if (src && src->bits)
			printf(" %s%s%s (%llu bits)", src->name, src->where[0] ? " " : "",
			       src->where, (unsigned long long)src->bits);
	}
	printf("\n");
}

/* Lock held, pool_bits >= SEED_BITS. */
static void reseed(void)
{
	uint8_t seed[BLAKE2S_OUT_BYTES];
	struct blake2s h;
	blake2s_final(&rng.pool, seed);
	blake2s_init(&h, sizeof(rng.key), rng.key, sizeof(rng.key));
	blake2s_update(&h, seed, sizeof(seed));
	blake2s_final(&h, rng.key);
	blake2s_init(&rng.pool, BLAKE2S_OUT_BYTES, NULL, 0);
	blake2s_update(&rng.pool, seed, sizeof(seed));
	crypto_wipe(seed, sizeof(seed));
	rng.pool_bits = 0;
	rng.reseeds++;
	rng.last_reseed_ns = arch_time_ns();
	if (!rng.seeded) {
		__atomic_store_n(&rng.seeded, true, __ATOMIC_RELEASE);
		log_seeded();
	}
}

/* Reseed if enough entropy is credited (and, once seeded, the interval has passed). */
static bool try_reseed(bool force)
{
	spin_lock(&rng.lock);
	bool done = rng.pool_bits >= SEED_BITS && (force || !rng.seeded);
	if (done)
		reseed();
	spin_unlock(&rng.lock);
	return done;
}

bool random_seeded(void)
{
	return __atomic_load_n(&rng.seeded, __ATOMIC_ACQUIRE);
}

static int wait_seeded(void)
{
	uint64_t start_ns = arch_time_ns(), last_ns = start_ns;
	unsigned long stuck = 0; /* polls during which the clock did not move */
	for (;;) {
		if (random_seeded())
			return 0;
		int live = random_poll();
		if (try_reseed(false))
			return 0;
		if (live == 0)
			return -ENODEV;
		uint64_t now = arch_time_ns();
		stuck = now == last_ns ? stuck + 1 : 0;
		last_ns = now;
		if (now - start_ns > WAIT_NS || stuck >= WAIT_POLLS_MAX)
			return -EAGAIN;
	}
}

static void maybe_reseed(void)
{
	if (arch_time_ns() - rng.last_reseed_ns < RESEED_NS)
		return;
	random_poll();
	try_reseed(true);
}

/* ---- output ---- */

/* Lock held. Fast key erasure: the next key comes first, the key that made the output goes. */
static void generate(uint8_t *out, size_t len)
{
	static const uint8_t nonce[CHACHA20_NONCE_BYTES]; /* each key makes one chunk only */
	uint8_t key[CHACHA20_KEY_BYTES], block[CHACHA20_BLOCK_BYTES];
	while (len) {
		size_t chunk = len < REKEY_BYTES ? len : REKEY_BYTES;
		len -= chunk;
		memcpy(key, rng.key, sizeof(key));
		chacha20_block(key, 0, nonce, block);
		memcpy(rng.key, block, sizeof(rng.key));
		size_t n = chunk < sizeof(block) - sizeof(rng.key)
		               ? chunk
		               : sizeof(block) - sizeof(rng.key);
		memcpy(out, block + sizeof(rng.key), n);
		out += n;
		chunk -= n;
		for (uint32_t ctr = 1; chunk; ctr++) {
			chacha20_block(key, ctr, nonce, block);
			n = chunk < sizeof(block) ? chunk : sizeof(block);
			memcpy(out, block, n);
			out += n;
			chunk -= n;
		}
	}
	crypto_wipe(key, sizeof(key));
	crypto_wipe(block, sizeof(block));
}

long noos_random(void *buf, size_t len)
{
	if ((!buf && len) || len > LEN_MAX)
		return -EINVAL;
	int err = wait_seeded();
	if (err)
		return err;
	maybe_reseed();
	spin_lock(&rng.lock);
	generate(buf, len);
	spin_unlock(&rng.lock);
	return (long)len;
}

/* ---- diagnostics ---- */

uint64_t random_source_bits(const char *name)
{
	uint64_t bits = 0;
	spin_lock(&rng.lock);
	for (int i = 0; i < MAX_SOURCES; i++)
		if (rng.sources[i] && strcmp(rng.sources[i]->name, name) == 0)
			bits += rng.sources[i]->bits;
	spin_unlock(&rng.lock);
	return bits;
}

void random_report(void)
{
	spin_lock(&rng.lock);
	start();
	printf("random: %s, %llu reseeds\n", rng.seeded ? "seeded" : "not seeded",
	       (unsigned long long)rng.reseeds);
	for (int i = 0; i < MAX_SOURCES; i++) {
		struct random_source *src = rng.sources[i];
		if (src)
			printf("random: source %s%s%s: %llu bits%s\n", src->name,
			       src->where[0] ? " " : "", src->where, (unsigned long long)src->bits,
			       src->dead ? " (absent or stopped)" : "");
	}
	spin_unlock(&rng.lock);
}
