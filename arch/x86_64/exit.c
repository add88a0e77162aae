/*
 * x86_64 power-off. QEMU's isa-debug-exit device (iobase 0xf4) turns a write
 * of v into QEMU's exit status (v << 1) | 1; the runner maps it back. Without
 * that device, fall back to ACPI S5 through the PM1a control port QEMU's
 * chipsets use, then halt.
 */
#include "arch.h"
#include "x86.h"

#define ISA_DEBUG_EXIT_PORT 0xf4
#define Q35_PM1A_CNT        0x604  /* ICH9 LPC PM base 0x600 + 4 */
#define PIIX4_PM1A_CNT      0xb004 /* PIIX4 PM base 0xb000 + 4 */
#define PM1_SLP_EN          0x2000 /* SLP_TYP 0 is S5 on QEMU's chipsets */

void arch_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void arch_exit(int status)
{
	outl(ISA_DEBUG_EXIT_PORT, (uint32_t)status & 0x7f);
	outw(Q35_PM1A_CNT, PM1_SLP_EN);
	outw(PIIX4_PM1A_CNT, PM1_SLP_EN);
	arch_halt_forever();
}

void arch_poweroff(void)
{
	arch_exit(0);
}
