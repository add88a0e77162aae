/*
 * Device tree helpers over libfdt (Devicetree Specification v0.4). The DTB
 * comes from outside the VM, so it is validated as a whole once
 * (dtb_validate) and every helper still checks lengths and cell counts and
 * returns an error instead of trusting a property.
 */
#include <libfdt.h>
#include <string.h>

#include "aarch64.h"
#include "arch.h"
#include "fdt_parents.h"
#include "fdt_read.h"

/*
 * booting.rst caps the DTB at 2 MiB for Linux, but QEMU's -dtb loader pads a
 * blob to twice its file size (a 1 MiB file becomes a 2 MiB + 20 KB tree), so
 * the sanity bound is looser: a totalsize beyond it is corruption.
 */
#define DTB_MAX_SIZE (16u << 20)

unsigned dtb_errors;

/* Parents recorded by the one full walk boot makes (gic_dtb_scan); see fdt_parents.h. */
static struct fdt_parents parents;

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* A totalsize within avail bytes and the sanity bound. */
static bool size_ok(const void *fdt, size_t avail)
{
	return fdt_totalsize(fdt) >= sizeof(struct fdt_header) &&
	       fdt_totalsize(fdt) <= DTB_MAX_SIZE && fdt_totalsize(fdt) <= avail;
}

/*
 * The blob on its own, wherever it is: its magic, a totalsize within avail
 * bytes and the sanity bound, then the header, its version (16 or later;
 * QEMU writes 17) and the full structure check (fdtr_check_full, libfdt's
 * contract without its per-byte cost: ~0.3 ms of boot). dtb_validate adds the
 * address checks; the host fuzzers call this directly. 0, or -EINVAL and
 * *why.
 */
int dtb_check_blob(const void *fdt, size_t avail, const char **why)
{
	*why = NULL;
	parents.fdt = NULL; /* a blob checked anew may be another one at the same address */
	if (fdt_magic(fdt) != FDT_MAGIC)
		*why = "bad magic";
	else if (!size_ok(fdt, avail))
		*why = "totalsize out of range";
	else if (fdt_check_header(fdt) != 0)
		*why = "bad header";
	/* Before 16 nodes were named by path: libfdt 1.6.1's fdt_check_full then follows the NULL
	 * name fdt_get_name returns for a root named otherwise (found by fuzz_dtb_boot). */
	else if (fdt_version(fdt) < 16)
		*why = "format version before 16";
	else if (fdtr_check_full(fdt, fdt_totalsize(fdt)) != 0)
		*why = "malformed structure";
	return *why ? -EINVAL : 0;
}

/* 0 if fdt is a usable DTB; else -errno and *why says what is wrong with it. */
int dtb_validate(const void *fdt, const char **why)
{
	uintptr_t p = (uintptr_t)fdt;
	*why = NULL;
	if (p == 0 || (p & 7) != 0)
		*why = "no DTB address in x0, or not 8-byte aligned";
	else if (p < BOOT_NORMAL_BASE || p > BOOT_NORMAL_END - sizeof(struct fdt_header))
		*why = "DTB outside RAM";
	/* The image check before the structure walk: an overlapped DTB is damaged anyway. */
	else if (fdt_magic(fdt) == FDT_MAGIC && size_ok(fdt, BOOT_NORMAL_END - p) &&
	         overlaps(p, fdt_totalsize(fdt), (uintptr_t)__image_start,
	                  (uintptr_t)(__image_end - __image_start)))
		*why = "DTB overlaps the image (more guest memory?)";
	else
		return dtb_check_blob(fdt, BOOT_NORMAL_END - p, why);
	return -EINVAL;
}

/* Whether [base, base + size) lies in a window the boot map has as Device memory. */
bool dtb_range_device_mapped(uint64_t base, uint64_t size)
{
	if (size == 0 || base + size < base)
		return false;
	return base + size <= BOOT_DEVICE_LOW_END ||
	       (base >= BOOT_NORMAL_END && base + size <= BOOT_DEVICE_HIGH_END);
}

void dtb_parent_record(const void *fdt, int node, int parent)
{
	fdt_parents_add(&parents, fdt, node, parent);
}

int dtb_parent(const void *fdt, int node)
{
	int parent;
	return fdt_parents_find(&parents, fdt, node, &parent) ? parent
	                                                      : fdt_parent_offset(fdt, node);
}

static uint64_t read_cells(const fdt32_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 32) | fdt32_to_cpu(p[i]);
	return v;
}

/* #address-cells and #size-cells of node's children, limited to what fits in 64 bits. */
static int child_cells(const void *fdt, int node, int *ac, int *sc)
{
	*ac = fdtr_address_cells(fdt, node);
	*sc = fdtr_size_cells(fdt, node);
	return (*ac < 1 || *ac > 2 || *sc < 0 || *sc > 2) ? -EINVAL : 0;
}

/* One level of "ranges" (DT spec 2.3.8): a child-bus address of bus into its parent's space. */
static int translate_one(const void *fdt, int bus, int parent, uint64_t *addr, uint64_t size)
{
	int len, cac, csc, pac, psc;
	const fdt32_t *r = fdtr_getprop(fdt, bus, "ranges", &len);
	if (!r)
		return -ENOENT; /* no ranges: the bus is not memory-mapped */
	if (len == 0)
		return 0; /* empty: identity */
	if (child_cells(fdt, bus, &cac, &csc) || child_cells(fdt, parent, &pac, &psc))
		return -EINVAL;
	int n = cac + pac + csc;
	for (int off = 0; (off + n) * 4 <= len; off += n) {
		uint64_t child = read_cells(r + off, cac), par = read_cells(r + off + cac, pac);
		uint64_t span = read_cells(r + off + cac + pac, csc);
		if (*addr >= child && *addr - child < span && size <= span - (*addr - child)) {
			*addr = *addr - child + par;
			return 0;
		}
	}
	return -ERANGE;
}

/* Translate a reg address of bus's children up to the root (CPU physical addresses). */
static int translate(const void *fdt, int bus, uint64_t *addr, uint64_t size)
{
	for (int depth = 0; bus > 0; depth++) {
		int parent = dtb_parent(fdt, bus);
		if (parent < 0 || depth > 16)
			return -EINVAL;
		int err = translate_one(fdt, bus, parent, addr, size);
		if (err)
			return err;
		bus = parent;
	}
	return 0;
}

/*
 * The index-th (base, size) of node's "reg", as a CPU physical address.
 * -ENOENT past the last entry (or without reg); other errors mean malformed.
 */
int dtb_reg(const void *fdt, int node, int index, uint64_t *base, uint64_t *size)
{
	return dtb_reg_parent(fdt, node, dtb_parent(fdt, node), index, base, size);
}

/* dtb_reg for a caller that knows node's parent. */
int dtb_reg_parent(const void *fdt, int node, int parent, int index, uint64_t *base, uint64_t *size)
{
	int ac, sc, len;
	if (parent < 0 || child_cells(fdt, parent, &ac, &sc))
		return -EINVAL;
	const fdt32_t *reg = fdtr_getprop(fdt, node, "reg", &len);
	if (!reg)
		return -ENOENT;
	int n = ac + sc;
	if (len < 0 || len % (n * 4) != 0)
		return -EINVAL;
	if (index < 0 || index >= len / (n * 4))
		return -ENOENT;
	reg += index * n;
	*base = read_cells(reg, ac);
	*size = read_cells(reg + ac, sc);
	if (*base + *size < *base)
		return -ERANGE;
	return translate(fdt, parent, base, *size);
}
