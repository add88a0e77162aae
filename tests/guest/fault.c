/*
 * fault: unexpected exceptions become a panic naming the reason and the
 * faulting address. The first argument selects the fault:
 *   read     load from an unmapped address
 *   write    store to an unmapped address
 *   undef    execute an undefined instruction
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Unmapped on both arches: far above anything noos maps (PML4/L0 index 224). */
#define UNMAPPED_ADDRESS 0x700000001000ul

__attribute__((noinline)) static int fault_read(void)
{
	return *(volatile int *)UNMAPPED_ADDRESS;
}

__attribute__((noinline)) static void fault_write(void)
{
	*(volatile int *)UNMAPPED_ADDRESS = 1;
}

__attribute__((noinline)) static void fault_undefined(void)
{
	__builtin_trap();
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "read";
	printf("fault: %s\n", kind);
	if (strcmp(kind, "read") == 0)
		return fault_read();
	if (strcmp(kind, "write") == 0)
		fault_write();
	else if (strcmp(kind, "undef") == 0)
		fault_undefined();
	printf("fault: survived, which is wrong\n");
	return 1;
}
