/*
 * panic: a deliberate panic deep in a named call chain. The runner must show
 * the message, registers and a backtrace symbolized to these functions.
 */
#include <stdio.h>

#include "rt.h"

__attribute__((noinline)) static void deliberate_panic_site(int depth)
{
	panic("deliberate test panic at depth %d", depth);
}

__attribute__((noinline)) static void panic_caller(int depth)
{
	deliberate_panic_site(depth + 1);
	__asm__ volatile(""); /* keep this frame: no tail call */
}

int main(void)
{
	printf("about to panic\n");
	panic_caller(1);
	return 0;
}
