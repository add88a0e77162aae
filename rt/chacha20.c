/*
 * ChaCha20 (RFC 8439 §2.1-2.4): the block function that rt/random.c turns
 * into its output generator, and the stream cipher for the RFC's test
 * vectors. Written from the RFC's description; the state is sixteen 32-bit
 * words: four constants, the 256-bit key, a 32-bit block counter and a
 * 96-bit nonce, all little-endian (§2.3).
 */
#include <string.h>

#include "rt.h"

static uint32_t rotl32(uint32_t v, unsigned n)
{
	return (v << n) | (v >> (32 - n));
}

static uint32_t load32_le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store32_le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Clear key material; volatile stores, so the compiler cannot drop them as dead. */
void crypto_wipe(void *p, size_t len)
{
	volatile uint8_t *b = p;
	while (len--)
		*b++ = 0;
}

/* §2.1: the quarter round on four words of the state. */
static void quarter_round(uint32_t *x, int a, int b, int c, int d)
{
	x[a] += x[b];
	x[d] = rotl32(x[d] ^ x[a], 16);
	x[c] += x[d];
	x[b] = rotl32(x[b] ^ x[c], 12);
	x[a] += x[b];
	x[d] = rotl32(x[d] ^ x[a], 8);
	x[c] += x[d];
	x[b] = rotl32(x[b] ^ x[c], 7);
}

/* §2.3: "expand 32-byte k", key, counter, nonce. */
static void init_state(uint32_t s[16], const uint8_t key[CHACHA20_KEY_BYTES], uint32_t counter,
                       const uint8_t nonce[CHACHA20_NONCE_BYTES])
{
	s[0] = 0x61707865;
	s[1] = 0x3320646e;
	s[2] = 0x79622d32;
	s[3] = 0x6b206574;
	for (int i = 0; i < 8; i++)
		s[4 + i] = load32_le(key + 4 * i);
	s[12] = counter;
	for (int i = 0; i < 3; i++)
		s[13 + i] = load32_le(nonce + 4 * i);
}

/* §2.3: twenty rounds (ten column + diagonal pairs), then the input added back in. */
void chacha20_block(const uint8_t key[CHACHA20_KEY_BYTES], uint32_t counter,
                    const uint8_t nonce[CHACHA20_NONCE_BYTES], uint8_t out[CHACHA20_BLOCK_BYTES])
{
	uint32_t s[16], x[16];
	init_state(s, key, counter, nonce);
	memcpy(x, s, sizeof(x));
	for (int i = 0; i < 10; i++) {
		quarter_round(x, 0, 4, 8, 12);
		quarter_round(x, 1, 5, 9, 13);
		quarter_round(x, 2, 6, 10, 14);
		quarter_round(x, 3, 7, 11, 15);
		quarter_round(x, 0, 5, 10, 15);
		quarter_round(x, 1, 6, 11, 12);
		quarter_round(x, 2, 7, 8, 13);
		quarter_round(x, 3, 4, 9, 14);
	}
	for (int i = 0; i < 16; i++)
		store32_le(out + 4 * i, x[i] + s[i]);
	crypto_wipe(s, sizeof(s));
	crypto_wipe(x, sizeof(x));
}

/* §2.4: XOR the key stream from block `counter` on into the data. */
void chacha20_xor(const uint8_t key[CHACHA20_KEY_BYTES], uint32_t counter,
                  const uint8_t nonce[CHACHA20_NONCE_BYTES], const uint8_t *in, uint8_t *out,
                  size_t len)
{
	uint8_t block[CHACHA20_BLOCK_BYTES];
	while (len) {
		chacha20_block(key, counter++, nonce, block);
		size_t n = len < sizeof(block) ? len : sizeof(block);
		for (size_t i = 0; i < n; i++)
			out[i] = in[i] ^ block[i];
		in += n;
		out += n;
		len -= n;
	}
	crypto_wipe(block, sizeof(block));
}
