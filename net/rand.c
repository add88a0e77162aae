/*
 * Randomness for lwIP: LWIP_RAND (DHCP transaction ids, DNS query ids and
 * source ports, the first ephemeral TCP/UDP ports) and TCP initial sequence
 * numbers, all from noos's entropy pool (noos_random: ChaCha20 seeded from
 * virtio-rng and the CPU's RDSEED/RDRAND/RNDR).
 *
 * Initial sequence numbers follow RFC 6528 §3: ISN = M + F(local address,
 * local port, remote address, remote port, secret), M a clock ticking every
 * 4 microseconds, F keyed BLAKE2s (RFC 7693) with a 256-bit secret drawn
 * once. Unpredictable to an off-path attacker, yet increasing for one
 * connection's successive incarnations, as RFC 793's quiet-time rules want.
 *
 * With no entropy source at all (noos_random fails), lwIP still needs
 * numbers: they then come from the clock through BLAKE2s, which is
 * predictable, and a line on the console says so once.
 */
#include <string.h>

#include "arch/cc.h"
#include "noos.h"
#include "rt.h"

static uint8_t isn_key[BLAKE2S_KEY_BYTES];
static bool isn_keyed;
static struct spinlock key_lock; /* guards isn_key, isn_keyed and the fallback counter */
static uint64_t fallback_count;

/* No entropy: the clock and a counter, hashed. Says so, once. */
static void fallback(void *out, size_t len)
{
	struct blake2s h;
	uint8_t digest[BLAKE2S_OUT_BYTES];
	spin_lock(&key_lock);
	uint64_t in[2] = {noos_time_ns(), fallback_count++};
	bool first = in[1] == 0;
	spin_unlock(&key_lock);
	if (first)
		printf("net: no entropy source: ports, DNS ids and TCP sequence numbers are "
		       "predictable\n");
	blake2s_init(&h, sizeof(digest), NULL, 0);
	blake2s_update(&h, in, sizeof(in));
	blake2s_final(&h, digest);
	memcpy(out, digest, len);
}

static void get_random(void *out, size_t len)
{
	if (noos_random(out, len) != (long)len)
		fallback(out, len);
}

uint32_t net_rand(void)
{
	uint32_t v;
	get_random(&v, sizeof(v));
	return v;
}

static void key_once(void)
{
	uint8_t key[BLAKE2S_KEY_BYTES];
	if (__atomic_load_n(&isn_keyed, __ATOMIC_ACQUIRE))
		return;
	get_random(key, sizeof(key)); /* outside the lock: it may wait for the pool */
	spin_lock(&key_lock);
	if (!isn_keyed) {
		memcpy(isn_key, key, sizeof(key));
		__atomic_store_n(&isn_keyed, true, __ATOMIC_RELEASE);
	}
	spin_unlock(&key_lock);
	crypto_wipe(key, sizeof(key));
}

/* RFC 6528 §3: M + F(connection, secret), M the clock in 4-microsecond ticks. */
uint32_t net_isn(const void *conn, size_t len)
{
	struct blake2s h;
	uint32_t f;
	key_once();
	blake2s_init(&h, sizeof(f), isn_key, sizeof(isn_key));
	blake2s_update(&h, conn, len);
	blake2s_final(&h, &f);
	return (uint32_t)(noos_time_ns() / 4000) + f;
}
