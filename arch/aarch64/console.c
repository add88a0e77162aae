/*
 * aarch64 early console: an Arm PL011 UART (PrimeCell UART (PL011)
 * Technical Reference Manual, DDI 0183), polled. Its address comes from the
 * DTB: /chosen stdout-path, else the first enabled "arm,pl011" node. With no
 * usable UART (or no usable DTB) output goes to semihosting SYS_WRITE0 when
 * that answers (semihost.c), else nowhere.
 */
#include <libfdt.h>
#include <string.h>

#include "aarch64.h"
#include "arch.h"
#include "fdt_read.h"

#define UARTDR     0x00
#define UARTFR     0x18
#define UARTLCR_H  0x2c
#define UARTCR     0x30
#define UARTIMSC   0x38
#define UARTICR    0x44
#define PL011_SIZE 0x48 /* registers used here; the block is 4 KiB */
#define FR_BUSY    (1u << 3)
#define FR_RXFE    (1u << 4)
#define FR_TXFF    (1u << 5)
#define LCRH_FEN   (1u << 4)
#define LCRH_WLEN8 (3u << 5)
#define CR_UARTEN  (1u << 0)
#define CR_TXE     (1u << 8)
#define CR_RXE     (1u << 9)
#define ICR_ALL    0x7ff
#define SPIN_LIMIT 100000

static enum { CONSOLE_NONE, CONSOLE_PL011, CONSOLE_SEMIHOST } console_kind;
static uintptr_t uart;

/*
 * stdout-path is "path-or-alias[:options]" (DT spec 3.6). A full path also
 * gives the parent (its prefix; usually the root) that reg's cells need:
 * libfdt's fdt_parent_offset would walk the tree from the root twice, which
 * under TCG costs a fraction of a millisecond at every boot. An alias is
 * left to libfdt.
 */
static int stdout_node(const void *fdt, int *parent)
{
	int chosen = fdtr_subnode_offset_namelen(fdt, 0, "chosen", 6), len = 0;
	const char *path = chosen >= 0 ? fdtr_getprop(fdt, chosen, "stdout-path", &len) : NULL;
	if (!path || len <= 0 || strnlen(path, (size_t)len) >= (size_t)len)
		return -ENOENT;
	const char *colon = strchr(path, ':'), *last = path;
	int n = colon ? (int)(colon - path) : (int)strlen(path), node;
	for (int i = 0; i < n; i++)
		last = path[i] == '/' ? path + i + 1 : last;
	if (path[0] == '/' && last < path + n) {
		*parent = last == path + 1
		              ? 0
		              : fdtr_path_offset_namelen(fdt, path, (int)(last - 1 - path));
		node = *parent < 0 ? *parent
		                   : fdtr_subnode_offset_namelen(fdt, *parent, last,
		                                                 (int)(path + n - last));
	} else {
		node = fdtr_path_offset_namelen(fdt, path, n);
		*parent = node >= 0 ? dtb_parent(fdt, node) : node;
	}
	if (node < 0 || fdtr_node_check_compatible(fdt, node, "arm,pl011") != 0)
		return -ENOENT;
	return node;
}

static uintptr_t find_pl011(const void *fdt)
{
	int parent = -1, node = stdout_node(fdt, &parent);
	if (node < 0 || !fdtr_node_enabled(fdt, node)) {
		for (node = fdtr_node_offset_by_compatible(fdt, -1, "arm,pl011");
		     node >= 0 && !fdtr_node_enabled(fdt, node);
		     node = fdtr_node_offset_by_compatible(fdt, node, "arm,pl011"))
			;
		parent = node >= 0 ? dtb_parent(fdt, node) : node;
	}
	uint64_t base, size;
	if (node < 0 || dtb_reg_parent(fdt, node, parent, 0, &base, &size) != 0)
		return 0;
	if (size < PL011_SIZE || !dtb_range_device_mapped(base, size)) {
		dtb_errors++; /* only Device-mapped registers are safe to touch */
		return 0;
	}
	return (uintptr_t)base;
}

/*
 * 8N1, no interrupts; the baud rate stays as firmware left it (QEMU ignores
 * it). The FIFO-enable bit is kept as found: toggling it flushes the receive
 * FIFO (QEMU does too), which would lose input typed before boot.
 */
static void pl011_init(void)
{
	for (int spins = 0; (mmio_read32(uart + UARTFR) & FR_BUSY) && spins < SPIN_LIMIT; spins++)
		;
	uint32_t fifo = mmio_read32(uart + UARTLCR_H) & LCRH_FEN;
	mmio_write32(uart + UARTCR, 0);
	mmio_write32(uart + UARTLCR_H, LCRH_WLEN8 | fifo);
	mmio_write32(uart + UARTIMSC, 0);
	mmio_write32(uart + UARTICR, ICR_ALL);
	mmio_write32(uart + UARTCR, CR_UARTEN | CR_TXE | CR_RXE);
}

void arch_console_init(const struct boot_info *bi)
{
	uart = bi->dtb ? find_pl011(bi->dtb) : 0;
	if (uart) {
		console_kind = CONSOLE_PL011; /* first: console_fault_at covers pl011_init too */
		pl011_init();
	} else {
		console_kind = semihost_available() ? CONSOLE_SEMIHOST : CONSOLE_NONE;
	}
}

/*
 * A data abort on the UART's own registers (a DTB naming a UART that is not
 * there) must not recurse through the panic's output: fall back instead.
 */
void console_fault_at(uint64_t addr)
{
	if (console_kind == CONSOLE_PL011 && addr >= uart && addr - uart < PL011_SIZE) {
		console_kind = semihost_available() ? CONSOLE_SEMIHOST : CONSOLE_NONE;
		uart = 0;
	}
}

static void pl011_putc(char c)
{
	for (int spins = 0; (mmio_read32(uart + UARTFR) & FR_TXFF) && spins < SPIN_LIMIT; spins++)
		;
	mmio_write32(uart + UARTDR, (uint8_t)c);
}

/* SYS_WRITE0 takes a NUL-terminated string: send s in terminated chunks. */
static void semihost_write(const char *s, size_t len)
{
	char chunk[128];
	size_t fill = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i])
			chunk[fill++] = s[i];
		if (fill == sizeof(chunk) - 1 || i + 1 == len) {
			chunk[fill] = '\0';
			semihost_write0(chunk);
			fill = 0;
		}
	}
}

void arch_console_write(const char *s, size_t len)
{
	if (console_kind == CONSOLE_SEMIHOST) {
		semihost_write(s, len);
		return;
	}
	if (console_kind != CONSOLE_PL011)
		return;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			pl011_putc('\r');
		pl011_putc(s[i]);
	}
}

int arch_console_getc(void)
{
	if (console_kind != CONSOLE_PL011 || (mmio_read32(uart + UARTFR) & FR_RXFE))
		return -1;
	return (int)(mmio_read32(uart + UARTDR) & 0xff);
}
