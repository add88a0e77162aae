/*
 * aarch64 internal header: system registers, MMIO accessors, the boot
 * memory map and the small services the arch files share (DTB helpers,
 * semihosting, PSCI). Only arch/aarch64 includes it. The constants above the
 * __ASSEMBLER__ line are shared with entry.S and vectors.S.
 */
#ifndef NOOS_AARCH64_H
#define NOOS_AARCH64_H

/*
 * The boot identity map (entry.S), laid over QEMU virt's memory map
 * (hw/arm/virt.c): devices below 1 GiB, RAM from 1 GiB up to 256 GiB, and
 * the high PCIe ECAM/MMIO and GICv3 redistributor window from 256 GiB to
 * 1 TiB. The memory code replaces these tables with W^X ones built from the DTB.
 */
#define BOOT_NORMAL_BASE     0x40000000    /* 1 GiB: RAM, Normal write-back */
#define BOOT_NORMAL_END      0x4000000000  /* 256 GiB */
#define BOOT_DEVICE_HIGH_END 0x10000000000 /* 1 TiB: device window [256 GiB, 1 TiB) */
#define BOOT_DEVICE_LOW_END  0x40000000    /* device window [0, 1 GiB) */

/* MAIR_EL1 attribute indices (ARM ARM D17.2.97), the same order Linux uses. */
#define MT_DEVICE_nGnRnE 0
#define MT_DEVICE_nGnRE  1
#define MT_NORMAL_NC     2
#define MT_NORMAL        3
#define MAIR_VALUE       0xff440400 /* Attr3 = WB RW-alloc, Attr2 = NC, Attr1 = nGnRE, Attr0 = nGnRnE */

/* struct trap_frame (trap.h) layout, for vectors.S. */
#define TF_X0   0
#define TF_X30  240
#define TF_SP   248
#define TF_ELR  256
#define TF_SPSR 264
#define TF_ESR  272
#define TF_FAR  280
#define TF_KIND 288
#define TF_SIZE 304 /* a multiple of 16: SP stays aligned (SCTLR_EL1.SA) */

/* Exception vector groups (ARM ARM D1.10.2): kind = group * 4 + type. */
#define VEC_GROUP_CUR_SP0   0 /* taken from EL1 while on SP_EL0: the normal case */
#define VEC_GROUP_CUR_SPX   1 /* taken from EL1 while on SP_EL1: inside a handler */
#define VEC_GROUP_LOWER_A64 2
#define VEC_GROUP_LOWER_A32 3
#define VEC_TYPE_SYNC       0
#define VEC_TYPE_IRQ        1
#define VEC_TYPE_FIQ        2
#define VEC_TYPE_SERROR     3

#define BOOT_STACK_SIZE      65536
#define EXCEPTION_STACK_SIZE 16384

#ifndef __ASSEMBLER__

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define read_sysreg(reg)                                                                           \
	({                                                                                         \
		uint64_t v_;                                                                       \
		__asm__ volatile("mrs %0, " #reg : "=r"(v_));                                      \
		v_;                                                                                \
	})
#define write_sysreg(reg, val) __asm__ volatile("msr " #reg ", %0" : : "r"((uint64_t)(val)))

static inline void isb(void)
{
	__asm__ volatile("isb" : : : "memory");
}

/*
 * Device accessors: single plain loads and stores (no writeback addressing),
 * so a hypervisor can always decode them (ESR ISV), through a volatile pointer.
 */
static inline uint32_t mmio_read32(uintptr_t addr)
{
	uint32_t v;
	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" : : "rZ"(v), "r"(addr) : "memory");
}

/* dtb.c: read-only helpers over libfdt; every one tolerates a malformed tree. */
int dtb_validate(const void *fdt, const char **why);
int dtb_reg(const void *fdt, int node, int index, uint64_t *base, uint64_t *size);
bool dtb_node_enabled(const void *fdt, int node);
bool dtb_range_device_mapped(uint64_t base, uint64_t size);
extern unsigned dtb_errors; /* malformed entries skipped while booting */

/* semihost.c: Arm semihosting (Semihosting for AArch32 and AArch64, v2.0). */
bool semihost_available(void);
void semihost_write0(const char *s);
void semihost_exit(int status); /* returns only when semihosting is unavailable */
extern char semihost_probe_hlt[], semihost_probe_resume[];

/* psci.c: Arm Power State Coordination Interface (DEN0022). */
void psci_init(const void *fdt);
long psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
void psci_system_off(void); /* returns only when PSCI is unavailable */

/* console.c */
void console_fault_at(uint64_t addr); /* an abort at addr: drop the UART if it is there */

/* cpu.c */
void cpu_mix_seed(const void *buf, size_t len);

#endif /* __ASSEMBLER__ */
#endif
