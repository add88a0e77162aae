/*
 * mmio/cmdline.c and mmio/list.c: virtio_mmio.device=<size>@<base>:<irq>[:<id>]
 * entries as Linux reads them, every malformed form refused, several entries
 * per command line, overlaps and excess refused, and a randomised round trip
 * through every notation the parser accepts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mmio.h"

static bool parses(const char *value, uint64_t size, uint64_t base, uint32_t irq, int32_t id)
{
	struct mmio_desc d;
	const char *why = NULL;
	if (mmio_cmdline_entry(value, &d, &why) != 0) {
		fprintf(stderr, "'%s' refused: %s\n", value, why);
		return false;
	}
	bool ok = d.size == size && d.base == base && d.irq == irq && d.id == id;
	if (!ok)
		fprintf(stderr, "'%s' -> size %#" PRIx64 " base %#" PRIx64 " irq %u id %d\n", value,
		        d.size, d.base, d.irq, d.id);
	return ok && strcmp(d.source, "cmdline") == 0 && d.irq_flags == 0;
}

static bool refused(const char *value)
{
	struct mmio_desc d = {0};
	const char *why = NULL;
	return mmio_cmdline_entry(value, &d, &why) == -EINVAL && why && *why;
}

static void test_valid(void)
{
	CHECK(parses("512@0xfeb00e00:12", 512, 0xfeb00e00, 12, -1));
	CHECK(parses("0x200@0xFEB00000:5:3", 0x200, 0xfeb00000, 5, 3));
	CHECK(parses("4K@4096:7", 4096, 4096, 7, -1));
	CHECK(parses("4k@010:1", 4096, 8, 1, -1)); /* leading 0: octal, as Linux's base 0 */
	CHECK(parses("1M@0x10000000:33:-1", 1 << 20, 0x10000000, 33, -1));
	CHECK(parses("2g@0:1:+7", 2ull << 30, 0, 1, 7));
	CHECK(parses("1t@0x0:1", 1ull << 40, 0, 1, -1));
	CHECK(parses("1P@0:1", 1ull << 50, 0, 1, -1));
	CHECK(parses("7E@0:1", 7ull << 60, 0, 1, -1));
	CHECK(parses("0x100@0xfffffffffffffe00:4294967295", 0x100, 0xfffffffffffffe00ull,
	             4294967295u, -1));
	CHECK(parses("1@0:012", 1, 0, 12, -1)); /* the irq is decimal even with a leading 0 */
	CHECK(parses("1@0:1:-2147483648", 1, 0, 1, INT32_MIN));
	CHECK(parses("1@0:1:2147483647", 1, 0, 1, INT32_MAX));
}

static void test_malformed(void)
{
	static const char *const bad[] = {
	    "",
	    "512",
	    "512@",
	    "@0x1000:1",
	    "512@0x1000",
	    "512@0x1000:",
	    "512:0x1000:1",
	    "512@0x1000:0", /* irq 0 is no interrupt (Linux refuses it too) */
	    "512@0x1000:12x",
	    "512@0x1000:12:",
	    "512@0x1000:12:3:4",
	    "512@0x1000:12 ",
	    "-512@0x1000:1",
	    "+512@0x1000:1",
	    "512@-0x1000:1",
	    "512@+4096:1",
	    " 512@0x1000:1",
	    "512@ 0x1000:1",
	    "512@0x1000: 1",
	    "512@0x1000:-1",
	    "512@0x1000:+1",
	    "0@0x1000:1",
	    "0K@0x1000:1",              /* empty */
	    "512@0x1000:4294967296",    /* irq does not fit 32 bits */
	    "512@0x1000:0x10",          /* irq is decimal */
	    "18446744073709551616@0:1", /* size overflows */
	    "16E@0:1",
	    "17179869184G@0:1",            /* multiplier overflows */
	    "512@0x10000000000000000:1",   /* base overflows */
	    "0x1000@0xfffffffffffff000:1", /* window wraps */
	    "512@0x:1",
	    "0x@0:1",
	    "512KK@0:1",
	    "512Z@0:1",
	    "512@08:1",
	    "512@0x1000:1:2147483648",
	    "512@0x1000:1:-2147483649",
	    "512@0x1000:1:x",
	    "512@0x1000:1:-",
	    "1@0x1000:\x01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_MSG(refused(bad[i]), "'%s' was accepted", bad[i]);
}

static void test_key(void)
{
	const char *v = mmio_cmdline_value("virtio_mmio.device=512@0:1");
	CHECK(v && strcmp(v, "512@0:1") == 0);
	v = mmio_cmdline_value("virtio-mmio.device=1@2:3");
	CHECK(v && strcmp(v, "1@2:3") == 0);
	v = mmio_cmdline_value("virtio_mmio.device=");
	CHECK(v && *v == '\0');
	CHECK(mmio_cmdline_value("virtio_mmio.devices=1@2:3") == NULL);
	CHECK(mmio_cmdline_value("virtio_mmio.device") == NULL);
	CHECK(mmio_cmdline_value("virtio_mmio.devic=1@2:3") == NULL);
	CHECK(mmio_cmdline_value("xvirtio_mmio.device=1@2:3") == NULL);
	CHECK(mmio_cmdline_value("virtio.mmio.device=1@2:3") == NULL);
	CHECK(mmio_cmdline_value("") == NULL);
}

static void test_scan(void)
{
	static struct mmio_list l;
	char *words[] = {
	    "console=ttyS0",
	    "virtio_mmio.device=512@0xfeb00e00:12",
	    "virtio_mmio.device=512@0xfeb00c00:11",
	    "virtio_mmio.device=bogus",
	    "virtio_mmio.device=0x400@0xfeb00d00:9", /* overlaps the second */
	    "virtio-mmio.device=512@0xfeb00a00:10:4",
	    "virtio_mmio.device=512@0xfeb00e00:12",
	    "virtio_mmio.device=512@0xfeb00800:0",
	    "quiet",
	    "virtio_mmio.device=512@0xfeb00600:8",
	};
	memset(&l, 0, sizeof(l));
	mmio_cmdline_scan(words, (int)(sizeof(words) / sizeof(words[0])), &l);
	CHECK(l.count == 4);
	CHECK(l.rejected == 4);
	CHECK(l.dev[0].base == 0xfeb00e00 && l.dev[0].irq == 12);
	CHECK(l.dev[1].base == 0xfeb00c00 && l.dev[1].irq == 11);
	CHECK(l.dev[2].base == 0xfeb00a00 && l.dev[2].irq == 10 && l.dev[2].id == 4);
	CHECK(l.dev[3].base == 0xfeb00600 && l.dev[3].size == 512);
	mmio_cmdline_scan(words, 0, &l);
	CHECK(l.count == 4 && l.rejected == 4);
}

static void test_list_limits(void)
{
	static struct mmio_list l;
	static char text[MMIO_MAX_WINDOWS + 8][64];
	char *words[MMIO_MAX_WINDOWS + 8];
	memset(&l, 0, sizeof(l));
	for (int i = 0; i < MMIO_MAX_WINDOWS + 8; i++) {
		/* Adjacent windows touch but do not overlap. */
		snprintf(text[i], sizeof(text[i]), "virtio_mmio.device=0x200@%#x:%d",
		         0x10000000 + 0x200 * i, 5 + i);
		words[i] = text[i];
	}
	mmio_cmdline_scan(words, MMIO_MAX_WINDOWS + 8, &l);
	CHECK(l.count == MMIO_MAX_WINDOWS);
	CHECK(l.rejected == 8);
	CHECK(l.dev[MMIO_MAX_WINDOWS - 1].irq == 5 + MMIO_MAX_WINDOWS - 1);

	const char *why;
	struct mmio_desc d = {.base = 0x1000, .size = 0};
	memset(&l, 0, sizeof(l));
	CHECK(mmio_list_add(&l, &d, &why) == -EINVAL);
	d = (struct mmio_desc){.base = UINT64_MAX - 0xff, .size = 0x200};
	CHECK(mmio_list_add(&l, &d, &why) == -EINVAL);
	d = (struct mmio_desc){.base = 0x1000, .size = 0x1000};
	CHECK(mmio_list_add(&l, &d, &why) == 0);
	d = (struct mmio_desc){.base = 0x1fff, .size = 1};
	CHECK(mmio_list_add(&l, &d, &why) == -EEXIST);
	d = (struct mmio_desc){.base = 0x800, .size = 0x801};
	CHECK(mmio_list_add(&l, &d, &why) == -EEXIST);
	d = (struct mmio_desc){.base = 0x800, .size = 0x800};
	CHECK(mmio_list_add(&l, &d, &why) == 0);
	CHECK(l.count == 2);
}

/* Formats v in one of the notations the parser accepts, with a multiplier where exact. */
static void format_number(char *out, size_t n, uint64_t v, bool allow_suffix)
{
	static const char units[] = "KMGTPE";
	int unit = -1;
	if (allow_suffix && v && rand() % 2)
		for (int u = 5; u >= 0 && unit < 0; u--)
			if (v % (1ull << (10 * (u + 1))) == 0)
				unit = u;
	uint64_t m = unit >= 0 ? v >> (10 * (unit + 1)) : v;
	char suffix[2] = {unit >= 0 ? (rand() % 2 ? units[unit] : (char)(units[unit] | 0x20)) : 0};
	/* After hex digits, "E" is one more digit (so it is for Linux's memparse too). */
	int notation = rand() % 3;
	if (notation == 0 && unit == 5)
		notation = 2;
	switch (notation) {
	case 0:
		snprintf(out, n, "%#" PRIx64 "%s", m, suffix);
		if (m == 0) /* %#x prints plain "0" for zero, which is fine: octal 0 */
			snprintf(out, n, "0%s", suffix);
		break;
	case 1:
		snprintf(out, n, "0%" PRIo64 "%s", m, suffix);
		break;
	default:
		snprintf(out, n, "%" PRIu64 "%s", m, suffix);
	}
}

static uint64_t random_u64(void)
{
	uint64_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 16 | (uint64_t)(rand() & 0xffff);
	return v >> (rand() % 64); /* every magnitude */
}

static void test_round_trip(void)
{
	srand(12345);
	for (int i = 0; i < 20000; i++) {
		uint64_t size = random_u64(), base = random_u64();
		if (rand() % 2) /* a multiple of some K/M/G.. unit, so a suffix applies */
			size &= ~((1ull << (10 * (1 + rand() % 6))) - 1);
		if (size == 0)
			size = 1024;
		if (base + size < base)
			base = UINT64_MAX - size;
		uint32_t irq = (uint32_t)random_u64() | 1;
		int32_t id = rand() % 3 ? -1 : (int32_t)(rand() - RAND_MAX / 2);
		char s[32], b[32], value[128];
		format_number(s, sizeof(s), size, true);
		format_number(b, sizeof(b), base, false);
		if (id == -1 && rand() % 2)
			snprintf(value, sizeof(value), "%s@%s:%u", s, b, irq);
		else
			snprintf(value, sizeof(value), "%s@%s:%u:%d", s, b, irq, id);
		CHECK_MSG(parses(value, size, base, irq, id), "round trip of '%s'", value);
		if (check_failures > 10)
			return;
	}
}

int main(void)
{
	test_valid();
	test_malformed();
	test_key();
	test_scan();
	test_list_limits();
	test_round_trip();
	return check_report("test_mmio_cmdline");
}
