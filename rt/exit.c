/* Leaving: exit with a status (QEMU's exit status, through the runner) or power off. */
#include <stdlib.h>

#include "noos.h"
#include "rt.h"

void exit(int status)
{
	arch_exit(status);
}

void abort(void)
{
	panic("abort() called");
}

void noos_exit(int status)
{
	exit(status);
}

void noos_poweroff(void)
{
	arch_poweroff();
}
