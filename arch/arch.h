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

/*
 * Memory barriers, arch_mb()/arch_rmb()/arch_wmb(): static inline, one small
 * header per arch (barrier.h). Host builds of portable code (tests/host)
 * define NOOS_HOST_TEST and get C11 fences instead.
 */
#if defined(NOOS_HOST_TEST)
#include "arch_host.h"
#elif defined(__x86_64__)
#include "x86_64/barrier.h"
#elif defined(__aarch64__)
#include "aarch64/barrier.h"
#endif

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
extern char __rodata_start[], __rodata_end[]; /* page-aligned: text RX, rodata R, the rest RW */
extern char __data_start[];
/* entry.S: the boot CPU's stack; the page below boot_stack_bottom is its guard (issue 4). */
extern char boot_stack_bottom[], boot_stack_top[];

/* boot.c: arch_boot() is called by entry.S and ends in rt_boot(). */
void rt_boot(struct boot_info *bi) __attribute__((noreturn));
void boot_info_add_range(struct mem_range *ranges, unsigned *count, uint64_t base, uint64_t size);
/*
 * RAM below this physical address is mapped (identity) by the boot page
 * tables of entry.S, which run until arch_mmu_init (issue 4, below) maps all RAM.
 */
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
/*
 * One 64-bit value from the CPU's random number instruction (x86_64 RDSEED,
 * else RDRAND; aarch64 RNDR), or false when the CPU has none or it failed
 * its retries. Never a fallback value: rt/random.c credits these as entropy.
 */
bool arch_hw_random(uint64_t *out);
const char *arch_name(void);

/*
 * ---- Interrupts, time and CPUs (issue 5) ----
 *
 * Implemented in these files on both arches:
 *
 *   irq.c    arch_irq_*: interrupt masking, handlers for interrupt lines and
 *            MSI vectors (the arch unmasks, masks and signals end-of-interrupt
 *            itself), spurious interrupts counted
 *   time.c   arch_time_*, arch_timer_*: monotonic nanosecond clock and the
 *            hardware of a one-shot timer interrupt per CPU (the deadline
 *            logic is rt/cpu_timer.c's); no periodic tick
 *   rtc.c    arch_rtc_read: CMOS RTC (x86_64) / PL031 (aarch64)
 *   smp.c    this CPU's struct cpu, arch_smp_start, arch_ipi_*, arch_cpu_idle
 *
 * and, behind them, the arch's own controllers: x86_64 acpi.c (MADT, MCFG,
 * FADT), apic.c, ioapic.c, trampoline.S; aarch64 the GIC driver(s), the
 * generic timer and PSCI.
 *
 * Handlers run on the interrupted CPU's stack with interrupts disabled and
 * must not use FP/SIMD registers (kernel code is built -mgeneral-regs-only).
 * Line and MSI handlers run before end-of-interrupt (arch_in_interrupt() is
 * true there) and must return. The timer and IPI hooks run after it, at the
 * very end of the interrupt: there they may switch to another thread (the
 * interrupted one resumes later through its own stack), so that is where a
 * scheduler preempts. arch_smp_start takes the APs' stacks from page_alloc;
 * nothing else here allocates memory.
 */
#define ARCH_MAX_CPUS 64

/*
 * Per-CPU data, reachable in O(1) through arch_this_cpu() (x86_64: the GS
 * base points at it; aarch64: TPIDR_EL1). Each CPU writes only its own.
 */
struct cpu {
	struct cpu *self;    /* first: x86_64 loads it from %gs:0 */
	unsigned id;         /* dense: 0 = boot CPU, then 1.. in firmware order */
	uint32_t hw_id;      /* x86_64 APIC ID; aarch64 MPIDR_EL1 affinity bits */
	uintptr_t stack_top; /* the stack the CPU entered C on (the boot stack for CPU 0) */
	unsigned irq_depth;  /* > 0 while a line/MSI handler runs on this CPU */
	uint64_t irq_count;  /* interrupts taken on this CPU */
	void *rt;            /* rt/'s per-CPU state (the scheduler's); arch never touches it */
};

/* irq.c */
/* Controllers, vectors and legacy masking on the boot CPU; 0 or -errno. Before arch_time_init. */
int arch_irq_init(const struct boot_info *bi);
const char *arch_irq_describe(void); /* "x2apic", "xapic", "gicv2", "gicv3" */
unsigned long arch_irq_save(void);   /* disable on this CPU; returns the previous state */
void arch_irq_restore(unsigned long state);
void arch_irq_enable(void);
void arch_irq_disable(void);
bool arch_irq_enabled(void);
bool arch_in_interrupt(void); /* inside a line/MSI handler on this CPU */

typedef void (*arch_irq_fn)(void *ctx);

/* Trigger and polarity for arch_irq_register; 0 takes what the firmware says for that line. */
#define ARCH_IRQ_EDGE        0x1
#define ARCH_IRQ_LEVEL       0x2
#define ARCH_IRQ_ACTIVE_HIGH 0x4
#define ARCH_IRQ_ACTIVE_LOW  0x8

/*
 * Call fn(ctx) when interrupt line `line` fires, and unmask it. x86_64: lines
 * 0-15 are ISA IRQs (MADT overrides applied), 16 and up are I/O APIC GSIs
 * (default: level, active low, as PCI INTx). aarch64: the GIC INTID (SPIs from
 * 32, PPIs 16-31) as the DTB gives it. A line may be shared by a few handlers
 * (level-triggered PCI INTx). The handler must quiet its device; the arch
 * signals end-of-interrupt after it returns. Returns 0, -EINVAL (no such
 * line, bad flags), -EBUSY (flags conflict with the line's other handlers)
 * or -ENOSPC (no vector or handler slot left).
 */
int arch_irq_register(unsigned line, unsigned flags, arch_irq_fn fn, void *ctx);
/* Remove that handler, masking the line after the last one; waits until it is not running. */
int arch_irq_unregister(unsigned line, arch_irq_fn fn, void *ctx);
int arch_irq_mask(unsigned line); /* 0, or -ENOENT when the line has no handler */
int arch_irq_unmask(unsigned line);

/* What a device writes to raise an MSI/MSI-X interrupt (PCI Local Bus 3.0, 6.8). */
struct arch_msi {
	uint64_t address;
	uint32_t data;
};
/*
 * A message-signalled interrupt delivered to CPU `cpu` that calls fn(ctx).
 * requester_id is the device's PCI bus/device/function (bus << 8 | devfn),
 * which aarch64's GICv3 ITS needs; x86_64 ignores it. Returns a handle >= 0
 * for arch_msi_free, or -ENOSPC / -EINVAL. Masking an MSI is the device's job.
 */
int arch_msi_alloc(unsigned cpu, uint32_t requester_id, arch_irq_fn fn, void *ctx,
                   struct arch_msi *msg);
int arch_msi_free(int handle);

/* Interrupts with nothing to deliver: controller spurious vectors, lines without a handler. */
uint64_t arch_irq_spurious_count(void);

/* time.c */
/* Calibrate the clock and set up the boot CPU's timer; 0 or -errno. After arch_irq_init. */
int arch_time_init(void);
const char *arch_time_describe(void); /* e.g. "tsc 2.90 GHz (calibrated)" */
/* Nanoseconds since boot, never decreasing on one CPU; CPUs agree to within clock-sync error. */
uint64_t arch_time_ns(void);
/*
 * Program this CPU's timer to interrupt at about arch_time_ns() == deadline_ns
 * (a deadline in the past at once; rounding may make it early, never by
 * more than a little), replacing what it was programmed for; or stop it.
 * Interrupts disabled. Users go through rt/cpu_timer.c (cpu_timer_* in
 * rt.h), which keeps each CPU's deadline.
 */
void arch_timer_program(uint64_t deadline_ns);
void arch_timer_stop(void);
/*
 * rt/cpu_timer.c, called by the timer's interrupt: cpu_timer_expired()
 * before end-of-interrupt (true: the deadline is due; false: cancelled, or
 * early and programmed again), and then, when it said true,
 * cpu_timer_run_hook() after it.
 */
bool cpu_timer_expired(void);
void cpu_timer_run_hook(void);

/* rtc.c */
/*
 * Read the hardware real-time clock: whole seconds since 1970-01-01 UTC into
 * *unix_sec; 0, or -ENODEV (no RTC) / -EIO (it answered nonsense). Slow:
 * rt/clock.c reads it once and carries the wall clock with arch_time_ns.
 */
int arch_rtc_read(int64_t *unix_sec);

/* smp.c */
struct cpu *arch_this_cpu(void);
unsigned arch_cpu_id(void); /* arch_this_cpu()->id */
typedef void (*arch_cpu_entry)(struct cpu *self);
/*
 * Bring every other CPU the firmware describes online: each gets its own
 * stack and per-CPU data, its interrupt controller and timer set up, and then
 * calls entry(self) with interrupts disabled (entry must not return). Returns
 * the number of CPUs online, the boot CPU included; CPUs that did not come up
 * are reported on the console. Call once, after arch_time_init.
 */
int arch_smp_start(arch_cpu_entry entry);
/*
 * rt/cpus.c: the CPU table both arches fill and read. smp.c registers the
 * boot CPU (before anything uses arch_this_cpu) and then the firmware's
 * others; arch_smp_start allocates their stacks, starts them, and waits;
 * each started CPU calls cpu_arrive, and parks if that says it came late.
 */
unsigned cpu_count(void);         /* CPUs online, the boot CPU included */
unsigned cpu_present(void);       /* CPUs the firmware describes (capped at ARCH_MAX_CPUS) */
struct cpu *cpu_get(unsigned id); /* NULL unless online */
struct cpu *cpu_slot(unsigned id); /* NULL unless present; online or not (bring-up) */
struct cpu *cpu_boot_register(uint32_t hw_id, uintptr_t stack_top); /* id 0, online */
struct cpu *cpu_register(uint32_t hw_id); /* the next id; NULL when the table is full */
/* Stacks for c (sets stack_top); the top of 1 << exc_order exception pages, or 0. */
uintptr_t cpu_stacks_alloc(struct cpu *c, size_t bytes, unsigned exc_order);
bool cpu_arrive(struct cpu *c); /* on c: join (true), or park: the wait is over */
unsigned cpus_wait_online(unsigned expected, uint64_t timeout_ns); /* then closes; CPUs online */
/*
 * Wait for an interrupt. Call with interrupts disabled: enabling and waiting
 * are one atomic step (x86_64 sti;hlt, aarch64 wfi), so a wakeup that arrives
 * after the caller last checked for work is not lost. Returns with interrupts
 * disabled, after the handler ran.
 */
void arch_cpu_idle(void);

enum arch_ipi {
	ARCH_IPI_WAKEUP,   /* reschedule: the target checks its run queue */
	ARCH_IPI_TLB,      /* TLB shootdown: the target flushes what rt/ asked */
	ARCH_IPI_KINDS,
};
typedef void (*arch_ipi_fn)(enum arch_ipi kind);
void arch_ipi_set_handler(arch_ipi_fn fn); /* one hook for all kinds and CPUs */
int arch_ipi_send(unsigned cpu, enum arch_ipi kind); /* 0, or -EINVAL for a CPU not online */

/*
 * PCIe ECAM windows for the PCI layer: x86_64 from the ACPI MCFG. On aarch64
 * pci/ reads the DTB's host bridges itself, and this may return -ENOENT.
 */
struct arch_ecam {
	uint64_t base;
	uint16_t segment;
	uint8_t bus_start, bus_end;
};
int arch_pci_ecam(unsigned index, struct arch_ecam *out); /* 0, or -ENOENT past the last */

/*
 * ---- Threads (issue 5) ----
 *
 *   switch.S   arch_context_switch and the new-thread trampoline (aarch64:
 *              also the FP/SIMD save and restore)
 *   context.c  a new thread's first frame, the FP/SIMD area, the TLS base
 *
 * A thread that is not running is its saved stack pointer:
 * arch_context_switch pushes the callee-saved registers (aarch64: with the
 * frame pointer and link register) on the current stack, stores sp through
 * save_sp, loads load_sp and pops the other thread's. Call it with
 * interrupts disabled; it returns, in the other thread, with them disabled.
 *
 * FP/SIMD registers (x86_64: x87/SSE and whatever XSAVE covers; aarch64:
 * q0-q31, FPCR, FPSR) are not part of that: kernel code is built
 * -mgeneral-regs-only and never touches them, not even in interrupt
 * handlers, so rt/sched.c saves and restores them with arch_fpu_save and
 * arch_fpu_restore at switch time for the threads that have an area.
 */
void arch_context_switch(uintptr_t *save_sp, uintptr_t load_sp);
/*
 * The saved stack pointer of a new thread whose stack ends at stack_top:
 * switching to it calls fn(arg), interrupts disabled, with a frame chain
 * that ends there. fn must not return.
 */
uintptr_t arch_context_init(uintptr_t stack_top, void (*fn)(void *), void *arg);
size_t arch_fpu_size(void);             /* bytes of one save area, which is 64-byte aligned */
void arch_fpu_init(void *area);         /* the state a new thread starts with */
void arch_fpu_save(void *area);         /* this CPU's FP/SIMD registers into area */
void arch_fpu_restore(const void *area);
/* The thread pointer applications use for TLS: x86_64 FS base, aarch64 TPIDR_EL0. */
void arch_tls_set(uintptr_t base);
uintptr_t arch_tls_get(void);
/* barrier.h also has arch_cpu_relax(), static inline, for spin loops (x86 PAUSE, aarch64 YIELD). */

/*
 * ---- Virtual memory (issue 4) ----
 *
 * mmu.c on both arches builds noos's own page tables and switches every CPU
 * to them; pte.h holds the descriptor encodings with which rt/pagetable.c,
 * the portable walker, reads and writes entries. Both arches use 4 levels of
 * 512 entries with a 4 KiB granule (x86_64 4-level paging, Intel SDM vol. 3A
 * 4.5; aarch64 VMSAv8-64 stage 1 with 48-bit VAs through TTBR0_EL1, ARM ARM
 * D8). Level 0 is the last (4 KiB pages), level 3 the root. One address space
 * holds kernel and application alike:
 *
 *   [0, ARCH_VM_BASE)            identity map, virtual == physical: all RAM
 *                                write-back and never executable except the
 *                                image's text (text RX, rodata R, data/bss
 *                                RW); device windows uncached; the null page
 *                                and the boot stack's guard page unmapped.
 *                                2 MiB and 1 GiB pages wherever alignment allows.
 *   [ARCH_VM_BASE, ARCH_VM_END)  4 KiB pages managed by rt/vm.c: reserved
 *                                address space, demand-zero commits, stacks.
 *
 * Everything else faults. Table pages come from rt/mem.c (pt_page_alloc).
 */
#define ARCH_VM_BASE 0x100000000000ull /* 16 TiB */
#define ARCH_VM_END  0x400000000000ull /* 64 TiB */

/* Protection of a mapping. Write and execute together are never mapped (W^X). */
#define ARCH_PROT_READ   0x1
#define ARCH_PROT_WRITE  0x2
#define ARCH_PROT_EXEC   0x4
#define ARCH_PROT_DEVICE 0x8 /* uncached device memory: x86_64 PAT UC, aarch64 Device-nGnRE */

/*
 * Build the kernel page tables from the boot info (RAM, then the image's
 * sections from the linker script) and switch this CPU to them. Called once,
 * by mem_init on the boot CPU before the page allocator exists. CPUs started
 * later use them from their first instruction with paging on (x86_64: the AP
 * trampoline loads the boot CPU's CR3; aarch64: secondary_entry switches
 * right after enabling its MMU). 0, or -ENOMEM (the boot tables stay).
 */
int arch_mmu_init(const struct boot_info *bi);
/*
 * Where the CPU reaches device memory [pa, pa + size): mapped uncached on
 * first use (identity: the address is pa), or 0 when it cannot be (it is
 * RAM, it lies at or above ARCH_VM_BASE, no memory for tables). io.h's
 * io_map() is this.
 */
uintptr_t arch_map_device(uint64_t pa, uint64_t size);
/* Invalidate this CPU's translations of [va, va + size) (all of them for a large range). */
void arch_tlb_flush_local(uintptr_t va, size_t size);
/*
 * Invalidate [va, va + size) on every CPU by hardware broadcast and return
 * true (aarch64: TLBI ...IS, ARM ARM D8.13); false when the arch has no such
 * thing (x86_64): rt/tlb.c then flushes locally and sends ARCH_IPI_TLB.
 */
bool arch_tlb_flush_broadcast(uintptr_t va, size_t size);
/* Make instructions stored to [va, va + size) visible to instruction fetch on every CPU. */
void arch_sync_icache(uintptr_t va, size_t size);

/* What a page fault was (trap.c decodes the CPU's syndrome into these for rt/vm.c). */
#define ARCH_FAULT_READ    0x1
#define ARCH_FAULT_WRITE   0x2
#define ARCH_FAULT_EXEC    0x4
#define ARCH_FAULT_PRESENT 0x8 /* a permission fault on a mapped page, not a missing page */

/*
 * rt/vm.c, called by trap.c for a page fault at addr (x86_64 #PF, aarch64
 * data/instruction abort from EL1): true when it was resolved (a demand-zero
 * page now mapped) and the instruction may run again. Otherwise the fault is
 * real, and vm_describe() says in a few words what the address is ("write
 * to read-only kernel text", "stack overflow of thread main", ...; "" when
 * it knows nothing) for trap.c's panic message; it returns true when addr
 * is in a stack's guard page (x86_64 checks CR2 so on a double fault).
 */
bool vm_fault(uintptr_t addr, unsigned fault);
bool vm_describe(uintptr_t addr, unsigned fault, char *buf, size_t len);

#endif
