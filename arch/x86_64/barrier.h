/*
 * x86_64 memory barriers, included by arch/arch.h. Shared-memory protocols
 * with devices (virtio rings) use these and nothing else.
 *
 * x86 is TSO for write-back memory (Intel SDM Vol. 3A §9.2.2): loads are not
 * reordered with other loads, stores are not reordered with other stores, so
 * read and write barriers only have to stop the compiler. Only a store
 * followed by a load may be reordered (the store sits in the store buffer),
 * which needs MFENCE.
 */
#ifndef NOOS_X86_64_BARRIER_H
#define NOOS_X86_64_BARRIER_H

/* Full barrier: every earlier load and store before any later one (store->load included). */
static inline void arch_mb(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

/* Earlier loads complete before later loads. */
static inline void arch_rmb(void)
{
	__asm__ volatile("" ::: "memory");
}

/* Earlier stores become visible before later stores. */
static inline void arch_wmb(void)
{
	__asm__ volatile("" ::: "memory");
}

/* In a spin loop: tell the CPU (and a hypervisor or SMT sibling) that we are waiting. */
static inline void arch_cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

#endif
