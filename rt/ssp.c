/*
 * Stack protector support (-fstack-protector-strong, and libfdt.a which was
 * built with it). The guard comes from hardware entropy at boot; its low byte
 * is zero so a string overflow cannot reproduce it.
 */
#include "rt.h"

uintptr_t __stack_chk_guard;

void __stack_chk_fail(void) __attribute__((noreturn));
void __stack_chk_fail(void)
{
	panic("stack smashing detected (stack protector guard overwritten)");
}

/* Must run before any function that returns through a protected epilogue it entered earlier. */
__attribute__((no_stack_protector)) void ssp_init(void)
{
	uintptr_t g = (uintptr_t)arch_random_seed();
	__stack_chk_guard = (g & ~(uintptr_t)0xff) | ((g >> 8) == 0 ? 0x5a00 : 0);
}
