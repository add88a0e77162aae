/*
 * aarch64 memory barriers, included by arch/arch.h. Shared-memory protocols
 * with devices (virtio rings) use these and nothing else.
 *
 * A virtio device without VIRTIO_F_ACCESS_PLATFORM (the only kind noos
 * accepts) is a hypervisor thread on another CPU, so the inner shareable
 * domain would do; the outer shareable variants cost the same on the cores
 * QEMU models and also order against a DMA master outside the inner domain
 * (ARM ARM B2.3.11, "Shareability domains"; C6.2.81 DMB). DMB also orders
 * Normal memory accesses against later Device memory accesses, such as the
 * MMIO write that notifies a queue.
 */
#ifndef NOOS_AARCH64_BARRIER_H
#define NOOS_AARCH64_BARRIER_H

/* Full barrier: every earlier load and store before any later one (store->load included). */
static inline void arch_mb(void)
{
	__asm__ volatile("dmb osh" ::: "memory");
}

/* Earlier loads complete before later loads and stores (DMB OSHLD). */
static inline void arch_rmb(void)
{
	__asm__ volatile("dmb oshld" ::: "memory");
}

/* Earlier stores become visible before later stores (DMB OSHST). */
static inline void arch_wmb(void)
{
	__asm__ volatile("dmb oshst" ::: "memory");
}

/* In a spin loop: tell the CPU (and a hypervisor or SMT sibling) that we are waiting. */
static inline void arch_cpu_relax(void)
{
	__asm__ volatile("yield" ::: "memory");
}

#endif
