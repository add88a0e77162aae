/*
 * BLAKE2s (RFC 7693), the hash rt/random.c collects entropy with: every
 * input is hashed into the pool, and a reseed extracts a 256-bit seed from
 * it. Written from the RFC's description (§2-3): 32-bit words, ten rounds of
 * the G mixing function, the SHA-256 initial values, optional key of up to
 * 32 bytes processed as a first, zero-padded block.
 */
#include <string.h>

#include "rt.h"

/* §2.6: the initialisation vector (the same as SHA-256's). */
static const uint32_t blake2s_iv[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* §2.7: the message word permutations of the ten rounds. */
static const uint8_t blake2s_sigma[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

static uint32_t rotr32(uint32_t v, unsigned n)
{
	return (v >> n) | (v << (32 - n));
}

static uint32_t load32_le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* §3.1: the mixing function G with BLAKE2s's rotations 16, 12, 8, 7. */
static void mix(uint32_t *v, int a, int b, int c, int d, uint32_t x, uint32_t y)
{
	v[a] = v[a] + v[b] + x;
	v[d] = rotr32(v[d] ^ v[a], 16);
	v[c] = v[c] + v[d];
	v[b] = rotr32(v[b] ^ v[c], 12);
	v[a] = v[a] + v[b] + y;
	v[d] = rotr32(v[d] ^ v[a], 8);
	v[c] = v[c] + v[d];
	v[b] = rotr32(v[b] ^ v[c], 7);
}

static void round_(uint32_t *v, const uint32_t *m, const uint8_t *s)
{
	mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
	mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
	mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
	mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
	mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
	mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
	mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
	mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
}

/* §3.2: the compression function F over the buffered block; `last` sets the final flag. */
static void compress(struct blake2s *st, bool last)
{
	uint32_t v[16], m[16];
	for (int i = 0; i < 16; i++)
		m[i] = load32_le(st->buf + 4 * i);
	for (int i = 0; i < 8; i++) {
		v[i] = st->h[i];
		v[i + 8] = blake2s_iv[i];
	}
	v[12] ^= st->t[0];
	v[13] ^= st->t[1];
	if (last)
		v[14] = ~v[14];
	for (int r = 0; r < 10; r++)
		round_(v, m, blake2s_sigma[r]);
	for (int i = 0; i < 8; i++)
		st->h[i] ^= v[i] ^ v[i + 8];
	crypto_wipe(v, sizeof(v));
	crypto_wipe(m, sizeof(m));
}

/* The 64-bit byte counter t grows by the bytes of each block compressed (§3.2). */
static void count(struct blake2s *st, uint32_t n)
{
	st->t[0] += n;
	if (st->t[0] < n)
		st->t[1]++;
}

int blake2s_init(struct blake2s *st, size_t outlen, const void *key, size_t keylen)
{
	if (outlen == 0 || outlen > BLAKE2S_OUT_BYTES || keylen > BLAKE2S_KEY_BYTES ||
	    (keylen && !key))
		return -1;
	memset(st, 0, sizeof(*st));
	memcpy(st->h, blake2s_iv, sizeof(st->h));
	/* §2.5 parameter block: digest length, key length, fanout 1, depth 1. */
	st->h[0] ^= 0x01010000 ^ (uint32_t)(keylen << 8) ^ (uint32_t)outlen;
	st->outlen = outlen;
	if (keylen) {
		memcpy(st->buf, key, keylen); /* the key is a zero-padded first block (§3.3) */
		st->buflen = sizeof(st->buf);
	}
	return 0;
}

void blake2s_update(struct blake2s *st, const void *data, size_t len)
{
	const uint8_t *in = data;
	while (len) {
		/* A full buffer is compressed only once more input follows: the last block is
		 * final. */
		if (st->buflen == sizeof(st->buf)) {
			count(st, sizeof(st->buf));
			compress(st, false);
			st->buflen = 0;
		}
		size_t n = sizeof(st->buf) - st->buflen;
		if (n > len)
			n = len;
		memcpy(st->buf + st->buflen, in, n);
		st->buflen += n;
		in += n;
		len -= n;
	}
}

void blake2s_final(struct blake2s *st, void *out)
{
	count(st, (uint32_t)st->buflen);
	memset(st->buf + st->buflen, 0, sizeof(st->buf) - st->buflen);
	compress(st, true);
	uint8_t digest[BLAKE2S_OUT_BYTES];
	for (int i = 0; i < 8; i++) {
		uint32_t h = st->h[i];
		for (int j = 0; j < 4; j++)
			digest[4 * i + j] = (uint8_t)(h >> (8 * j));
	}
	memcpy(out, digest, st->outlen);
	crypto_wipe(digest, sizeof(digest));
	crypto_wipe(st, sizeof(*st));
}
