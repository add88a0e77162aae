/*
 * rt/vm.c on the host, over rt/pagetable.c: reservations cost page tables
 * only for what is touched, demand-zero pages, protection, decommit and
 * release give everything back, errors and the debug panic, stacks and
 * their guard pages; then random operations checked page by page against a
 * model (state, protection, presence and contents of every page, the
 * counters, and that equal neighbours always merge).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "noos.h"
#include "panic_catch.h"
#include "rt.h"
#include "vm_stubs.h"

#define MIB (1ull << 20)

static struct noos_mem_stats stats(void)
{
	struct noos_mem_stats st;
	memset(&st, 0, sizeof(st));
	vm_stats(&st);
	return st;
}

/* The page behind va through the tables (host memory), or NULL. */
static uint8_t *page_of(uintptr_t va, unsigned *prot)
{
	uint64_t pa;
	unsigned p;
	if (!pt_lookup(va & ~(PAGE_SIZE - 1), &pa, prot ? prot : &p))
		return NULL;
	return phys_to_virt(pa);
}

static bool all_zero(const uint8_t *p)
{
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (p[i])
			return false;
	return true;
}

static void test_demand_zero(void)
{
	void *a;
	char why[128];
	CHECK(noos_vm_reserve(512 * MIB, NULL, &a) == 0);
	uintptr_t base = (uintptr_t)a;
	CHECK(base >= ARCH_VM_BASE && base + 512 * MIB <= ARCH_VM_END && base % PAGE_SIZE == 0);
	CHECK(stats().vm_reserved_bytes == 512 * MIB && stats().vm_spans == 1);
	CHECK(!vm_fault(base, ARCH_FAULT_READ)); /* reserved only */
	vm_describe(base + 8, ARCH_FAULT_READ, why, sizeof(why));
	CHECK(strstr(why, "reserved but uncommitted"));

	long pt_before = stub_pt_pages;
	CHECK(noos_vm_commit(a, 512 * MIB, NOOS_PROT_READ | NOOS_PROT_WRITE) == 0);
	CHECK(stub_pages == 0 && stub_pt_pages == pt_before); /* nothing behind it yet */
	uintptr_t touch[4] = {base, base + 100 * MIB + 4096, base + 300 * MIB,
	                      base + 512 * MIB - 1};
	for (int i = 0; i < 4; i++) {
		CHECK(vm_fault(touch[i], ARCH_FAULT_WRITE));
		uint8_t *p = page_of(touch[i], NULL);
		CHECK(p && all_zero(p));
		if (p)
			p[touch[i] % PAGE_SIZE] = (uint8_t)(i + 1);
		CHECK(vm_fault(touch[i], ARCH_FAULT_WRITE)); /* again: already there (stale TLB) */
	}
	CHECK(stub_pages == 4 && stats().vm_resident_pages == 4);
	CHECK(stub_pt_pages - pt_before <= 4 + 2 + 1); /* last-level tables, level 1, level 2 */

	/* Read-only: the contents stay, a write is a real fault with a reason. */
	CHECK(noos_vm_protect(a, 512 * MIB, NOOS_PROT_READ) == 0);
	CHECK(!vm_fault(touch[1], ARCH_FAULT_WRITE | ARCH_FAULT_PRESENT));
	CHECK(vm_fault(touch[1], ARCH_FAULT_READ)); /* present and readable: stale TLB only */
	vm_describe(touch[1], ARCH_FAULT_WRITE, why, sizeof(why));
	CHECK(strstr(why, "write to read-only memory"));
	CHECK(page_of(touch[1], NULL)[touch[1] % PAGE_SIZE] == 2);
	/* No access at all, then back: still the same bytes. */
	CHECK(noos_vm_protect(a, 512 * MIB, NOOS_PROT_NONE) == 0);
	CHECK(!vm_fault(touch[2], ARCH_FAULT_READ));
	vm_describe(touch[2], ARCH_FAULT_READ, why, sizeof(why));
	CHECK(strstr(why, "no access"));
	CHECK(noos_vm_commit(a, 512 * MIB, NOOS_PROT_READ | NOOS_PROT_WRITE) == 0);
	CHECK(page_of(touch[2], NULL)[0] == 3 && page_of(touch[3], NULL)[PAGE_SIZE - 1] == 4);

	/* Decommit the first half: its two pages go back, touching it faults, recommit reads 0. */
	CHECK(noos_vm_decommit(a, 256 * MIB) == 0);
	CHECK(stub_pages == 2 && stats().vm_resident_pages == 2 && stats().vm_spans == 2);
	CHECK(!vm_fault(touch[0], ARCH_FAULT_READ));
	CHECK(noos_vm_commit(a, 256 * MIB, NOOS_PROT_READ | NOOS_PROT_WRITE) == 0);
	CHECK(stats().vm_spans == 1); /* merged again */
	CHECK(vm_fault(touch[1], ARCH_FAULT_READ) && all_zero(page_of(touch[1], NULL)));

	CHECK(noos_vm_release(a, 512 * MIB) == 0);
	CHECK(stub_pages == 0 && stub_pt_pages == pt_before && stats().vm_reserved_bytes == 0);
	CHECK(stats().vm_spans == 0 && stats().vm_resident_pages == 0);
	vm_describe(base, ARCH_FAULT_READ, why, sizeof(why));
	CHECK(strstr(why, "never reserved"));
}

static void test_errors(void)
{
	void *a, *b;
	CHECK(noos_vm_reserve(0, NULL, &a) == -EINVAL);
	CHECK(noos_vm_reserve(4095, NULL, &a) == -EINVAL);
	CHECK(noos_vm_reserve(PAGE_SIZE, NULL, NULL) == -EINVAL);
	CHECK(noos_vm_reserve(ARCH_VM_END - ARCH_VM_BASE + PAGE_SIZE, NULL, &a) == -EINVAL);
	CHECK(noos_vm_reserve(16 * PAGE_SIZE, NULL, &a) == 0);
	char *p = a;
	CHECK(noos_vm_commit(p + 1, PAGE_SIZE, NOOS_PROT_READ) == -EINVAL);
	CHECK(noos_vm_commit(p, 100, NOOS_PROT_READ) == -EINVAL);
	CHECK(noos_vm_commit(p, 17 * PAGE_SIZE, NOOS_PROT_READ) == -EINVAL); /* runs past it */
	CHECK(noos_vm_commit(p, PAGE_SIZE, NOOS_PROT_WRITE | NOOS_PROT_EXEC) == -EINVAL);
	CHECK(noos_vm_commit(p, PAGE_SIZE, 8) == -EINVAL);
	CHECK(noos_vm_commit((void *)0x100000, PAGE_SIZE, NOOS_PROT_READ) == -EINVAL);
	CHECK(noos_vm_protect(p, PAGE_SIZE, NOOS_PROT_READ) == -EINVAL); /* not committed */
	CHECK(noos_vm_decommit(p + 16 * PAGE_SIZE, PAGE_SIZE) == -EINVAL);
	/* A new reservation is not adjacent: an overrun of one faults in the hole between. */
	CHECK(noos_vm_reserve(PAGE_SIZE, NULL, &b) == 0 && (char *)b > p + 16 * PAGE_SIZE);
	EXPECT_PANIC(noos_vm_release(p, 17 * PAGE_SIZE), "never reserved");
	EXPECT_PANIC(noos_vm_release((void *)(ARCH_VM_END - PAGE_SIZE), PAGE_SIZE),
	             "never reserved");
	/* Hints: taken when free, else somewhere else. */
	void *c, *d;
	CHECK(noos_vm_reserve(PAGE_SIZE, p + 20 * PAGE_SIZE, &c) == 0 && c == p + 20 * PAGE_SIZE);
	CHECK(noos_vm_reserve(PAGE_SIZE, p, &d) == 0 && d != p);
	CHECK(noos_vm_release(p, 16 * PAGE_SIZE) == 0 && noos_vm_release(b, PAGE_SIZE) == 0);
	CHECK(noos_vm_release(c, PAGE_SIZE) == 0 && noos_vm_release(d, PAGE_SIZE) == 0);
	CHECK(stats().vm_spans == 0 && stub_pages == 0);

	/* No memory for a demand-zero page: a real fault, and it says why. */
	char why[128];
	CHECK(noos_vm_reserve(PAGE_SIZE, NULL, &a) == 0);
	CHECK(noos_vm_commit(a, PAGE_SIZE, NOOS_PROT_READ) == 0);
	stub_fail_after = 0;
	CHECK(!vm_fault((uintptr_t)a, ARCH_FAULT_READ));
	vm_describe((uintptr_t)a, ARCH_FAULT_READ, why, sizeof(why));
	CHECK(strstr(why, "out of memory"));
	stub_fail_after = -1;
	CHECK(noos_vm_release(a, PAGE_SIZE) == 0);
}

static void test_stacks(void)
{
	char why[128];
	long pages = stub_pages;
	uint8_t *top = stack_alloc(3 * PAGE_SIZE + 1, "worker-7");
	CHECK(top && (uintptr_t)top % 16 == 0);
	CHECK(stub_pages - pages == 4); /* rounded up, every page there and zeroed */
	for (int i = 1; i <= 4; i++)
		CHECK(page_of((uintptr_t)top - i * PAGE_SIZE, NULL) &&
		      all_zero(page_of((uintptr_t)top - i * PAGE_SIZE, NULL)));
	uintptr_t guard = (uintptr_t)top - 5 * PAGE_SIZE;
	CHECK(!page_of(guard, NULL) && !vm_fault(guard + 100, ARCH_FAULT_WRITE));
	CHECK(vm_describe(guard + 100, ARCH_FAULT_WRITE, why, sizeof(why)));
	CHECK(strstr(why, "stack overflow of worker-7"));
	/* The public calls leave stacks alone. */
	CHECK(noos_vm_decommit(top - PAGE_SIZE, PAGE_SIZE) == -EINVAL);
	CHECK(noos_vm_protect(top - PAGE_SIZE, PAGE_SIZE, NOOS_PROT_READ) == -EINVAL);
	EXPECT_PANIC(noos_vm_release((void *)guard, PAGE_SIZE), "never reserved");
	EXPECT_PANIC(stack_free(top - PAGE_SIZE), "not the top of a stack");
	stack_free(top);
	CHECK(stub_pages == pages && stats().vm_spans == 0);
	CHECK(!vm_describe(guard + 100, ARCH_FAULT_WRITE, why, sizeof(why)));

	vm_guard_static(0x7000, "the boot stack");
	CHECK(vm_describe(0x7010, ARCH_FAULT_WRITE, why, sizeof(why)));
	CHECK(strstr(why, "stack overflow of the boot stack"));
	CHECK(!vm_describe(0x10, ARCH_FAULT_READ, why, sizeof(why)) && strstr(why, "null"));
	CHECK(!stack_alloc(0, "x"));
	stub_fail_after = 2; /* the third page is missing: nothing stays behind */
	CHECK(!stack_alloc(4 * PAGE_SIZE, "short"));
	stub_fail_after = -1;
	CHECK(stub_pages == pages && stats().vm_spans == 0);
}

/* ---- random operations against a model ---- */

#define NPAGES 256

struct model_page {
	uint8_t state; /* 0 free, 1 reserved, 2 committed */
	uint8_t prot;  /* NOOS_PROT_* when committed */
	bool present;
	uint8_t tag; /* first byte of the page when present */
};
static struct model_page model[NPAGES];
static uintptr_t region;

static const int prots[] = {NOOS_PROT_NONE, NOOS_PROT_READ, NOOS_PROT_READ | NOOS_PROT_WRITE,
                            NOOS_PROT_READ | NOOS_PROT_EXEC};

static bool states_at_least(unsigned i, unsigned j, unsigned min, unsigned max)
{
	for (unsigned k = i; k < j; k++)
		if (model[k].state < min || model[k].state > max)
			return false;
	return true;
}

/* What one random operation on pages [i, j) must return, applied to the model. */
static void random_op(unsigned i, unsigned j)
{
	void *a = (void *)(region + i * PAGE_SIZE), *got;
	size_t size = (j - i) * PAGE_SIZE;
	int prot = prots[rand() % 4], want;
	switch (rand() % 5) {
	case 0: /* reserve exactly there through the hint, when it is free */
		if (!states_at_least(i, j, 0, 0))
			return;
		CHECK(noos_vm_reserve(size, a, &got) == 0 && got == a);
		for (unsigned k = i; k < j; k++)
			model[k].state = 1;
		return;
	case 1:
		want = states_at_least(i, j, 1, 2) ? 0 : -EINVAL;
		CHECK(noos_vm_commit(a, size, prot) == want);
		for (unsigned k = i; k < j && !want; k++)
			model[k].state = 2, model[k].prot = (uint8_t)prot;
		return;
	case 2:
		want = states_at_least(i, j, 1, 2) ? 0 : -EINVAL;
		CHECK(noos_vm_decommit(a, size) == want);
		for (unsigned k = i; k < j && !want; k++)
			model[k].state = 1, model[k].present = false;
		return;
	case 3:
		want = states_at_least(i, j, 2, 2) ? 0 : -EINVAL;
		CHECK(noos_vm_protect(a, size, prot) == want);
		for (unsigned k = i; k < j && !want; k++)
			model[k].prot = (uint8_t)prot;
		return;
	default:
		if (!states_at_least(i, j, 1, 2))
			return; /* that panics (debug): test_errors covers it */
		CHECK(noos_vm_release(a, size) == 0);
		for (unsigned k = i; k < j; k++)
			model[k] = (struct model_page){0};
	}
}

static void random_touch(unsigned k)
{
	struct model_page *m = &model[k];
	unsigned fault =
	    (unsigned[]){ARCH_FAULT_READ, ARCH_FAULT_WRITE, ARCH_FAULT_EXEC}[rand() % 3];
	bool allowed = m->state == 2 && m->prot != NOOS_PROT_NONE &&
	               (!(fault & ARCH_FAULT_WRITE) || (m->prot & NOOS_PROT_WRITE)) &&
	               (!(fault & ARCH_FAULT_EXEC) || (m->prot & NOOS_PROT_EXEC));
	CHECK(vm_fault(region + k * PAGE_SIZE + 8, fault) == allowed);
	if (!allowed)
		return;
	uint8_t *p = page_of(region + k * PAGE_SIZE, NULL);
	if (!m->present) {
		CHECK(p && all_zero(p));
		m->tag = 0;
	}
	m->present = true;
	if (p && (fault & ARCH_FAULT_WRITE))
		*p = m->tag = (uint8_t)(rand() | 1);
}

static void check_model(void)
{
	uint64_t resident = 0, reserved = 0, runs = 0;
	for (unsigned k = 0; k < NPAGES; k++) {
		const struct model_page *m = &model[k];
		unsigned prot;
		uint8_t *p = page_of(region + k * PAGE_SIZE, &prot);
		CHECK_MSG(!!p == m->present, "page %u: present %d, model %d", k, !!p, m->present);
		if (p && m->present) {
			CHECK_MSG(prot == (unsigned)(m->prot ? m->prot : 0), "page %u prot", k);
			CHECK_MSG(*p == m->tag, "page %u holds %u, model %u", k, *p, m->tag);
		}
		resident += m->present;
		reserved += m->state != 0;
		if (m->state && (k == 0 || model[k - 1].state != m->state ||
		                 (m->state == 2 && model[k - 1].prot != m->prot)))
			runs++;
	}
	struct noos_mem_stats st = stats();
	CHECK(st.vm_resident_pages == resident && (uint64_t)stub_pages == resident);
	CHECK(st.vm_reserved_bytes == reserved * PAGE_SIZE);
	CHECK_MSG(st.vm_spans == runs, "%lu spans, model %lu runs", (unsigned long)st.vm_spans,
	          (unsigned long)runs);
}

static void test_random(void)
{
	void *a;
	long pt_before = stub_pt_pages;
	CHECK(noos_vm_reserve(NPAGES * PAGE_SIZE, (void *)(ARCH_VM_BASE + (1ull << 30)), &a) == 0);
	region = (uintptr_t)a;
	for (unsigned k = 0; k < NPAGES; k++)
		model[k].state = 1;
	srand(4);
	for (int step = 0; step < 20000 && !check_failures; step++) {
		if (rand() % 3) {
			random_touch(rand() % NPAGES);
		} else {
			unsigned i = rand() % NPAGES, len = 1 + rand() % (rand() % 4 ? 8 : NPAGES);
			random_op(i, i + len < NPAGES ? i + len : NPAGES);
		}
		check_model();
	}
	for (unsigned k = 0; k < NPAGES; k++)
		if (model[k].state)
			CHECK(noos_vm_release((void *)(region + k * PAGE_SIZE), PAGE_SIZE) == 0);
	CHECK(stub_pages == 0 && stub_pt_pages == pt_before && stats().vm_spans == 0);
}

int main(void)
{
	CHECK(pt_init() == 0);
	test_demand_zero();
	test_errors();
	test_stacks();
	test_random();
	return check_report("vm");
}
