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

/* struct secondary_boot (smp.c), read by secondary_entry (entry.S) once its MMU is on. */
#define SECONDARY_SP_EL1 0
#define SECONDARY_SP_EL0 8
#define SECONDARY_CPU    16

#ifndef __ASSEMBLER__

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"

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
int dtb_check_blob(const void *fdt, size_t avail, const char **why);
int dtb_reg(const void *fdt, int node, int index, uint64_t *base, uint64_t *size);
void dtb_parent_record(const void *fdt, int node, int parent); /* in walk order, root first */
int dtb_parent(const void *fdt, int node); /* recorded, else libfdt's fdt_parent_offset */
int dtb_reg_parent(const void *fdt, int node, int parent, int index, uint64_t *base,
                   uint64_t *size);
bool dtb_range_device_mapped(uint64_t base, uint64_t size);
extern unsigned dtb_errors; /* malformed entries skipped while booting */
void dtb_boot_info(void *fdt, struct boot_info *bi); /* boot_dtb.c */

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

static inline uint64_t mmio_read64(uintptr_t addr)
{
	uint64_t v;
	__asm__ volatile("ldr %0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write64(uintptr_t addr, uint64_t v)
{
	__asm__ volatile("str %0, [%1]" : : "rZ"(v), "r"(addr) : "memory");
}

/* Spin politely (YIELD hints an SMT core or a hypervisor, ARM ARM C6.2.400). */
static inline void cpu_relax(void)
{
	__asm__ volatile("yield" : : : "memory");
}

/* ---- interrupts, time and CPUs (issue 5) ---- */

struct gic_msi;

/*
 * A GIC driver behind irq.c (gicv2.c, gicv3.c), chosen by the DTB's
 * compatible string. Every call acts on the calling CPU's interface; the
 * distributor calls are serialised by irq.c's lock.
 */
struct gic_ops {
	const char *name; /* arch_irq_describe(): "gicv2", "gicv3" */
	/* Distributor (every SPI off, routed to this CPU); *lines INTIDs exist; *msi or NULL. */
	int (*init)(const void *fdt, int node, unsigned *lines, const struct gic_msi **msi);
	/* This CPU's interface (and redistributor), its SGIs and PPIs all disabled. */
	int (*cpu_init)(void);
	unsigned (*ack)(uint32_t *iar); /* the INTID; *iar is what eoi needs back */
	void (*eoi)(uint32_t iar);
	void (*enable)(unsigned intid, bool on);      /* SPI: for all; SGI/PPI: this CPU only */
	void (*configure)(unsigned intid, bool edge); /* trigger, while the line is disabled */
	void (*route)(unsigned intid, unsigned cpu);  /* an SPI to CPU `cpu` (arch id) */
	void (*send_sgi)(unsigned cpu, unsigned sgi); /* memory writes before it are visible */
};
extern const struct gic_ops gicv2_ops, gicv3_ops;

/*
 * Message-signalled interrupts behind arch_msi_alloc: a GICv2m frame's SPIs
 * or GICv3 ITS LPIs, INTIDs first_intid .. first_intid + count - 1; index
 * is the INTID's offset in that range.
 */
struct gic_msi {
	const char *name;
	unsigned first_intid, count;
	int (*setup)(unsigned index, unsigned cpu, uint32_t requester_id, struct arch_msi *msg);
	void (*teardown)(unsigned index);
};
const struct gic_msi *its_probe(const void *fdt, int gic_node); /* gicv3_its.c */

/* gicv3.c, for the ITS: each CPU's redistributor (RD_base; 0 before that CPU's cpu_init). */
uintptr_t gicv3_redist(unsigned cpu);
/* gicv3_its.c, for gicv3.c: LPIs on at a CPU coming online, once the ITS is in use. */
void its_cpu_init(unsigned cpu);

/* gic_dtb.c: GIC nodes and interrupt specifiers in the DTB (Linux's arm,gic bindings). */
struct dtb_nodes {
	int gic;        /* the GIC's node, or -1 */
	int gic_parent; /* its parent node */
	const struct gic_ops *gic_ops;
	int timer; /* arm,armv8-timer, or -1 */
	int cpus;  /* /cpus, or -1 */
};
extern struct dtb_nodes dtb_nodes; /* filled once by gic_dtb_scan (arch_irq_init) */
void gic_dtb_scan(const void *fdt);
/* One GIC specifier (type, number, flags...) as an INTID and ARCH_IRQ_* flags; -EINVAL if bad. */
int gic_dtb_decode(const uint32_t *spec_be, unsigned cells, unsigned *intid, unsigned *flags);
int gic_dtb_trigger(const void *fdt, int gic_node, unsigned intid, unsigned *flags);
int gic_dtb_interrupt(const void *fdt, int gic_node, int node, int index, unsigned *intid,
                      unsigned *flags);
int gic_dtb_msi_devid(const void *fdt, int msi_node, uint32_t requester_id, uint32_t *devid);

/* irq.c */
extern const void *platform_fdt; /* the validated DTB, for the drivers below */
void irq_dispatch(void);         /* an IRQ exception from EL1t (trap.c) */
int irq_cpu_init(void);          /* this CPU's GIC interface, banked lines as on the boot CPU */
int irq_timer_line(unsigned intid, bool edge); /* the timer's PPI, enabled on every CPU */
unsigned long irq_lock(volatile int *lock);    /* spin lock with interrupts off on this CPU */
void irq_unlock(volatile int *lock, unsigned long state);
void irq_send_sgi(unsigned cpu, unsigned sgi);
/* The index-th GIC interrupt in node's "interrupts": 0 and its INTID and flags, or -errno. */
int irq_dtb_interrupt(int node, int index, unsigned *intid, unsigned *flags);

/* smp.c */
void cpu_boot_init(void); /* TPIDR_EL1 -> the boot CPU's struct cpu, before anything uses it */
void cpus_enumerate(const void *fdt, int cpus_node); /* for cpu_present and SMP */
uint32_t cpu_affinity(uint64_t mpidr); /* MPIDR_EL1 -> Aff3.Aff2.Aff1.Aff0 in 32 bits */
void ipi_hook(unsigned kind);

#endif /* __ASSEMBLER__ */
#endif
