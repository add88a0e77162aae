/*
 * mmio/dtb.c: "virtio,mmio" nodes in device trees built here with libfdt's
 * sequential writer: QEMU virt's shape, #address-cells/#size-cells of the
 * parent, translation through ranges, disabled nodes, every interrupt form
 * (interrupts + inherited interrupt-parent, interrupts-extended, SPI/PPI),
 * and malformed reg, interrupts and blobs.
 *
 * With file arguments it only parses those DTBs and prints what it found
 * (e.g. one from qemu-system-aarch64 -M virt,dumpdtb=virt.dtb).
 */
#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mmio.h"

#define GIC 1 /* phandle of the GIC in every tree */

static char blob[2 << 20]; /* QEMU virt's DTB has a 1 MiB totalsize */
static struct mmio_list list;

static void ok(int err, int line)
{
	if (err < 0) {
		fprintf(stderr, "line %d: building the test tree: %s\n", line, fdt_strerror(err));
		abort();
	}
}
#define OK(x) ok((x), __LINE__)

static void cells(const char *name, int n, ...)
{
	fdt32_t v[16];
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		v[i] = cpu_to_fdt32(va_arg(ap, uint32_t));
	va_end(ap);
	OK(fdt_property(blob, name, v, (int)(n * sizeof(fdt32_t))));
}

static void str(const char *name, const char *value)
{
	OK(fdt_property_string(blob, name, value));
}

static void begin(const char *name)
{
	OK(fdt_begin_node(blob, name));
}

static void end(void)
{
	OK(fdt_end_node(blob));
}

/* A root with the given cells, holding a GICv2 like QEMU virt's. */
static void start_tree(uint32_t ac, uint32_t sc)
{
	OK(fdt_create(blob, sizeof(blob)));
	OK(fdt_finish_reservemap(blob));
	begin("");
	cells("#address-cells", 1, ac);
	cells("#size-cells", 1, sc);
	cells("interrupt-parent", 1, GIC);
	begin("intc@8000000");
	str("compatible", "arm,cortex-a15-gic");
	OK(fdt_property(blob, "interrupt-controller", NULL, 0));
	cells("#interrupt-cells", 1, 3);
	cells("phandle", 1, GIC);
	end();
}

static int finish_and_scan(void)
{
	end();
	OK(fdt_finish(blob));
	memset(&list, 0, sizeof(list));
	return mmio_dtb_scan(blob, fdt_totalsize(blob), &list);
}

static void virtio_node(const char *name, uint64_t base, uint32_t spi, uint32_t flags)
{
	begin(name);
	str("compatible", "virtio,mmio");
	cells("reg", 4, (uint32_t)(base >> 32), (uint32_t)base, 0, 0x200);
	cells("interrupts", 3, 0, spi, flags);
	OK(fdt_property(blob, "dma-coherent", NULL, 0));
	end();
}

static bool dev_is(unsigned i, uint64_t base, uint64_t size, uint32_t irq, uint32_t flags)
{
	if (i >= list.count)
		return false;
	const struct mmio_desc *d = &list.dev[i];
	bool same = d->base == base && d->size == size && d->irq == irq && d->irq_flags == flags;
	if (!same)
		fprintf(stderr, "dev %u: base %#" PRIx64 " size %#" PRIx64 " irq %u flags %u\n", i,
		        d->base, d->size, d->irq, d->irq_flags);
	return same && d->id == -1 && strcmp(d->source, "dtb") == 0;
}

static void test_qemu_virt(void)
{
	start_tree(2, 2);
	virtio_node("virtio_mmio@a000000", 0xa000000, 16, 1);
	virtio_node("virtio_mmio@a000200", 0xa000200, 17, 4);
	begin("virtio_mmio@a000400");
	str("status", "disabled");
	str("compatible", "virtio,mmio");
	cells("reg", 4, 0, 0xa000400, 0, 0x200);
	end();
	begin("virtio_mmio@a000600");
	str("status", "okay");
	OK(fdt_property(blob, "compatible", "foo,bar\0virtio,mmio", 20));
	cells("reg", 4, 0x80, 0xa000600, 0, 0x200);
	cells("interrupts", 3, 1, 13, 4); /* a PPI */
	end();
	begin("pl011@9000000");
	str("compatible", "arm,pl011");
	cells("reg", 4, 0, 0x9000000, 0, 0x1000);
	end();
	CHECK(finish_and_scan() == 3);
	CHECK(dev_is(0, 0xa000000, 0x200, 48, 1));
	CHECK(dev_is(1, 0xa000200, 0x200, 49, 4));
	CHECK(dev_is(2, 0x800a000600ull, 0x200, 29, 4));
	CHECK(list.rejected == 0 && list.bad_irqs == 0);
}

static void test_bus_ranges(void)
{
	start_tree(2, 2);
	begin("soc");
	str("compatible", "simple-bus");
	cells("#address-cells", 1, 1);
	cells("#size-cells", 1, 1);
	/* child 0x0..0x100000 -> 0x1_0000_0000; child 0x200000.. -> 0x2000_0000 */
	cells("ranges", 8, 0x0, 0x1, 0x0, 0x100000, 0x200000, 0x0, 0x20000000, 0x1000);
	begin("virtio@2000");
	str("compatible", "virtio,mmio");
	cells("reg", 2, 0x2000, 0x200);
	cells("interrupts-extended", 4, GIC, 0, 5, 4);
	end();
	begin("virtio@200e00");
	str("compatible", "virtio,mmio");
	cells("reg", 2, 0x200e00, 0x200);
	cells("interrupt-parent", 1, GIC);
	cells("interrupts", 3, 0, 6, 1);
	end();
	begin("virtio@200f00"); /* runs past the end of its range */
	str("compatible", "virtio,mmio");
	cells("reg", 2, 0x200f00, 0x200);
	end();
	begin("bridge"); /* empty ranges: identity */
	cells("#address-cells", 1, 1);
	cells("#size-cells", 1, 1);
	OK(fdt_property(blob, "ranges", NULL, 0));
	begin("virtio@3000");
	str("compatible", "virtio,mmio");
	cells("reg", 2, 0x3000, 0x100);
	end();
	end();
	end();
	begin("nobus"); /* no ranges: not memory-mapped */
	cells("#address-cells", 1, 1);
	cells("#size-cells", 1, 1);
	begin("virtio@4000");
	str("compatible", "virtio,mmio");
	cells("reg", 2, 0x4000, 0x200);
	end();
	end();
	CHECK(finish_and_scan() == 3);
	CHECK(dev_is(0, 0x100002000ull, 0x200, 37, 4));
	CHECK(dev_is(1, 0x20000e00, 0x200, 38, 1));
	CHECK(dev_is(2, 0x100003000ull, 0x100, 0, 0)); /* no interrupts: polled, not an error */
	CHECK(list.rejected == 2);
	CHECK(list.bad_irqs == 0);
}

static void bad_reg_node(const char *name, int n, uint32_t a, uint32_t b, uint32_t c, uint32_t d,
                         uint32_t e)
{
	begin(name);
	str("compatible", "virtio,mmio");
	if (n >= 0)
		cells("reg", n, a, b, c, d, e);
	end();
}

static void test_bad_reg(void)
{
	start_tree(2, 2);
	bad_reg_node("noreg", -1, 0, 0, 0, 0, 0);
	bad_reg_node("short", 3, 0, 0x1000, 0, 0, 0);
	bad_reg_node("odd", 5, 0, 0x1000, 0, 0x200, 7);
	bad_reg_node("empty", 4, 0, 0x1000, 0, 0, 0);
	bad_reg_node("wraps", 4, 0xffffffff, 0xffffff00, 0, 0x200, 0);
	bad_reg_node("good", 4, 0, 0x2000, 0, 0x200, 0);
	bad_reg_node("overlap", 4, 0, 0x2100, 0, 0x200, 0);
	begin("cells3");
	cells("#address-cells", 1, 3);
	cells("#size-cells", 1, 1);
	bad_reg_node("big", 4, 1, 0, 0, 0x200, 0); /* 3-cell address beyond 64 bits */
	bad_reg_node("fits", 4, 0, 0, 0x5000, 0x200, 0);
	end();
	begin("cells0");
	cells("#address-cells", 1, 1);
	cells("#size-cells", 1, 0);
	bad_reg_node("nosize", 1, 0x6000, 0, 0, 0, 0);
	end();
	CHECK(finish_and_scan() == 1); /* "fits" sits under a bus without ranges */
	CHECK(dev_is(0, 0x2000, 0x200, 0, 0));
	CHECK(list.rejected == 9);
}

static void irq_node(const char *name, const char *prop, int n, uint32_t a, uint32_t b, uint32_t c,
                     uint32_t d)
{
	static uint32_t base = 0x10000;
	begin(name);
	str("compatible", "virtio,mmio");
	cells("reg", 2, base, 0x200);
	base += 0x200;
	if (prop)
		cells(prop, n, a, b, c, d);
	end();
}

static void test_interrupts(void)
{
	start_tree(1, 1);
	begin("other-intc");
	str("compatible", "foo,intc");
	OK(fdt_property(blob, "interrupt-controller", NULL, 0));
	cells("#interrupt-cells", 1, 1);
	cells("phandle", 1, 2);
	end();
	begin("gic3");
	str("compatible", "arm,gic-v3");
	OK(fdt_property(blob, "interrupt-controller", NULL, 0));
	cells("#interrupt-cells", 1, 3);
	cells("phandle", 1, 3);
	end();
	irq_node("spi-max", "interrupts", 3, 0, 987, 4, 0);
	irq_node("spi-over", "interrupts", 3, 0, 988, 4, 0);
	irq_node("ppi-over", "interrupts", 3, 1, 16, 4, 0);
	irq_node("espi", "interrupts-extended", 4, 3, 2, 5, 1);
	irq_node("badtype", "interrupts", 3, 7, 1, 4, 0);
	irq_node("short", "interrupts", 2, 0, 16, 0, 0);
	irq_node("not-gic", "interrupts-extended", 2, 2, 9, 0, 0);
	irq_node("no-phandle", "interrupts-extended", 4, 77, 0, 1, 1);
	irq_node("ext-short", "interrupts-extended", 1, 3, 0, 0, 0);
	begin("orphans");
	cells("#address-cells", 1, 1);
	cells("#size-cells", 1, 1);
	OK(fdt_property(blob, "ranges", NULL, 0));
	cells("interrupt-parent", 1, 2); /* overrides the root's GIC for the subtree */
	irq_node("inherits-non-gic", "interrupts", 1, 9, 0, 0, 0);
	irq_node("own-parent", "interrupt-parent", 1, GIC, 0, 0, 0);
	end();
	end();
	/* own-parent has interrupt-parent but no interrupts: polled, no error. */
	OK(fdt_finish(blob));
	memset(&list, 0, sizeof(list));
	CHECK(mmio_dtb_scan(blob, fdt_totalsize(blob), &list) == 11);
	CHECK(list.dev[0].irq == 32 + 987 && list.dev[0].irq_flags == 4);
	CHECK(list.dev[1].irq == 0 && list.dev[2].irq == 0);
	CHECK(list.dev[3].irq == 4096 + 5 && list.dev[3].irq_flags == 1);
	for (unsigned i = 4; i < 11; i++)
		CHECK_MSG(list.dev[i].irq == 0, "dev %u irq %u", i, list.dev[i].irq);
	CHECK(list.bad_irqs == 8);
	CHECK(list.rejected == 0);
}

static void test_malformed_blobs(void)
{
	start_tree(2, 2);
	virtio_node("virtio_mmio@a000000", 0xa000000, 16, 1);
	CHECK(finish_and_scan() == 1);
	size_t size = fdt_totalsize(blob);

	CHECK(mmio_dtb_scan(blob, size - 1, &list) == -EINVAL); /* truncated */
	CHECK(mmio_dtb_scan(blob, 39, &list) == -EINVAL);
	CHECK(mmio_dtb_scan(NULL, size, &list) == -EINVAL);
	static char copy[sizeof(blob)];
	memcpy(copy, blob, size);
	copy[0] ^= 1; /* magic */
	CHECK(mmio_dtb_scan(copy, size, &list) == -EINVAL);
	memcpy(copy, blob, size);
	((fdt32_t *)copy)[2] = cpu_to_fdt32(0x7ffffff0); /* off_dt_struct far outside */
	CHECK(mmio_dtb_scan(copy, size, &list) == -EINVAL);
	/* Every single-byte corruption is either refused or parsed within bounds. */
	for (size_t i = 0; i < size; i++) {
		memcpy(copy, blob, size);
		copy[i] ^= 0x5a;
		memset(&list, 0, sizeof(list));
		int n = mmio_dtb_scan(copy, size, &list);
		CHECK(n == -EINVAL || (n >= 0 && n <= 1 && list.count == (unsigned)n));
	}
	CHECK(mmio_dtb_boot_scan(blob, &list) >= 0);
}

static void test_too_many(void)
{
	start_tree(2, 2);
	for (int i = 0; i < MMIO_MAX_WINDOWS + 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "virtio_mmio@%x", 0xa000000 + 0x200 * i);
		virtio_node(name, 0xa000000 + 0x200 * (uint64_t)i, 16 + (uint32_t)i, 1);
	}
	CHECK(finish_and_scan() == MMIO_MAX_WINDOWS);
	CHECK(list.rejected == 3);
	CHECK(dev_is(MMIO_MAX_WINDOWS - 1, 0xa000000 + 0x200 * (MMIO_MAX_WINDOWS - 1), 0x200,
	             48 + MMIO_MAX_WINDOWS - 1, 1));
}

static int scan_files(int argc, char **argv)
{
	int failures = 0;
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		size_t n = f ? fread(blob, 1, sizeof(blob), f) : 0;
		if (f)
			fclose(f);
		memset(&list, 0, sizeof(list));
		int found = mmio_dtb_scan(blob, n, &list);
		printf("%s: %d windows, %u rejected, %u unusable interrupts\n", argv[i], found,
		       list.rejected, list.bad_irqs);
		for (unsigned j = 0; j < list.count; j++)
			printf("  %#" PRIx64 " size %#" PRIx64 " irq %u flags %u\n",
			       list.dev[j].base, list.dev[j].size, list.dev[j].irq,
			       list.dev[j].irq_flags);
		failures += found < 0;
	}
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return scan_files(argc, argv);
	test_qemu_virt();
	test_bus_ranges();
	test_bad_reg();
	test_interrupts();
	test_malformed_blobs();
	test_too_many();
	return check_report("test_mmio_dtb");
}
