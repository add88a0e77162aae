/*
 * Reading a flattened device tree without libfdt's per-byte cost.
 *
 * libfdt 1.6.1 (Debian's, linked as a binary) steps over a node's name one
 * byte at a time, each byte through fdt_offset_ptr's bounds checks, and does
 * so again on every fdt_getprop, fdt_get_name and fdt_next_node that starts
 * at a node: ~35 instructions per name byte. On QEMU virt's tree that was
 * 2.3M of the 3.4M instructions noos executed at boot (about 2 ms under
 * TCG). These readers keep libfdt's contracts (same arguments, results and
 * error codes) and read a name with one strnlen. Every offset and length is
 * still checked against the blob's blocks, so a malformed tree gets an error,
 * never a read outside it. A blob these do not handle (no FDT_MAGIC, format
 * version before 17, blocks outside totalsize) is handed to libfdt itself.
 */
#ifndef NOOS_FDT_READ_H
#define NOOS_FDT_READ_H

#include <libfdt.h>
#include <stdbool.h>
#include <stddef.h>

int fdtr_check_full(const void *fdt, size_t bufsize);
const void *fdtr_getprop(const void *fdt, int node, const char *name, int *lenp);
const char *fdtr_get_name(const void *fdt, int node, int *lenp);
int fdtr_next_node(const void *fdt, int offset, int *depth);
int fdtr_first_subnode(const void *fdt, int node);
int fdtr_next_subnode(const void *fdt, int node);
uint32_t fdtr_get_phandle(const void *fdt, int node);
int fdtr_node_offset_by_phandle(const void *fdt, uint32_t phandle);
int fdtr_subnode_offset_namelen(const void *fdt, int parent, const char *name, int n);
int fdtr_path_offset_namelen(const void *fdt, const char *path, int n);
int fdtr_path_offset(const void *fdt, const char *path);
bool fdtr_node_enabled(const void *fdt, int node);
int fdtr_node_check_compatible(const void *fdt, int node, const char *compatible);
int fdtr_node_offset_by_compatible(const void *fdt, int startoffset, const char *compatible);
int fdtr_address_cells(const void *fdt, int node);
int fdtr_size_cells(const void *fdt, int node);

/* fdt_for_each_subnode over these readers. */
#define fdtr_for_each_subnode(node, fdt, parent)                                                   \
	for (node = fdtr_first_subnode(fdt, parent); node >= 0; node = fdtr_next_subnode(fdt, node))

#endif
