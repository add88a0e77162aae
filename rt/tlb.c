/*
 * TLB shootdown: after a translation that other CPUs may have cached is
 * removed or weakened, every CPU must forget it before the memory behind it
 * is reused. aarch64 broadcasts the invalidation in hardware (TLBI ...IS);
 * on x86_64 each CPU can only flush its own TLB (Intel SDM vol. 3A 4.10.5),
 * so the initiator flushes locally and interrupts the others with
 * ARCH_IPI_TLB, waiting until each has flushed.
 *
 * One request at a time (tlb.lock). The initiator may hold other locks with
 * interrupts off (vm.c's), so every CPU that spins for tlb.lock or for
 * vm.c's lock answers requests meanwhile (tlb_poll); a CPU that keeps
 * interrupts off elsewhere for long delays the initiator, and one that never
 * answers within TLB_TIMEOUT_NS is a broken invariant.
 */
#include "rt.h"

#define TLB_TIMEOUT_NS 10000000000ull

static struct {
	struct spinlock lock; /* one request at a time */
	uintptr_t va;         /* the request, written before pending[] under lock */
	size_t size;
	bool pending[ARCH_MAX_CPUS]; /* CPU i has yet to flush the request */
	unsigned outstanding;        /* how many pending[] are set */
	uint64_t requests;           /* shootdowns sent (statistics) */
} tlb;

/* Flush the current request on this CPU if it is asked to; from IPIs and spin loops. */
void tlb_poll(void)
{
	unsigned me = arch_cpu_id();
	if (me >= ARCH_MAX_CPUS || !__atomic_load_n(&tlb.pending[me], __ATOMIC_ACQUIRE))
		return;
	arch_tlb_flush_local(tlb.va, tlb.size);
	__atomic_store_n(&tlb.pending[me], false, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&tlb.outstanding, 1, __ATOMIC_RELEASE);
}

/* The ARCH_IPI_TLB handler (rt/boot.c routes it here). */
void tlb_ipi(void)
{
	tlb_poll();
}

static void wait_all(unsigned long long start)
{
	while (__atomic_load_n(&tlb.outstanding, __ATOMIC_ACQUIRE)) {
		tlb_poll();
		if (arch_time_ns() - start > TLB_TIMEOUT_NS)
			for (unsigned i = 0; i < ARCH_MAX_CPUS; i++)
				if (__atomic_load_n(&tlb.pending[i], __ATOMIC_ACQUIRE))
					panic("TLB shootdown: cpu %u did not flush within 10 s", i);
	}
}

static void shootdown(uintptr_t va, size_t size)
{
	unsigned long flags = arch_irq_save();
	while (__atomic_exchange_n(&tlb.lock.locked, true, __ATOMIC_ACQUIRE))
		tlb_poll();
	unsigned me = arch_cpu_id();
	tlb.va = va;
	tlb.size = size;
	tlb.requests++;
	for (unsigned i = 0; i < ARCH_MAX_CPUS; i++)
		if (i != me && cpu_get(i)) {
			__atomic_fetch_add(&tlb.outstanding, 1, __ATOMIC_RELAXED);
			__atomic_store_n(&tlb.pending[i], true, __ATOMIC_RELEASE);
		}
	for (unsigned i = 0; i < ARCH_MAX_CPUS; i++)
		if (__atomic_load_n(&tlb.pending[i], __ATOMIC_ACQUIRE))
			arch_ipi_send(i, ARCH_IPI_TLB);
	wait_all(arch_time_ns());
	spin_unlock(&tlb.lock);
	arch_irq_restore(flags);
}

/* Every CPU forgets its translations of [va, va + size); returns once they all have. */
void tlb_flush(uintptr_t va, size_t size)
{
	if (arch_tlb_flush_broadcast(va, size))
		return;
	arch_tlb_flush_local(va, size);
	if (cpu_count() > 1)
		shootdown(va, size);
}

uint64_t tlb_shootdowns(void)
{
	return __atomic_load_n(&tlb.requests, __ATOMIC_RELAXED);
}
