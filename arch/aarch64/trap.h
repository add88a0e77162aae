/* aarch64 trap frame: what vectors.S saves, lowest address first (offsets in aarch64.h). */
#ifndef NOOS_AARCH64_TRAP_H
#define NOOS_AARCH64_TRAP_H

#include <stdint.h>

struct trap_frame {
	uint64_t x[31]; /* x0..x30; x29 is the frame pointer, x30 the link register */
	uint64_t sp;    /* the interrupted stack pointer */
	uint64_t elr;   /* ELR_EL1: where the exception was taken */
	uint64_t spsr;  /* SPSR_EL1: the interrupted PSTATE */
	uint64_t esr;   /* ESR_EL1: exception class and syndrome */
	uint64_t far;   /* FAR_EL1: faulting address (aborts, alignment faults) */
	uint64_t kind;  /* vector: group * 4 + type (aarch64.h VEC_*) */
	uint64_t pad;
};

_Static_assert(sizeof(struct trap_frame) == 304, "TF_SIZE in aarch64.h");

#endif
