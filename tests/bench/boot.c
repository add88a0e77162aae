/*
 * The noos image of ./noos bench's boot and memory rows: boot, print one line,
 * exit. It is hello without the extras (hello describes the VM it booted on
 * and may wait for a network), so that those rows measure noos's own boot and
 * nothing an application chose to do. It returns 3, as hello does: on x86_64
 * isa-debug-exit makes that QEMU status 7, which cannot be mistaken for QEMU
 * failing to start (status 1).
 */
#include <stdio.h>

#include "noos.h"

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("bench: booted\n");
	return 3;
}
