/* What arch/x86_64/rtc.c's port-I/O half links against; host builds only call rtc_decode. */
#include <stdlib.h>

#include "x86.h"

const struct acpi_info *platform(void);
const struct acpi_info *platform(void)
{
	abort();
}

uint64_t arch_time_ns(void)
{
	abort();
}
