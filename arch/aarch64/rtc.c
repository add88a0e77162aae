/*
 * Wall-clock time from an Arm PL031 real-time clock (PrimeCell Real Time
 * Clock (PL031) Technical Reference Manual, DDI 0224), the first enabled
 * "arm,pl031" node of the DTB. RTCDR counts seconds since the epoch QEMU
 * sets it to (the host's UTC by default). It is read once, on first use;
 * after that the monotonic clock carries it.
 */
#include <libfdt.h>

#include "aarch64.h"
#include "fdt_read.h"
#include "rt.h"

#define RTCDR      0x000 /* data register: the current count, in seconds (TRM 3.3.1) */
#define PL031_SIZE 0x1000
#define PCELL_ID0  0xff0 /* PrimeCell identification registers (TRM 3.3.11) */

/* The PrimeCell ID bytes 0x0d, 0xf0, 0x05, 0xb1 and PL031's part number 0x031 (TRM 3.3.10-11). */
static bool is_pl031(uintptr_t base)
{
	static const uint8_t cell[4] = {0x0d, 0xf0, 0x05, 0xb1};
	for (unsigned i = 0; i < 4; i++)
		if ((mmio_read32(base + PCELL_ID0 + 4 * i) & 0xff) != cell[i])
			return false;
	uint32_t part = (mmio_read32(base + 0xfe0) & 0xff) | (mmio_read32(base + 0xfe4) & 0xf) << 8;
	return part == 0x031;
}

int arch_rtc_read(int64_t *unix_sec)
{
	const void *fdt = platform_fdt;
	int node = fdt ? fdtr_node_offset_by_compatible(fdt, -1, "arm,pl031") : -1;
	while (node >= 0 && !fdtr_node_enabled(fdt, node))
		node = fdtr_node_offset_by_compatible(fdt, node, "arm,pl031");
	uint64_t base, size;
	if (node < 0 || dtb_reg(fdt, node, 0, &base, &size) != 0 || size < PL031_SIZE ||
	    !dtb_range_device_mapped(base, PL031_SIZE))
		return -ENODEV;
	if (!is_pl031(base))
		return -EIO;
	*unix_sec = mmio_read32(base + RTCDR);
	return 0;
}
