/*
 * aarch64 power-off and exit status.
 *
 * QEMU learns the guest's exit status only through semihosting SYS_EXIT
 * (semihost.c), which is used when a probe shows semihosting answers: the
 * runner passes -semihosting-config enable=on,target=native. Otherwise the
 * status cannot leave the VM and arch_exit powers off through PSCI
 * SYSTEM_OFF (QEMU then exits 0). Without PSCI either, the CPU halts.
 */
#include "aarch64.h"
#include "arch.h"

void arch_halt_forever(void)
{
	__asm__ volatile("msr daifset, #0xf");
	for (;;)
		__asm__ volatile("wfi");
}

void arch_exit(int status)
{
	semihost_exit(status); /* returns only when semihosting is unavailable */
	psci_system_off();
	arch_halt_forever();
}

void arch_poweroff(void)
{
	psci_system_off();
	semihost_exit(0);
	arch_halt_forever();
}
