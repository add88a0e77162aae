/* Host stand-ins for rt/mem.c, rt/tlb.c and the arch calls rt/vm.c and rt/pagetable.c make. */
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "vm_stubs.h"

long stub_pages, stub_pt_pages, stub_flushes, stub_fail_after = -1;
char __text_start[1], __text_end[1], __rodata_start[1], __rodata_end[1];

void *page_alloc(unsigned order)
{
	if (stub_fail_after == 0)
		return NULL;
	if (stub_fail_after > 0)
		stub_fail_after--;
	void *p = aligned_alloc(PAGE_SIZE << order, PAGE_SIZE << order);
	if (p) {
		memset(p, 0xa5, PAGE_SIZE << order); /* as the poisoning debug mode leaves it */
		stub_pages++;
	}
	return p;
}

void page_free(void *p)
{
	stub_pages--;
	free(p);
}

void *pt_page_alloc(void)
{
	void *p = page_alloc(0);
	if (p) {
		memset(p, 0, PAGE_SIZE);
		stub_pages--;
		stub_pt_pages++;
	}
	return p;
}

void pt_page_free(void *p)
{
	stub_pt_pages--;
	free(p);
}

void tlb_flush(uintptr_t va, size_t size)
{
	(void)va, (void)size;
	stub_flushes++;
}

void tlb_poll(void)
{
}

unsigned long arch_irq_save(void)
{
	return 0;
}

void arch_irq_restore(unsigned long state)
{
	(void)state;
}

unsigned arch_cpu_id(void)
{
	return 0;
}

void arch_tlb_flush_local(uintptr_t va, size_t size)
{
	(void)va, (void)size;
}

void arch_sync_icache(uintptr_t va, size_t size)
{
	(void)va, (void)size;
}
