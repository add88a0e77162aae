/*
 * rt/chacha20.c and rt/blake2s.c against the RFCs' test vectors (RFC 8439
 * §2.3.2, §2.4.2, A.1; RFC 7693 Appendix B; the BLAKE2 reference keyed
 * known answers), and rt/random.c: no output before seeding (-ENODEV with no
 * source, -EAGAIN when sources stay silent), and the exact construction —
 * BLAKE2s pool, keyed extraction, ChaCha20 with fast key erasure, reseeding —
 * checked against a model built from the verified primitives.
 *
 * random.c keeps its state in statics, so each scenario runs in a child
 * process of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "noos.h"
#include "rt.h"

/* ---- the arch services random.c uses, faked ---- */

static bool hw_present;
static uint64_t hw_next = 0x0123456789abcdefull;
static uint64_t now_ns;

bool arch_hw_random(uint64_t *out)
{
	if (!hw_present)
		return false;
	*out = hw_next;
	hw_next = hw_next * 6364136223846793005ull + 1442695040888963407ull;
	return true;
}

uint64_t arch_time_ns(void)
{
	now_ns += 1000000; /* every look at the clock costs a millisecond */
	return now_ns;
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static bool equals_hex(const uint8_t *got, const char *hex)
{
	size_t n = strlen(hex) / 2;
	uint8_t want[256];
	unhex(hex, want, n);
	return memcmp(got, want, n) == 0;
}

/* ---- ChaCha20, RFC 8439 ---- */

static void test_chacha20(void)
{
	uint8_t key[32], nonce[12], block[64];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	unhex("000000090000004a00000000", nonce, 12);
	chacha20_block(key, 1, nonce, block); /* §2.3.2 */
	CHECK(equals_hex(block,
	                 "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
	                 "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e"));

	static const char sunscreen[] =
	    "Ladies and Gentlemen of the class of '99: If I could offer "
	    "you only one tip for the future, sunscreen would be it.";
	uint8_t ct[sizeof(sunscreen) - 1];
	unhex("000000000000004a00000000", nonce, 12);
	chacha20_xor(key, 1, nonce, (const uint8_t *)sunscreen, ct, sizeof(ct)); /* §2.4.2 */
	CHECK(sizeof(ct) == 114);
	CHECK(equals_hex(ct, "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
	                     "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
	                     "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
	                     "5af90bbf74a35be6b40b8eedf2785e42874d"));
	uint8_t back[sizeof(ct)];
	chacha20_xor(key, 1, nonce, ct, back, sizeof(ct));
	CHECK(memcmp(back, sunscreen, sizeof(back)) == 0);

	memset(key, 0, sizeof(key)); /* A.1 test vectors #1 and #2: all-zero key and nonce */
	memset(nonce, 0, sizeof(nonce));
	chacha20_block(key, 0, nonce, block);
	CHECK(equals_hex(block,
	                 "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
	                 "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586"));
	chacha20_block(key, 1, nonce, block);
	CHECK(equals_hex(block,
	                 "9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
	                 "29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f"));
	key[31] = 1; /* A.1 test vector #3 */
	chacha20_block(key, 1, nonce, block);
	CHECK(equals_hex(block,
	                 "3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a"
	                 "8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0"));
}

/* ---- BLAKE2s, RFC 7693 ---- */

static void blake2s_oneshot(const void *key, size_t keylen, const void *in, size_t len,
                            uint8_t out[32])
{
	struct blake2s st;
	CHECK(blake2s_init(&st, 32, key, keylen) == 0);
	blake2s_update(&st, in, len);
	blake2s_final(&st, out);
}

static void test_blake2s(void)
{
	uint8_t out[32], key[32], msg[255];
	blake2s_oneshot(NULL, 0, "abc", 3, out); /* Appendix B */
	CHECK(equals_hex(out, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"));
	blake2s_oneshot(NULL, 0, "", 0, out);
	CHECK(equals_hex(out, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9"));
	for (int i = 0; i < 255; i++)
		msg[i] = (uint8_t)i;
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	/* blake2s-kat.txt (keyed, key 00..1f, input 00..len-1): lengths 0, 64 and 255 */
	blake2s_oneshot(key, 32, msg, 0, out);
	CHECK(equals_hex(out, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"));
	blake2s_oneshot(key, 32, msg, 64, out);
	CHECK(equals_hex(out, "8975b0577fd35566d750b362b0897a26c399136df07bababbde6203ff2954ed4"));
	blake2s_oneshot(key, 32, msg, 255, out);
	CHECK(equals_hex(out, "3fb735061abc519dfe979e54c1ee5bfad0a9d858b3315bad34bde999efd724dd"));
	/* the same digest however the input is split across updates */
	for (size_t step = 1; step <= 130; step += 43) {
		struct blake2s st;
		uint8_t split[32];
		blake2s_init(&st, 32, key, 32);
		for (size_t off = 0; off < 255; off += step)
			blake2s_update(&st, msg + off, off + step > 255 ? 255 - off : step);
		blake2s_final(&st, split);
		CHECK(memcmp(split, out, 32) == 0);
	}
	struct blake2s st;
	CHECK(blake2s_init(&st, 0, NULL, 0) == -1 && blake2s_init(&st, 33, NULL, 0) == -1);
	CHECK(blake2s_init(&st, 32, key, 33) == -1);
}

/* ---- the generator, against a model of its construction ---- */

struct model {
	uint8_t key[32];
	struct blake2s pool;
};
static struct model m;

static void model_reseed(void)
{
	uint8_t seed[32];
	blake2s_final(&m.pool, seed);
	blake2s_oneshot(m.key, 32, seed, 32, m.key);
	blake2s_init(&m.pool, 32, NULL, 0);
	blake2s_update(&m.pool, seed, 32);
}

static void model_generate(uint8_t *out, size_t len)
{
	static const uint8_t nonce[12];
	while (len) {
		size_t chunk = len < 4096 ? len : 4096, n;
		uint8_t key[32], block[64];
		len -= chunk;
		memcpy(key, m.key, 32);
		chacha20_block(key, 0, nonce, block);
		memcpy(m.key, block, 32);
		n = chunk < 32 ? chunk : 32;
		memcpy(out, block + 32, n);
		out += n, chunk -= n;
		for (uint32_t ctr = 1; chunk; ctr++, out += n, chunk -= n) {
			chacha20_block(key, ctr, nonce, block);
			n = chunk < 64 ? chunk : 64;
			memcpy(out, block, n);
		}
	}
}

static bool deliver = true;
static unsigned polls;

/* 32 bytes a poll, credited at 128 bits, mirrored into the model's pool. */
static int test_source_poll(struct random_source *src)
{
	polls++;
	if (!deliver)
		return 0;
	uint8_t b[32];
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)(polls * 31 + i);
	random_add_entropy(src, b, sizeof(b), 128);
	blake2s_update(&m.pool, b, sizeof(b));
	return (int)sizeof(b);
}

static struct random_source test_source = {
    .name = "test", .where = "here", .poll = test_source_poll};

static void scenario_no_source(void)
{
	uint8_t buf[16];
	memset(buf, 0xaa, sizeof(buf));
	CHECK(noos_random(buf, sizeof(buf)) == -ENODEV);
	CHECK(buf[0] == 0xaa && buf[15] == 0xaa && !random_seeded());
}

static void scenario_silent_source(void)
{
	deliver = false;
	CHECK(random_add_source(&test_source) == 0);
	uint8_t buf[16];
	memset(buf, 0xaa, sizeof(buf));
	uint64_t start = now_ns;
	CHECK(noos_random(buf, sizeof(buf)) == -EAGAIN);
	CHECK(buf[0] == 0xaa && buf[15] == 0xaa && !random_seeded());
	CHECK(polls > 100 && now_ns - start >= 5000000000ull); /* it waited, for the time bound */
	CHECK(noos_random(NULL, 4) == -EINVAL);
}

static void scenario_construction(void)
{
	blake2s_init(&m.pool, 32, NULL, 0);
	CHECK(random_add_source(&test_source) == 0);
	uint8_t got[10000], want[10000];
	CHECK(noos_random(got, 48) == 48);
	CHECK(polls == 2 && random_seeded()); /* two polls of 128 bits: seeded */
	model_reseed();
	model_generate(want, 48);
	CHECK(memcmp(got, want, 48) == 0);
	CHECK(noos_random(got, 10000) == 10000); /* crosses the 4 KiB rekeying */
	model_generate(want, 10000);
	CHECK(memcmp(got, want, 10000) == 0);
	CHECK(random_source_bits("test") == 256 && random_source_bits("cpu") == 0);
	/* After the reseed interval the sources are polled and mixed into a new key. */
	now_ns += 61ull * 1000000000;
	CHECK(noos_random(got, 100) == 100);
	CHECK(polls == 3);
	/* one poll is 128 bits: not enough to reseed yet, so the old key goes on */
	model_generate(want, 100);
	CHECK(memcmp(got, want, 100) == 0);
	CHECK(noos_random(got, 100) == 100 && polls == 4);
	model_reseed();
	model_generate(want, 100);
	CHECK(memcmp(got, want, 100) == 0);
	CHECK(noos_random(got, 0) == 0);
	random_report();
}

static void scenario_cpu(void)
{
	hw_present = true;
	uint8_t a[32], b[32];
	CHECK(noos_random(a, sizeof(a)) == 32 && noos_random(b, sizeof(b)) == 32);
	CHECK(random_seeded() && random_source_bits("cpu") == 256);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	int same = 0;
	for (int i = 1; i < 32; i++)
		same += a[i] == a[0];
	CHECK(same < 31);
}

static void run(const char *name, void (*fn)(void))
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		fn();
		exit(check_failures ? 1 : 0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "scenario %s", name);
}

int main(void)
{
	test_chacha20();
	test_blake2s();
	run("no source", scenario_no_source);
	run("silent source", scenario_silent_source);
	run("construction", scenario_construction);
	run("cpu", scenario_cpu);
	return check_report("random");
}
