/*
 * rt/fdt_read.c against libfdt itself (the host's libfdt1): on every DTB
 * given as an argument (QEMU virt's, from tests/fuzz/dtb_seeds), each reader
 * must give libfdt's answer for every node, property, phandle and path. Then
 * the structure check must refuse every blob libfdt's fdt_check_full refuses
 * when one structure word is overwritten, and never read outside the blob
 * (the test runs under AddressSanitizer).
 */
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fdt_read.h"

#define MAX_DEPTH 32

static char *load(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(4 << 20);
	*size = fread(buf, 1, 4 << 20, f);
	fclose(f);
	return buf;
}

/* Every property of node, looked up by name both ways, and one that is absent. */
static void check_props(const void *fdt, int node)
{
	int prop, len, rlen;
	fdt_for_each_property_offset(prop, fdt, node)
	{
		const char *name;
		const void *want = fdt_getprop_by_offset(fdt, prop, &name, &len);
		const void *first = fdt_getprop(fdt, node, name, &len); /* the first of that name */
		const void *got = fdtr_getprop(fdt, node, name, &rlen);
		CHECK_MSG(want && got == first && rlen == len, "node %d property %s", node, name);
	}
	CHECK(!fdtr_getprop(fdt, node, "no-such-property", &rlen) &&
	      !fdt_getprop(fdt, node, "no-such-property", &len) && rlen == len);
	CHECK(fdtr_address_cells(fdt, node) == fdt_address_cells(fdt, node));
	CHECK(fdtr_size_cells(fdt, node) == fdt_size_cells(fdt, node));
	CHECK(fdtr_get_phandle(fdt, node) == fdt_get_phandle(fdt, node));
	static const char *const compat[] = {"virtio,mmio", "arm,pl011", "arm,gic-v3", "nope"};
	for (int i = 0; i < 4; i++)
		CHECK(fdtr_node_check_compatible(fdt, node, compat[i]) ==
		      fdt_node_check_compatible(fdt, node, compat[i]));
}

/* Name, children, phandle and path of one node, both ways. */
static void check_node(const void *fdt, int node, const char *path)
{
	int len, rlen;
	const char *name = fdt_get_name(fdt, node, &len), *rname = fdtr_get_name(fdt, node, &rlen);
	CHECK_MSG(name == rname && len == rlen, "name of node %d", node);
	CHECK(fdtr_first_subnode(fdt, node) == fdt_first_subnode(fdt, node));
	int child = fdt_first_subnode(fdt, node);
	if (child >= 0)
		CHECK(fdtr_next_subnode(fdt, child) == fdt_next_subnode(fdt, child));
	uint32_t ph = fdt_get_phandle(fdt, node);
	if (ph)
		CHECK(fdtr_node_offset_by_phandle(fdt, ph) == fdt_node_offset_by_phandle(fdt, ph));
	CHECK_MSG(fdtr_path_offset(fdt, path) == fdt_path_offset(fdt, path), "path %s", path);
	const char *at = strrchr(path, '@');
	if (at && !strchr(at, '/')) /* the last component without its unit address */
		CHECK(fdtr_path_offset_namelen(fdt, path, (int)(at - path)) ==
		      fdt_path_offset_namelen(fdt, path, (int)(at - path)));
	check_props(fdt, node);
}

/*
 * The whole tree in document order: libfdt's and fdtr's walks in step. The
 * depth starts at -1 (the root at 0, as gic_dtb_scan walks), so the walk
 * ends on leaving the root: an offset >= 0 and depth -1.
 */
static void check_walk(const void *fdt)
{
	char path[MAX_DEPTH][256] = {{0}};
	int depth = -1, rdepth = -1, node = -1, rnode = -1;
	for (;;) {
		node = fdt_next_node(fdt, node, &depth);
		rnode = fdtr_next_node(fdt, rnode, &rdepth);
		CHECK_MSG(node == rnode && depth == rdepth, "walk: %d/%d vs %d/%d", node, depth, rnode,
		          rdepth);
		if (node < 0 || depth < 0 || depth >= MAX_DEPTH || node != rnode)
			return;
		const char *name = fdt_get_name(fdt, node, NULL);
		if (depth == 0)
			strcpy(path[0], "/");
		else
			snprintf(path[depth], sizeof(path[0]), "%s%s%s", path[depth - 1],
			         depth > 1 ? "/" : "", name);
		check_node(fdt, node, path[depth]);
	}
}

/* Each structure word overwritten in turn: fdtr refuses whatever libfdt refuses. */
static void check_corrupt(const char *blob)
{
	size_t total = fdt_totalsize(blob), off = fdt_off_dt_struct(blob);
	size_t words = fdt_size_dt_struct(blob) / 4;
	static const uint32_t bad[] = {0xdeadbeef, FDT_END, FDT_END_NODE, FDT_BEGIN_NODE, 0x7fffffff};
	char *copy = malloc(total);
	for (size_t w = 0; w < words; w++) {
		for (size_t b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
			memcpy(copy, blob, total);
			fdt32_st(copy + off + 4 * w, bad[b]);
			int lib = fdt_check_full(copy, total), ours = fdtr_check_full(copy, total);
			CHECK_MSG(lib == 0 || ours != 0, "word %zu = %#x: libfdt refuses, fdtr accepts", w,
			          bad[b]);
			if (ours == 0 && w % 16 == 0)
				check_walk(copy); /* accepted: the readers still agree with libfdt */
		}
	}
	free(copy);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		size_t size;
		char *blob = load(argv[i], &size);
		CHECK_MSG(blob, "cannot read %s", argv[i]);
		if (!blob || fdt_version(blob) < 17) { /* older formats go to libfdt unchanged */
			free(blob);
			continue;
		}
		CHECK_MSG(fdtr_check_full(blob, size) == 0 && fdt_check_full(blob, size) == 0, "%s",
		          argv[i]);
		CHECK(fdtr_check_full(blob, fdt_totalsize(blob) - 1) == -FDT_ERR_TRUNCATED);
		check_walk(blob);
		CHECK(fdtr_node_offset_by_compatible(blob, -1, "virtio,mmio") ==
		      fdt_node_offset_by_compatible(blob, -1, "virtio,mmio"));
		if (i == 1)
			check_corrupt(blob);
		free(blob);
	}
	CHECK(argc > 1);
	return check_report("fdt_read");
}
