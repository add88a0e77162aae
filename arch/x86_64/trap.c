/*
 * x86_64 exceptions: the IDT, a TSS per CPU whose IST1 stack takes double
 * faults and NMIs (so a blown kernel stack still gets a report), and the
 * decoding of an unexpected exception into a panic with its reason and
 * faulting address. Vectors 32-255 are interrupts, dispatched by irq.c.
 */
#include "arch.h"
#include "rt.h"
#include "trap.h"
#include "x86.h"

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t zero;
} __attribute__((packed));

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

#define KERNEL_CS         0x08
#define TSS_SELECTOR(cpu) (0x18 + 16 * (cpu)) /* a 16-byte descriptor per CPU */
#define GATE_INTERRUPT    0x8e                /* present, DPL 0, 64-bit interrupt gate */
#define IST_EMERGENCY     1

static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct tss64 tss[ARCH_MAX_CPUS] __attribute__((aligned(16)));
static uint8_t emergency_stack[16384] __attribute__((aligned(16))); /* the boot CPU's */
/* null, code, data, then each CPU's 16-byte TSS descriptor (SDM 7.2.3). */
static uint64_t gdt[3 + 2 * ARCH_MAX_CPUS]
    __attribute__((aligned(16))) = {0, 0x00af9a000000ffff, 0x00cf92000000ffff};

extern const uint64_t trap_stubs[32];
extern const char irq_stubs[]; /* vectors.S: 16-byte stubs for vectors 32-255 */
#define IRQ_STUB_SIZE 16

static const char *const exception_names[32] = {
    "divide error",
    "debug",
    "NMI",
    "breakpoint",
    "overflow",
    "bound range exceeded",
    "invalid opcode (undefined instruction)",
    "device not available",
    "double fault",
    "coprocessor segment overrun",
    "invalid TSS",
    "segment not present",
    "stack-segment fault",
    "general protection fault",
    "page fault",
    "reserved",
    "x87 floating-point error",
    "alignment check",
    "machine check",
    "SIMD floating-point exception",
    "virtualization exception",
    "control protection",
};

static void set_gate(int vec, uint64_t handler, int ist)
{
	idt[vec] = (struct idt_gate){
	    .offset_lo = handler & 0xffff,
	    .selector = KERNEL_CS,
	    .ist = ist,
	    .type_attr = GATE_INTERRUPT,
	    .offset_mid = (handler >> 16) & 0xffff,
	    .offset_hi = handler >> 32,
	};
}

/* Each CPU fills in and loads its own TSS descriptor; the GDT and IDT are shared. */
void x86_cpu_tables_load(unsigned cpu, uintptr_t emergency_stack_top)
{
	struct tss64 *t = &tss[cpu];
	uint64_t base = (uintptr_t)t, limit = sizeof(*t) - 1;
	t->ist[IST_EMERGENCY - 1] = emergency_stack_top;
	t->iomap_base = sizeof(*t);
	gdt[3 + 2 * cpu] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
	                   (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4 + 2 * cpu] = base >> 32;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = {sizeof(gdt) - 1, (uintptr_t)gdt},
	                          idtr = {sizeof(idt) - 1, (uintptr_t)idt};
	__asm__ volatile("lgdt %0; ltr %w1; lidt %2"
	                 :
	                 : "m"(gdtr), "r"(TSS_SELECTOR(cpu)), "m"(idtr)
	                 : "memory");
}

void arch_trap_init(void)
{
	for (int v = 0; v < 32; v++)
		set_gate(v, trap_stubs[v], (v == 2 || v == 8 || v == 18) ? IST_EMERGENCY : 0);
	for (int v = 32; v < 256; v++)
		set_gate(v, (uintptr_t)irq_stubs + (v - 32) * IRQ_STUB_SIZE, 0);
	x86_percpu_init_bsp();
	x86_cpu_tables_load(0, (uintptr_t)(emergency_stack + sizeof(emergency_stack)));
}

/* Page-fault error code bits, SDM 4.7. */
static void describe_page_fault(char *buf, size_t len, uint64_t err)
{
	snprintf(buf, len, "%s %s%s%s", (err & 2) ? "write" : ((err & 16) ? "execute" : "read"),
	         (err & 1) ? "protection violation" : "not-present page",
	         (err & 8) ? ", reserved bit set" : "", (err & 4) ? ", user mode" : "");
}

/* The page-fault error code (SDM 4.7) as rt/vm.c's ARCH_FAULT_* bits. */
static unsigned page_fault_kind(uint64_t err)
{
	unsigned fault = (err & 2)    ? ARCH_FAULT_WRITE
	                 : (err & 16) ? ARCH_FAULT_EXEC
	                              : ARCH_FAULT_READ;
	return fault | ((err & 1) ? ARCH_FAULT_PRESENT : 0);
}

void arch_dump_trap(const struct trap_frame *tf)
{
	printf("  rip %016lx  rsp %016lx  rflags %016lx\n", tf->rip, tf->rsp, tf->rflags);
	printf("  rax %016lx  rbx %016lx  rcx %016lx\n", tf->rax, tf->rbx, tf->rcx);
	printf("  rdx %016lx  rsi %016lx  rdi %016lx\n", tf->rdx, tf->rsi, tf->rdi);
	printf("  rbp %016lx  r8  %016lx  r9  %016lx\n", tf->rbp, tf->r8, tf->r9);
	printf("  r10 %016lx  r11 %016lx  r12 %016lx\n", tf->r10, tf->r11, tf->r12);
	printf("  r13 %016lx  r14 %016lx  r15 %016lx\n", tf->r13, tf->r14, tf->r15);
	printf("  cs %04lx ss %04lx  cr3 %016lx  vector %lu error %#lx\n", tf->cs, tf->ss,
	       read_cr3(), tf->vector, tf->error);
}

uintptr_t arch_trap_pc(const struct trap_frame *tf)
{
	return tf->rip;
}

uintptr_t arch_trap_fp(const struct trap_frame *tf)
{
	return tf->rbp;
}

void x86_trap(struct trap_frame *tf);
void x86_trap(struct trap_frame *tf)
{
	if (tf->vector >= 32) {
		x86_irq_dispatch(tf);
		return;
	}
	const char *name = tf->vector < 32 && exception_names[tf->vector]
	                       ? exception_names[tf->vector]
	                       : "reserved exception";
	if (tf->vector == 14) {
		char why[96], what[112];
		uint64_t addr = read_cr2();
		unsigned fault = page_fault_kind(tf->error);
		if (vm_fault(addr, fault))
			return; /* a demand-zero page is there now: run the instruction again */
		describe_page_fault(why, sizeof(why), tf->error);
		vm_describe(addr, fault, what, sizeof(what));
		panic_trap(tf, "page fault at address %#lx (%s)%s%s at rip %#lx", addr, why,
		           what[0] ? ": " : "", what, tf->rip);
	}
	if (tf->vector == 8) {
		/* Its frame could not be pushed: CR2 in a guard page means a stack overflow. */
		char what[112];
		if (vm_describe(read_cr2(), ARCH_FAULT_WRITE, what, sizeof(what)))
			panic_trap(tf, "double fault: %s, cr2 %#lx, at rip %#lx", what, read_cr2(),
			           tf->rip);
	}
	panic_trap(tf, "%s (vector %lu, error %#lx) at rip %#lx", name, tf->vector, tf->error,
	           tf->rip);
}
