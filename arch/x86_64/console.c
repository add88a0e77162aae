/* x86_64 early console: the 16550 UART at COM1 (I/O port 0x3f8), polled. */
#include "arch.h"
#include "x86.h"

#define COM1     0x3f8
#define UART_THR 0 /* transmit holding register (write) */
#define UART_RBR 0 /* receive buffer (read) */
#define UART_IER 1
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DR   0x01 /* data ready */
#define LSR_THRE 0x20 /* transmit holding register empty */

static bool uart_present;

void arch_console_init(const struct boot_info *bi)
{
	(void)bi;
	outb(COM1 + UART_IER, 0x00); /* polled: no UART interrupts yet */
	outb(COM1 + UART_LCR, 0x03); /* 8N1, DLAB clear */
	/*
	 * FCR is left alone: toggling its FIFO-enable bit empties the receive
	 * FIFO (QEMU does so too), which would lose input typed before boot.
	 */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
	/* No UART answers 0xff on LSR; then writes are dropped instead of spinning forever. */
	uart_present = inb(COM1 + UART_LSR) != 0xff;
}

static void uart_putc(char c)
{
	for (int spins = 0; !(inb(COM1 + UART_LSR) & LSR_THRE) && spins < 100000; spins++)
		__asm__ volatile("pause");
	outb(COM1 + UART_THR, (uint8_t)c);
}

void arch_console_write(const char *s, size_t len)
{
	if (!uart_present)
		return;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

int arch_console_getc(void)
{
	if (!uart_present || !(inb(COM1 + UART_LSR) & LSR_DR))
		return -1;
	return inb(COM1 + UART_RBR);
}
