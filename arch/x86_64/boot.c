/*
 * x86_64 boot information: translate the PVH start info or the multiboot2
 * information structure into struct boot_info, then hand over to rt_boot().
 */
#include "arch.h"
#include "x86.h"

#define BOOT_PVH        1
#define BOOT_MULTIBOOT2 2

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
	uint32_t size;
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

/* Only the low 4 GiB are mapped while booting; boot data beyond it is ignored. */
#define BOOT_MAPPED_LIMIT (4ull << 30)

static struct boot_info boot_info;

uint64_t arch_mapped_limit(void)
{
	return BOOT_MAPPED_LIMIT; /* entry.S maps the first 4 GiB with 2 MiB pages */
}

static bool boot_ptr_ok(uint64_t paddr, uint64_t len)
{
	return paddr != 0 && paddr < BOOT_MAPPED_LIMIT && len <= BOOT_MAPPED_LIMIT - paddr;
}

static void reserve(uint64_t base, uint64_t size)
{
	boot_info_add_range(boot_info.reserved, &boot_info.reserved_count, base, size);
}

/* Length of the PVH command line, bounded so an unterminated one cannot run off the map. */
static uint64_t pvh_cmdline_len(uint64_t paddr)
{
	const char *s = (const char *)(uintptr_t)paddr;
	uint64_t n = 0;
	while (n < 65536 && paddr + n < BOOT_MAPPED_LIMIT && s[n])
		n++;
	return n;
}

static void parse_pvh(const struct hvm_start_info *si)
{
	boot_info.protocol = "pvh";
	if (!boot_ptr_ok((uintptr_t)si, sizeof(*si)) || si->magic != HVM_START_MAGIC)
		return;
	reserve((uintptr_t)si, sizeof(*si));
	if (boot_ptr_ok(si->cmdline_paddr, 1)) {
		boot_info.cmdline = (const char *)(uintptr_t)si->cmdline_paddr;
		/* QEMU puts it in low RAM; rt_boot reads it after the page allocator starts. */
		reserve(si->cmdline_paddr, pvh_cmdline_len(si->cmdline_paddr) + 1);
	}
	boot_info.acpi_rsdp = si->rsdp_paddr;
	if (si->version < 1 ||
	    !boot_ptr_ok(si->memmap_paddr, si->memmap_entries * sizeof(struct hvm_memmap_entry)))
		return;
	const struct hvm_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		if (e[i].type == E820_RAM)
			boot_info_add_range(boot_info.ram, &boot_info.ram_count, e[i].addr,
			                    e[i].size);
}

static void parse_mb2_mmap(const struct mb2_tag *tag)
{
	const uint32_t *hdr = (const uint32_t *)(tag + 1); /* entry_size, entry_version */
	uint32_t entry_size = hdr[0];
	if (entry_size < sizeof(struct mb2_mmap_entry))
		return;
	const char *p = (const char *)(hdr + 2);
	const char *end = (const char *)tag + tag->size;
	for (; p + entry_size <= end; p += entry_size) {
		const struct mb2_mmap_entry *e = (const void *)p;
		if (e->type == 1)
			boot_info_add_range(boot_info.ram, &boot_info.ram_count, e->base_addr,
			                    e->length);
	}
}

static void parse_multiboot2(const void *info)
{
	boot_info.protocol = "multiboot2";
	if (!boot_ptr_ok((uintptr_t)info, 8))
		return;
	uint32_t total = *(const uint32_t *)info;
	if (total < 8 || !boot_ptr_ok((uintptr_t)info, total))
		return;
	reserve((uintptr_t)info, total);
	const char *p = (const char *)info + 8, *end = (const char *)info + total;
	while (p + sizeof(struct mb2_tag) <= end) {
		const struct mb2_tag *tag = (const void *)p;
		if (tag->type == MB2_TAG_END || tag->size < sizeof(*tag) || tag->size > end - p)
			break;
		if (tag->type == MB2_TAG_CMDLINE)
			boot_info.cmdline = (const char *)(tag + 1);
		else if (tag->type == MB2_TAG_MMAP)
			parse_mb2_mmap(tag);
		else if (tag->type == MB2_TAG_ACPI_OLD || tag->type == MB2_TAG_ACPI_NEW)
			boot_info.acpi_rsdp = (uintptr_t)(tag + 1); /* a copy of the RSDP */
		p += (tag->size + 7) & ~7u;
	}
}

void arch_boot(uint32_t protocol, uint32_t info) __attribute__((noreturn));
void arch_boot(uint32_t protocol, uint32_t info)
{
	boot_info.cmdline = "";
	arch_console_init(&boot_info);
	if (protocol == BOOT_PVH)
		parse_pvh((const void *)(uintptr_t)info);
	else
		parse_multiboot2((const void *)(uintptr_t)info);
	reserve((uintptr_t)__image_start, (uintptr_t)__image_end - (uintptr_t)__image_start);
	reserve(0, 4096);            /* real-mode IVT/BDA page; also keeps the null page out */
	platform_save_bda();         /* the BIOS data area's EBDA pointer, for the ACPI/MP scans */
	x86_smp_reserve(&boot_info); /* the AP start-up page below 1 MiB (smp.c) */
	arch_trap_init();
	rt_boot(&boot_info);
}
