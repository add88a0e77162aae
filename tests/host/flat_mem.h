/*
 * Physical memory from address 0 as one host buffer, for the map hooks of
 * the boot parsers (struct boot_mem's ctx): address 0 is not mapped, as in
 * the guest, and nothing past the buffer is.
 */
#ifndef NOOS_HOST_FLAT_MEM_H
#define NOOS_HOST_FLAT_MEM_H

#include <stddef.h>
#include <stdint.h>

struct flat_mem {
	uint8_t *base;
	size_t size;
};

static inline const void *flat_mem_map(void *ctx, uint64_t phys, uint64_t len)
{
	const struct flat_mem *m = ctx;
	if (phys == 0 || phys >= m->size || len > m->size - phys)
		return NULL;
	return m->base + phys;
}

#endif
