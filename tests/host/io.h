/*
 * arch io.h for host builds of pci/ (tests/host, tests/fuzz): "device
 * memory" is ordinary host memory the test owns (a synthetic ECAM region),
 * reached through volatile accesses; there is no port I/O and nothing is
 * mapped, so io_map() refuses everything.
 */
#ifndef NOOS_HOST_IO_H
#define NOOS_HOST_IO_H

#include <stdint.h>

#define ARCH_HAS_PORT_IO 0

#define HOST_MMIO(bits)                                                                            \
	static inline uint##bits##_t mmio_read##bits(uintptr_t a)                                  \
	{                                                                                          \
		return *(volatile uint##bits##_t *)a;                                              \
	}                                                                                          \
	static inline void mmio_write##bits(uintptr_t a, uint##bits##_t v)                         \
	{                                                                                          \
		*(volatile uint##bits##_t *)a = v;                                                 \
	}
HOST_MMIO(8)
HOST_MMIO(16)
HOST_MMIO(32)
#undef HOST_MMIO

static inline uintptr_t io_map(uint64_t phys, uint64_t size)
{
	(void)phys, (void)size;
	return 0;
}

#endif
