/*
 * PVH start info and multiboot2 information into struct boot_info (see
 * bootinfo.h). Structures are copied out of memory with memcpy before their
 * fields are read, so a misaligned or truncated one cannot fault.
 */
#include <string.h>

#include "acpi_reg.h"
#include "bootinfo.h"

/* PVH start info, xen/include/public/arch-x86/hvm/start_info.h (version 1). */
#define HVM_START_MAGIC 0x336ec578
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};
struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* 1 = RAM, as in the E820 map */
	uint32_t reserved;
};
#define E820_RAM 1

/* Multiboot2 boot information, multiboot2 spec 3.6. */
struct mb2_tag {
	uint32_t type;
	uint32_t size; /* of the tag with this header, without the padding to 8 bytes */
};
#define MB2_TAG_END      0
#define MB2_TAG_CMDLINE  1
#define MB2_TAG_MMAP     6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
struct mb2_mmap_entry {
	uint64_t base_addr;
	uint64_t length;
	uint32_t type; /* 1 = available RAM */
	uint32_t zero;
};
#define MB2_MMAP_HEADER 8 /* entry_size, entry_version (3.6.8) */

/* A copy of [phys, phys + len) in out: 0, or 1 (one malformed part) when it is not readable. */
static unsigned copy_in(const struct boot_mem *m, uint64_t phys, void *out, uint64_t len)
{
	const void *p = m->map(m->ctx, phys, len);
	if (!p)
		return 1;
	memcpy(out, p, len);
	return 0;
}

/* A RAM range, unless it wraps around the address space (then it is malformed). */
static unsigned add_ram(struct boot_info *bi, uint64_t base, uint64_t size)
{
	if (size > UINT64_MAX - base)
		return 1;
	boot_info_add_range(bi->ram, &bi->ram_count, base, size);
	return 0;
}

/* The PVH command line: NUL-terminated within BOOTINFO_CMDLINE_MAX bytes, or malformed. */
static unsigned pvh_cmdline(const struct boot_mem *m, uint64_t at, struct boot_info *bi)
{
	if (at == 0)
		return 0; /* none given */
	for (uint64_t n = 0; n < BOOTINFO_CMDLINE_MAX; n++) {
		const char *c = m->map(m->ctx, at + n, 1);
		if (!c)
			return 1;
		if (*c != '\0')
			continue;
		const char *s = m->map(m->ctx, at, n + 1);
		if (!s)
			return 1;
		bi->cmdline = s;
		/* QEMU puts it in low RAM; rt_boot reads it after the page allocator starts. */
		boot_info_add_range(bi->reserved, &bi->reserved_count, at, n + 1);
		return 0;
	}
	return 1;
}

/* The version 1 memory map: its RAM entries. */
static unsigned pvh_memmap(const struct boot_mem *m, const struct hvm_start_info *si,
                           struct boot_info *bi)
{
	uint64_t len = (uint64_t)si->memmap_entries * sizeof(struct hvm_memmap_entry);
	if (si->memmap_entries == 0)
		return 0;
	const char *map = m->map(m->ctx, si->memmap_paddr, len);
	if (!map)
		return 1;
	unsigned bad = 0;
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		struct hvm_memmap_entry e;
		memcpy(&e, map + i * sizeof(e), sizeof(e));
		if (e.type == E820_RAM)
			bad += add_ram(bi, e.addr, e.size);
	}
	return bad;
}

unsigned bootinfo_parse_pvh(const struct boot_mem *m, uint64_t info, struct boot_info *bi)
{
	struct hvm_start_info si;
	bi->protocol = "pvh";
	if (copy_in(m, info, &si, sizeof(si)) || si.magic != HVM_START_MAGIC)
		return 1;
	boot_info_add_range(bi->reserved, &bi->reserved_count, info, sizeof(si));
	unsigned bad = pvh_cmdline(m, si.cmdline_paddr, bi);
	bi->acpi_rsdp = si.rsdp_paddr;
	if (si.version < 1)
		return bad; /* no memory map before version 1 */
	return bad + pvh_memmap(m, &si, bi);
}

/* The memory map tag's body (len bytes at body): the header, then entry_size-byte entries. */
static unsigned mb2_mmap(const struct boot_mem *m, uint64_t body, uint64_t len,
                         struct boot_info *bi)
{
	uint32_t hdr[2]; /* entry_size, entry_version */
	if (len < MB2_MMAP_HEADER || copy_in(m, body, hdr, sizeof(hdr)))
		return 1;
	uint32_t entry_size = hdr[0];
	/* 3.6.8: entry_size is a multiple of 8 and at least this version's entry. */
	if (entry_size < sizeof(struct mb2_mmap_entry) || entry_size % 8 != 0)
		return 1;
	unsigned bad = (len - MB2_MMAP_HEADER) % entry_size != 0; /* a partial last entry */
	for (uint64_t off = MB2_MMAP_HEADER; off + entry_size <= len; off += entry_size) {
		struct mb2_mmap_entry e;
		if (copy_in(m, body + off, &e, sizeof(e)))
			return bad + 1;
		if (e.type == 1)
			bad += add_ram(bi, e.base_addr, e.length);
	}
	return bad;
}

/* The command line tag (3.6.3): a NUL-terminated string that must end inside the tag. */
static unsigned mb2_cmdline(const struct boot_mem *m, uint64_t body, uint64_t len,
                            struct boot_info *bi)
{
	const char *s = len ? m->map(m->ctx, body, len) : NULL;
	if (!s || strnlen(s, len) == len)
		return 1;
	bi->cmdline = s;
	return 0;
}

/* One tag at physical address at; tag->size is known to fit the information structure. */
static unsigned mb2_tag(const struct boot_mem *m, uint64_t at, const struct mb2_tag *tag,
                        struct boot_info *bi)
{
	uint64_t body = at + sizeof(*tag), len = tag->size - sizeof(*tag);
	switch (tag->type) {
	case MB2_TAG_CMDLINE:
		return mb2_cmdline(m, body, len, bi);
	case MB2_TAG_MMAP:
		return mb2_mmap(m, body, len, bi);
	case MB2_TAG_ACPI_OLD: /* 3.6.14/15: a copy of the RSDP, whole */
	case MB2_TAG_ACPI_NEW:
		if (len < (tag->type == MB2_TAG_ACPI_OLD ? RSDP_V1_LENGTH : RSDP_V2_MIN_LENGTH))
			return 1;
		bi->acpi_rsdp = body;
		return 0;
	}
	return 0; /* a tag noos does not use */
}

unsigned bootinfo_parse_multiboot2(const struct boot_mem *m, uint64_t info, struct boot_info *bi)
{
	uint32_t total;
	bi->protocol = "multiboot2";
	if (copy_in(m, info, &total, sizeof(total)) || total < 8 || !m->map(m->ctx, info, total))
		return 1;
	boot_info_add_range(bi->reserved, &bi->reserved_count, info, total);
	unsigned bad = 0;
	for (uint64_t off = 8; off + sizeof(struct mb2_tag) <= total;) {
		struct mb2_tag tag;
		if (copy_in(m, info + off, &tag, sizeof(tag)))
			return bad + 1;
		if (tag.type == MB2_TAG_END)
			break;
		if (tag.size < sizeof(tag) || tag.size > total - off)
			return bad + 1;
		bad += mb2_tag(m, info + off, &tag, bi);
		off += (tag.size + 7ull) & ~7ull; /* tags start 8-byte aligned */
	}
	return bad;
}
