/*
 * Device tree readers with libfdt's contracts and a cheaper step over node
 * names (see fdt_read.h). The structure block is a sequence of big-endian
 * 32-bit tags (Devicetree Specification v0.4 §5.4): FDT_BEGIN_NODE and its
 * NUL-terminated name padded to 4 bytes, FDT_PROP {len, nameoff} and len
 * bytes of value padded to 4, FDT_END_NODE, FDT_NOP, FDT_END. Offsets are
 * into that block, as libfdt's are.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fdt_read.h"

#define HEADER_V17  40u                /* bytes of a version 17 header (DT spec §5.2) */
#define TAGALIGN(x) (((x) + 3u) & ~3u) /* tags start on 4-byte boundaries (§5.4.1) */

/* The structure and strings blocks, checked to lie within totalsize. */
struct blocks {
	const char *st, *str;
	uint32_t st_size, str_size;
};

/* False for a blob left to libfdt: no magic, version before 17, a block outside totalsize. */
static bool blocks_of(const void *fdt, struct blocks *b)
{
	if (!fdt || fdt_magic(fdt) != FDT_MAGIC || fdt_version(fdt) < 17)
		return false;
	uint32_t total = fdt_totalsize(fdt), so = fdt_off_dt_struct(fdt),
	         to = fdt_off_dt_strings(fdt);
	b->st_size = fdt_size_dt_struct(fdt);
	b->str_size = fdt_size_dt_strings(fdt);
	if (total < HEADER_V17 || total > INT32_MAX || so > total || b->st_size > total - so ||
	    to > total || b->str_size > total - to)
		return false;
	b->st = (const char *)fdt + so;
	b->str = (const char *)fdt + to;
	return true;
}

static uint32_t be32_at(const char *p)
{
	return fdt32_ld((const fdt32_t *)p);
}

/*
 * The tag at off and, in *next, the offset after it (after a node's name or
 * a property's value, 4-byte aligned). A tag that does not fit reads as
 * FDT_END with *next = -FDT_ERR_TRUNCATED, an unknown one with
 * -FDT_ERR_BADSTRUCTURE, as libfdt's fdt_next_tag reports them.
 */
static uint32_t tag_at(const struct blocks *b, int off, int *next)
{
	*next = -FDT_ERR_TRUNCATED;
	if (off < 0 || (off & 3) != 0 || b->st_size < 4 || (uint32_t)off > b->st_size - 4)
		return FDT_END;
	uint32_t tag = be32_at(b->st + off), room = b->st_size - (uint32_t)off - 4, len;
	switch (tag) {
	case FDT_BEGIN_NODE:
		len = (uint32_t)strnlen(b->st + off + 4, room);
		if (len == room)
			return FDT_END; /* the name runs off the block */
		*next = (int)TAGALIGN((uint32_t)off + 4 + len + 1);
		return tag;
	case FDT_PROP:
		if (room < 8 || (len = be32_at(b->st + off + 4)) > room - 8)
			return FDT_END;
		*next = (int)TAGALIGN((uint32_t)off + 12 + len);
		return tag;
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		*next = off + 4;
		return tag;
	}
	*next = -FDT_ERR_BADSTRUCTURE;
	return FDT_END;
}

/* Whether the strings block holds exactly name (want bytes and a NUL) at nameoff. */
static bool string_is(const struct blocks *b, uint32_t nameoff, const char *name, size_t want)
{
	return nameoff < b->str_size && want < b->str_size - nameoff &&
	       memcmp(b->str + nameoff, name, want) == 0 && b->str[nameoff + want] == '\0';
}

static const void *no_prop(int *lenp, int err)
{
	if (lenp)
		*lenp = err;
	return NULL;
}

/* fdt_getprop: the first property called name among node's own, or NULL and *lenp < 0. */
const void *fdtr_getprop(const void *fdt, int node, const char *name, int *lenp)
{
	struct blocks b;
	int off, next;
	if (!blocks_of(fdt, &b))
		return fdt_getprop(fdt, node, name, lenp);
	if (tag_at(&b, node, &off) != FDT_BEGIN_NODE)
		return no_prop(lenp, -FDT_ERR_BADOFFSET);
	size_t want = strlen(name);
	for (uint32_t tag; (tag = tag_at(&b, off, &next)) == FDT_PROP || tag == FDT_NOP;
	     off = next) {
		if (tag == FDT_PROP && string_is(&b, be32_at(b.st + off + 8), name, want)) {
			if (lenp)
				*lenp = (int)be32_at(b.st + off + 4);
			return b.st + off + 12;
		}
	}
	return no_prop(lenp, next < 0 ? next : -FDT_ERR_NOTFOUND);
}

/* fdt_get_name: node's name (the unit address included), or NULL and *lenp < 0. */
const char *fdtr_get_name(const void *fdt, int node, int *lenp)
{
	struct blocks b;
	int next;
	if (!blocks_of(fdt, &b))
		return fdt_get_name(fdt, node, lenp);
	if (tag_at(&b, node, &next) != FDT_BEGIN_NODE)
		return no_prop(lenp, -FDT_ERR_BADOFFSET);
	const char *name = b.st + node + 4;
	if (lenp)
		*lenp = (int)strlen(name); /* NUL-terminated within the block: tag_at checked */
	return name;
}

/*
 * fdt_next_node: the node after offset in document order (offset < 0: the
 * root), *depth (if given) adjusted by the levels entered and left. With a
 * depth, leaving the level the walk started at returns the offset after that
 * node's end and *depth < 0; past the last node, -FDT_ERR_NOTFOUND.
 */
int fdtr_next_node(const void *fdt, int offset, int *depth)
{
	struct blocks b;
	int next = 0;
	if (!blocks_of(fdt, &b))
		return fdt_next_node(fdt, offset, depth);
	if (offset >= 0 && tag_at(&b, offset, &next) != FDT_BEGIN_NODE)
		return -FDT_ERR_BADOFFSET;
	for (;;) {
		int off = next;
		switch (tag_at(&b, off, &next)) {
		case FDT_BEGIN_NODE:
			if (depth)
				(*depth)++;
			return off;
		case FDT_END_NODE:
			if (depth && --(*depth) < 0)
				return next;
			break;
		case FDT_END:
			return next >= 0 || (next == -FDT_ERR_TRUNCATED && !depth)
			           ? -FDT_ERR_NOTFOUND
			           : next;
		}
	}
}

/* A property's name: a NUL-terminated string that starts inside the strings block. */
static bool name_ok(const struct blocks *b, uint32_t nameoff)
{
	return nameoff < b->str_size && memchr(b->str + nameoff, '\0', b->str_size - nameoff);
}

/*
 * One tag of the structure check: depth is the nesting, *ended set once the
 * root has closed. 1 to go on, 0 at a well-placed FDT_END, else an error.
 */
static int check_tag(const struct blocks *b, int off, int *next, int *depth, bool *ended)
{
	uint32_t tag = tag_at(b, off, next);
	if (*next < 0)
		return *next;
	if (*ended && tag != FDT_NOP && tag != FDT_END)
		return -FDT_ERR_BADSTRUCTURE; /* one root node only (DT spec §5.4.2) */
	switch (tag) {
	case FDT_BEGIN_NODE:
		if (++*depth == 1 && b->st[off + 4] != '\0')
			return -FDT_ERR_BADSTRUCTURE; /* the root's name is empty */
		return off == 0 || *depth > 1 ? 1 : -FDT_ERR_BADSTRUCTURE;
	case FDT_END_NODE:
		if (*depth == 0)
			return -FDT_ERR_BADSTRUCTURE;
		*ended = --*depth == 0;
		return 1;
	case FDT_PROP:
		if (*depth == 0)
			return -FDT_ERR_BADSTRUCTURE; /* a property outside every node */
		return name_ok(b, be32_at(b->st + off + 8)) ? 1 : -FDT_ERR_BADSTRUCTURE;
	case FDT_END:
		return *ended ? 0 : -FDT_ERR_BADSTRUCTURE;
	}
	return 1; /* FDT_NOP */
}

/*
 * fdt_check_full: the header (libfdt's fdt_check_header, within bufsize),
 * the reservation block's end, then every tag of the structure block: one
 * root with an empty name, balanced nodes, properties inside nodes with
 * names in the strings block, and FDT_END after the root. 0 or an error.
 */
int fdtr_check_full(const void *fdt, size_t bufsize)
{
	struct blocks b;
	if (bufsize < sizeof(struct fdt_header))
		return -FDT_ERR_TRUNCATED;
	int err = fdt_check_header(fdt);
	if (err)
		return err;
	if (fdt_totalsize(fdt) > bufsize)
		return -FDT_ERR_TRUNCATED;
	if (!blocks_of(fdt, &b))
		return fdt_check_full(fdt, bufsize);
	if ((err = fdt_num_mem_rsv(fdt)) < 0)
		return err;
	int off = 0, next, depth = 0;
	bool ended = false;
	while ((err = check_tag(&b, off, &next, &depth, &ended)) == 1)
		off = next;
	return err;
}

/* fdt_first_subnode: node's first child, or -FDT_ERR_NOTFOUND. */
int fdtr_first_subnode(const void *fdt, int node)
{
	int depth = 0;
	int child = fdtr_next_node(fdt, node, &depth);
	return child < 0 || depth != 1 ? -FDT_ERR_NOTFOUND : child;
}

/* fdt_next_subnode: the sibling after node (its subtree skipped), or -FDT_ERR_NOTFOUND. */
int fdtr_next_subnode(const void *fdt, int node)
{
	int depth = 1;
	do {
		node = fdtr_next_node(fdt, node, &depth);
		if (node < 0 || depth < 1)
			return -FDT_ERR_NOTFOUND;
	} while (depth > 1);
	return node;
}

/* fdt_get_phandle: "phandle", else the older "linux,phandle" (DT spec §2.3.3); 0 for none. */
uint32_t fdtr_get_phandle(const void *fdt, int node)
{
	int len;
	const fdt32_t *p = fdtr_getprop(fdt, node, "phandle", &len);
	if (!p || len != 4)
		p = fdtr_getprop(fdt, node, "linux,phandle", &len);
	return p && len == 4 ? fdt32_ld(p) : 0;
}

/* fdt_node_offset_by_phandle: the node with that phandle, or a negative libfdt error. */
int fdtr_node_offset_by_phandle(const void *fdt, uint32_t phandle)
{
	if (phandle == 0 || phandle == UINT32_MAX)
		return -FDT_ERR_BADPHANDLE;
	int node = fdtr_next_node(fdt, -1, NULL);
	while (node >= 0 && fdtr_get_phandle(fdt, node) != phandle)
		node = fdtr_next_node(fdt, node, NULL);
	return node;
}

/*
 * Whether a node called full matches a path component of n bytes: exactly,
 * or, for a component without a unit address, full's name before its '@'
 * (DT spec §2.2.3, as libfdt matches).
 */
static bool component_is(const char *full, const char *name, int n)
{
	size_t want = (size_t)n;
	if (strncmp(full, name, want) != 0 || strnlen(full, want) < want)
		return false;
	return full[want] == '\0' || (full[want] == '@' && !memchr(name, '@', want));
}

/* fdt_subnode_offset_namelen: parent's child called name (n bytes), or a negative error. */
int fdtr_subnode_offset_namelen(const void *fdt, int parent, const char *name, int n)
{
	int child;
	fdtr_for_each_subnode(child, fdt, parent)
	{
		const char *full = fdtr_get_name(fdt, child, NULL);
		if (full && component_is(full, name, n))
			return child;
	}
	return child;
}

/*
 * fdt_path_offset_namelen for a full path ("/a/b@1", n bytes); anything
 * else (an alias) is libfdt's to resolve through /aliases.
 */
int fdtr_path_offset_namelen(const void *fdt, const char *path, int n)
{
	const char *p = path, *end = path + n;
	int node = 0;
	if (n <= 0 || path[0] != '/')
		return fdt_path_offset_namelen(fdt, path, n);
	for (;;) {
		while (p < end && *p == '/')
			p++;
		if (p == end)
			return node;
		const char *q = memchr(p, '/', (size_t)(end - p));
		q = q ? q : end;
		node = fdtr_subnode_offset_namelen(fdt, node, p, (int)(q - p));
		if (node < 0)
			return node;
		p = q;
	}
}

/* fdt_path_offset. */
int fdtr_path_offset(const void *fdt, const char *path)
{
	return fdtr_path_offset_namelen(fdt, path, (int)strlen(path));
}

/* Whether node is enabled: status absent, "okay" or "ok" (DT spec §2.3.4). */
bool fdtr_node_enabled(const void *fdt, int node)
{
	int len;
	const char *s = fdtr_getprop(fdt, node, "status", &len);
	if (!s)
		return true;
	if (len <= 0 || strnlen(s, (size_t)len) >= (size_t)len)
		return false;
	return strcmp(s, "okay") == 0 || strcmp(s, "ok") == 0;
}

/* fdt_node_check_compatible: 0 if node's compatible list holds the string, 1 if not, < 0. */
int fdtr_node_check_compatible(const void *fdt, int node, const char *compatible)
{
	int len;
	const void *list = fdtr_getprop(fdt, node, "compatible", &len);
	if (!list)
		return len;
	return fdt_stringlist_contains(list, len, compatible) ? 0 : 1;
}

/* fdt_node_offset_by_compatible: the next node after startoffset (-1: all) compatible with it. */
int fdtr_node_offset_by_compatible(const void *fdt, int startoffset, const char *compatible)
{
	int node = fdtr_next_node(fdt, startoffset, NULL);
	for (; node >= 0; node = fdtr_next_node(fdt, node, NULL)) {
		int err = fdtr_node_check_compatible(fdt, node, compatible);
		if (err == 0)
			return node;
		if (err < 0 && err != -FDT_ERR_NOTFOUND)
			return err;
	}
	return node;
}

/* A #...-cells property: its value (at most FDT_MAX_NCELLS), or libfdt's error. */
static int cells(const void *fdt, int node, const char *name)
{
	int len;
	const fdt32_t *c = fdtr_getprop(fdt, node, name, &len);
	if (!c)
		return len;
	if (len != 4 || fdt32_ld(c) > FDT_MAX_NCELLS)
		return -FDT_ERR_BADNCELLS;
	return (int)fdt32_ld(c);
}

/* fdt_address_cells: 2 when absent (DT spec §2.3.5), -FDT_ERR_BADNCELLS for 0 or a bad value. */
int fdtr_address_cells(const void *fdt, int node)
{
	int n = cells(fdt, node, "#address-cells");
	return n == 0 ? -FDT_ERR_BADNCELLS : n == -FDT_ERR_NOTFOUND ? 2 : n;
}

/* fdt_size_cells: 1 when absent (DT spec §2.3.5). */
int fdtr_size_cells(const void *fdt, int node)
{
	int n = cells(fdt, node, "#size-cells");
	return n == -FDT_ERR_NOTFOUND ? 1 : n;
}
