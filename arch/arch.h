/*
 * arch/arch.h — the contract every architecture implements.
 *
 * Only arch/ contains inline assembly, barriers, port/MMIO accessors and CPU
 * registers. Both arch/x86_64 and arch/aarch64 implement exactly these
 * functions, in files of the same names:
 *
 *   entry.S     reset/boot entry, first stack, jump to C (arch_boot)
 *   boot.c      arch_boot(): boot protocol (PVH/multiboot2, DTB) -> struct boot_info
 *   console.c   early serial console (16550 / PL011)
 *   trap.c      exception vectors, register dump, decoded fault reasons
 *   exit.c      power-off and exit with a status (isa-debug-exit / semihosting, PSCI)
 *   cpu.c       small CPU services (frame pointer walk, random seed, halt)
 */
#ifndef NOOS_ARCH_H
#define NOOS_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOT_MAX_RANGES 64

/* A physical address range [base, base + size). */
struct mem_range {
	uint64_t base;
	uint64_t size;
};

/* What the boot protocol told us, in one arch-neutral shape (filled by arch_boot). */
struct boot_info {
	const char *protocol;                  /* "pvh", "multiboot2", "linux-arm64" */
	const char *cmdline;                   /* never NULL; "" when absent */
	struct mem_range ram[BOOT_MAX_RANGES]; /* usable RAM as the firmware/VMM reported it */
	unsigned ram_count;
	struct mem_range reserved[BOOT_MAX_RANGES]; /* never hand out: image, DTB, stacks, fw */
	unsigned reserved_count;
	uint64_t acpi_rsdp; /* x86_64: physical address of the ACPI RSDP, 0 if unknown */
	const void *dtb;    /* aarch64: the flattened device tree, NULL on x86_64 */
};

/* Linker-script symbols bounding the loaded image (both arches). */
extern char __image_start[], __image_end[];
extern char __text_start[], __text_end[];

/* boot.c: arch_boot() is called by entry.S and ends in rt_boot(). */
void rt_boot(struct boot_info *bi) __attribute__((noreturn));
void boot_info_add_range(struct mem_range *ranges, unsigned *count, uint64_t base, uint64_t size);
/* RAM below this physical address is mapped (identity) and may be handed out; the rest not yet. */
uint64_t arch_mapped_limit(void);

/* console.c */
void arch_console_init(const struct boot_info *bi);
void arch_console_write(const char *s, size_t len);
int arch_console_getc(void); /* -1 when no byte is waiting */

/* trap.c: unexpected exceptions end in panic_trap() with the reason decoded. */
struct trap_frame; /* arch/<arch>/trap.h */
void arch_trap_init(void);
void arch_dump_trap(const struct trap_frame *tf); /* print every saved register */
uintptr_t arch_trap_pc(const struct trap_frame *tf);
uintptr_t arch_trap_fp(const struct trap_frame *tf);

/* exit.c */
void arch_exit(int status) __attribute__((noreturn));   /* QEMU exits with this status */
void arch_poweroff(void) __attribute__((noreturn));     /* plain power-off, status 0 */
void arch_halt_forever(void) __attribute__((noreturn)); /* interrupts off, wait forever */

/* cpu.c */
/*
 * Walk one frame: given a frame pointer, return the saved return address and
 * the previous frame pointer. Returns false at the end of the chain.
 */
bool arch_frame_next(uintptr_t *fp, uintptr_t *ret);
uint64_t arch_random_seed(void); /* best available hardware entropy, for the stack guard */
const char *arch_name(void);

#endif
