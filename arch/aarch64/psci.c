/*
 * PSCI, the Arm Power State Coordination Interface (DEN0022, version 0.2
 * and later): firmware calls for power-off now and CPU_ON for SMP later. The
 * conduit, HVC or SMC, comes from the DTB's /psci node "method" property
 * (QEMU virt: "hvc", or "smc" when the guest owns EL2).
 */
#include <libfdt.h>
#include <string.h>

#include "aarch64.h"
#include "fdt_read.h"

#define PSCI_SYSTEM_OFF    0x84000008 /* DEN0022 5.1.9 */
#define PSCI_NOT_SUPPORTED (-1)

static enum { CONDUIT_NONE, CONDUIT_HVC, CONDUIT_SMC } conduit;

void psci_init(const void *fdt)
{
	int node = fdtr_node_offset_by_compatible(fdt, -1, "arm,psci-1.0");
	if (node < 0)
		node = fdtr_node_offset_by_compatible(fdt, -1, "arm,psci-0.2");
	if (node < 0 || !fdtr_node_enabled(fdt, node))
		return; /* PSCI 0.1 has no SYSTEM_OFF: treat it as absent */
	int len;
	const char *method = fdtr_getprop(fdt, node, "method", &len);
	if (method && len > 0 && strnlen(method, (size_t)len) < (size_t)len) {
		if (strcmp(method, "hvc") == 0)
			conduit = CONDUIT_HVC;
		else if (strcmp(method, "smc") == 0)
			conduit = CONDUIT_SMC;
	}
	if (conduit == CONDUIT_NONE)
		dtb_errors++;
}

/* SMC Calling Convention (DEN0028): arguments in x0-x3, result in x0, x4-x17 not preserved. */
long psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	if (conduit == CONDUIT_HVC)
		__asm__ volatile("hvc #0"
		                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
		                 :
		                 : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
		                   "x14", "x15", "x16", "x17", "memory");
	else if (conduit == CONDUIT_SMC)
		__asm__ volatile("smc #0"
		                 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
		                 :
		                 : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
		                   "x14", "x15", "x16", "x17", "memory");
	else
		return PSCI_NOT_SUPPORTED;
	return (long)x0;
}

void psci_system_off(void)
{
	psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
}
