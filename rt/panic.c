/*
 * Panic: the message, registers and a backtrace of return addresses on the
 * console, then exit with PANIC_EXIT_STATUS. `./noos run` symbolizes the
 * "  #N 0x..." lines it sees after a "PANIC:" line: an address marked "(pc)"
 * is the faulting instruction itself, the others are return addresses.
 */
#include "rt.h"

#define BACKTRACE_MAX 32

static volatile int panicking;

/*
 * Interrupts off and the console lock ignored (its holder may be what broke).
 * A panic inside a panic prints one line and stops, instead of recursing.
 * Then the message.
 */
static void panic_enter(const char *fmt, va_list ap)
{
	arch_irq_disable();
	console_panic_mode();
	if (__atomic_exchange_n(&panicking, 1, __ATOMIC_SEQ_CST)) {
		console_write("\nPANIC: nested panic\n", 21);
		arch_exit(PANIC_EXIT_STATUS);
	}
	printf("\nPANIC: ");
	vprintf(fmt, ap);
}

void backtrace_print(uintptr_t first_pc, uintptr_t fp)
{
	int n = 0;
	printf("backtrace:\n");
	if (first_pc)
		printf("  #%d %#lx (pc)\n", n++, (unsigned long)first_pc);
	uintptr_t ret;
	while (n < BACKTRACE_MAX && arch_frame_next(&fp, &ret))
		printf("  #%d %#lx\n", n++, (unsigned long)ret);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	panic_enter(fmt, ap);
	va_end(ap);
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	printf("\n  caller %p  fp %#lx  sp %p\n", __builtin_return_address(0), (unsigned long)fp,
	       (void *)&fp);
	backtrace_print(0, fp);
	arch_exit(PANIC_EXIT_STATUS);
}

void panic_trap(const struct trap_frame *tf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	panic_enter(fmt, ap);
	va_end(ap);
	printf("\nregisters:\n");
	arch_dump_trap(tf);
	backtrace_print(arch_trap_pc(tf), arch_trap_fp(tf));
	arch_exit(PANIC_EXIT_STATUS);
}
