/* rt/boot.c's boot_info_add_range for host builds of the boot parsers (same rule: drop empty
 * ranges and those beyond BOOT_MAX_RANGES). */
#include "arch.h"

void boot_info_add_range(struct mem_range *ranges, unsigned *count, uint64_t base, uint64_t size)
{
	if (size == 0 || *count >= BOOT_MAX_RANGES)
		return;
	ranges[(*count)++] = (struct mem_range){base, size};
}
