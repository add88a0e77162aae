/*
 * The arch/ barrier contract for native host builds (unit tests, fuzzers):
 * arch/arch.h includes this instead of arch/<arch>/barrier.h when
 * NOOS_HOST_TEST is defined. C11 fences are the portable equivalents; the
 * simulated device in the tests runs in the same thread, so these only have
 * to keep the compiler honest, but they are the real thing on any host.
 */
#ifndef NOOS_ARCH_HOST_H
#define NOOS_ARCH_HOST_H

#include <stdatomic.h>

static inline void arch_mb(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

static inline void arch_rmb(void)
{
	atomic_thread_fence(memory_order_acquire);
}

static inline void arch_wmb(void)
{
	atomic_thread_fence(memory_order_release);
}

static inline void arch_cpu_relax(void)
{
}

#endif
