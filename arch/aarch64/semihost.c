/*
 * Arm semihosting ("Semihosting for AArch32 and AArch64", version 2.0):
 * HLT #0xF000 with the operation number in w0 and its parameter in x1 asks
 * the debugger or emulator for a service. noos uses SYS_EXIT, to give QEMU
 * the guest's exit status, and SYS_WRITE0, to report when there is no UART.
 *
 * Policy: semihosting is used only where it answers. Without it, HLT is an
 * undefined instruction (QEMU without -semihosting-config enable=on, and KVM,
 * where halting debug is disabled), so the first use probes it: a harmless
 * SYS_ERRNO whose UNDEF trap.c recognises and resumes at
 * semihost_probe_resume. The answer is cached. The runner enables it with
 * -semihosting-config enable=on,target=native; without it, arch_exit falls
 * back to PSCI SYSTEM_OFF (status 0).
 */
#include "aarch64.h"

#define SYS_WRITE0                  0x04
#define SYS_ERRNO                   0x13
#define SYS_EXIT                    0x18
#define ADP_STOPPED_APPLICATIONEXIT 0x20026 /* SYS_EXIT reason: the application exited */

/* Returns 1 if the semihosting call at semihost_probe_hlt completed, 0 if it trapped. */
int semihost_probe(void);
__asm__(".pushsection .text.semihost_probe, \"ax\"\n"
        ".p2align 2\n"
        ".global semihost_probe, semihost_probe_hlt, semihost_probe_resume\n"
        ".type semihost_probe, %function\n"
        "semihost_probe:\n"
        "	mov x0, #0x13\n" /* SYS_ERRNO: no parameters, no side effects */
        "	mov x1, #0\n"
        "semihost_probe_hlt:\n"
        "	hlt #0xf000\n"
        "	mov x0, #1\n"
        "	ret\n"
        "semihost_probe_resume:\n"
        "	mov x0, #0\n"
        "	ret\n"
        ".size semihost_probe, . - semihost_probe\n"
        ".popsection\n");

static int semihost_state; /* 0 not probed yet, 1 available, -1 not */

bool semihost_available(void)
{
	if (semihost_state == 0)
		semihost_state = semihost_probe() ? 1 : -1;
	return semihost_state > 0;
}

static uint64_t semihost_call(uint32_t op, uint64_t param)
{
	register uint64_t x0 __asm__("x0") = op;
	register uint64_t x1 __asm__("x1") = param;
	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	return x0;
}

void semihost_write0(const char *s)
{
	if (semihost_available())
		semihost_call(SYS_WRITE0, (uintptr_t)s);
}

void semihost_exit(int status)
{
	if (!semihost_available())
		return;
	/* The AArch64 form takes a parameter block {reason, subcode}; QEMU exits with subcode. */
	uint64_t block[2] = {ADP_STOPPED_APPLICATIONEXIT, (uint64_t)(int64_t)status};
	semihost_call(SYS_EXIT, (uintptr_t)block);
}
