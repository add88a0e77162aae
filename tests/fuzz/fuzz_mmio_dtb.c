/*
 * libFuzzer target for mmio/dtb.c. The first input byte picks the mode:
 *
 *   raw       the rest is the blob itself (header and structure checks);
 *   built     the rest is a program that builds a tree with libfdt's
 *             sequential writer: nodes, "virtio,mmio" and GIC compatibles,
 *             #address-cells/#size-cells, reg, ranges, interrupts,
 *             interrupts-extended, interrupt-parent, phandles, status, with
 *             fuzzer-chosen cell counts and values, so the node parser is
 *             reached on nearly every input;
 *   corrupt   a built tree, then (offset, xor) pairs from the input flip
 *             bytes in it: almost-valid blobs for libfdt's checks.
 *
 * Checks: the scan returns -EINVAL or the number of windows added; every
 * window is non-empty, does not wrap or overlap another; every interrupt is
 * 0 or a valid GIC interrupt ID.
 */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmio.h"
#include "mmio_check.h"

enum { MODE_RAW, MODE_BUILT, MODE_CORRUPT, MODES };

struct reader {
	const uint8_t *p, *end;
};

static char tree[65536];
static struct mmio_list list;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	int null = open("/dev/null", O_WRONLY); /* the parser logs rejections to stdout */
	if (null >= 0)
		dup2(null, 1);
	return 0;
}

static uint8_t byte(struct reader *r)
{
	return r->p < r->end ? *r->p++ : 0;
}

/* A cell value: mostly small numbers and the ones the parser cares about, sometimes any. */
static uint32_t value(struct reader *r)
{
	static const uint32_t special[] = {
	    0, 1, 2, 3, 4, 0x200, 0xa000000, 0xffffffff, 0x80000000, 0xfffffe00, 988, 1024};
	uint8_t b = byte(r);
	switch (b >> 6) {
	case 0:
		return b & 0x3f;
	case 1:
		return (uint32_t)(b & 0x3f) << 9; /* 0x200-aligned, as transports are */
	case 2:
		return special[(b & 0x3f) % (sizeof(special) / sizeof(special[0]))];
	default: {
		uint32_t v = 0;
		for (int i = 0; i < 4; i++)
			v = v << 8 | byte(r);
		return v;
	}
	}
}

static void prop_cells(struct reader *r, const char *name, unsigned max)
{
	fdt32_t v[16];
	unsigned n = byte(r) % (max + 1);
	for (unsigned i = 0; i < n; i++)
		v[i] = cpu_to_fdt32(value(r));
	fdt_property(tree, name, v, (int)(n * 4));
}

/* Property strings with their full length (a stringlist holds inner NULs). */
struct str {
	const char *s;
	int len;
};
#define STR(x)                                                                                     \
	{                                                                                          \
		x, sizeof(x)                                                                       \
	}

static void prop_string(struct reader *r, const char *name, const struct str *choices,
                        unsigned count)
{
	const struct str *c = &choices[byte(r) % count];
	fdt_property(tree, name, c->s, c->len);
}

static const struct str compatibles[] = {
    STR("virtio,mmio"), STR("simple-bus"), STR("arm,gic-400"),          STR("arm,gic-v3"),
    STR("arm,pl390"),   STR("virtio,mmi"), STR("foo,bar\0virtio,mmio"), STR("foo,intc")};
static const struct str statuses[] = {
    STR("okay"), STR("ok"), STR("disabled"), STR("fail"), {"okay", 4}};
static const char *const names[] = {"virtio_mmio@a000000", "soc", "intc", "bus@0", "x"};
static const char *const cell_props[] = {
    "reg",     "ranges",         "interrupts",  "interrupts-extended", "interrupt-parent",
    "phandle", "#address-cells", "#size-cells", "#interrupt-cells"};
static const unsigned cell_max[] = {9, 13, 7, 8, 2, 1, 1, 1, 1};

static void prop_u32(const char *name, uint32_t v)
{
	fdt32_t c = cpu_to_fdt32(v);
	fdt_property(tree, name, &c, 4);
}

/* Whole nodes in one step, so the fuzzer reaches interrupt decoding without luck. */
static void gic_node(struct reader *r)
{
	fdt_begin_node(tree, "intc");
	prop_string(r, "compatible", compatibles + 2, 3);
	fdt_property(tree, "interrupt-controller", NULL, 0);
	prop_u32("#interrupt-cells", byte(r) % 8 ? 3 : value(r));
	prop_u32("phandle", byte(r) % 4 + 1);
	fdt_end_node(tree);
}

static void virtio_node(struct reader *r)
{
	fdt32_t reg[4] = {0, cpu_to_fdt32(value(r)), 0, cpu_to_fdt32(0x200)};
	fdt32_t irq[3] = {cpu_to_fdt32(byte(r) % 5), cpu_to_fdt32(value(r)),
	                  cpu_to_fdt32(byte(r) % 16)};
	fdt_begin_node(tree, "virtio_mmio@a000000");
	fdt_property(tree, "compatible", "virtio,mmio", sizeof("virtio,mmio"));
	fdt_property(tree, "reg", reg, sizeof(reg));
	fdt_property(tree, "interrupts", irq, sizeof(irq));
	fdt_end_node(tree);
}

/* One step of the tree program; returns the new depth. */
static int step(struct reader *r, int depth)
{
	uint8_t op = byte(r) % 16;
	if (op == 14)
		gic_node(r);
	if (op == 15)
		virtio_node(r);
	if (op == 0 && depth < 8) {
		fdt_begin_node(tree, names[byte(r) % 5]);
		return depth + 1;
	}
	if (op == 1 && depth > 1) {
		fdt_end_node(tree);
		return depth - 1;
	}
	if (op == 2 || op == 3)
		prop_string(r, "compatible", compatibles, 8);
	else if (op == 4)
		prop_string(r, "status", statuses, 5);
	else if (op == 5)
		fdt_property(tree, "interrupt-controller", NULL, 0);
	else if (op >= 6 && op < 14) {
		unsigned i = byte(r) % 9;
		prop_cells(r, cell_props[i], cell_max[i]);
	}
	return depth;
}

static size_t build(struct reader *r)
{
	if (fdt_create(tree, sizeof(tree)) || fdt_finish_reservemap(tree) ||
	    fdt_begin_node(tree, ""))
		return 0;
	int depth = 1;
	for (int ops = 0; r->p < r->end && ops < 512; ops++)
		depth = step(r, depth);
	while (depth-- > 0)
		fdt_end_node(tree);
	return fdt_finish(tree) == 0 ? fdt_totalsize(tree) : 0;
}

static bool valid_gic_id(uint32_t id)
{
	return id == 0 || (id >= 16 && id < 1020) || (id >= 1056 && id < 1120) ||
	       (id >= 4096 && id < 5120);
}

static void check(const void *blob, size_t size)
{
	memset(&list, 0, sizeof(list));
	int n = mmio_dtb_scan(blob, size, &list);
	if (n != -EINVAL && (n < 0 || (unsigned)n != list.count))
		abort();
	check_windows(&list);
	for (unsigned i = 0; i < list.count; i++) {
		const struct mmio_desc *a = &list.dev[i];
		if (!valid_gic_id(a->irq) || a->irq_flags > 0xf || a->id != -1)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct reader r = {data + 1, data + size};
	int mode = data[0] % MODES;
	if (mode == MODE_RAW) {
		/* A copy exactly as long as the input, so reading past it is caught. */
		char *blob = malloc(size - 1 ? size - 1 : 1);
		memcpy(blob, data + 1, size - 1);
		check(blob, size - 1);
		free(blob);
		return 0;
	}
	/* Corrupt mode: the first half builds, the second flips bytes. */
	struct reader flips = {r.end, r.end};
	if (mode == MODE_CORRUPT)
		flips.p = r.end = r.p + (r.end - r.p) / 2;
	size_t len = build(&r);
	if (!len)
		return 0;
	while (flips.p + 3 <= flips.end) {
		size_t at = (size_t)byte(&flips) << 8;
		at = (at | byte(&flips)) % len;
		tree[at] ^= (char)byte(&flips);
	}
	char *blob = malloc(len); /* exactly as long as the tree, so reading past it is caught */
	memcpy(blob, tree, len);
	check(blob, len);
	free(blob);
	return 0;
}
