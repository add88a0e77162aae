/*
 * rt/pagetable.c on the host (tests/host/pte.h encodings): large leaves
 * where alignment allows, splitting when a finer mapping replaces part of
 * one, clearing, refusing to overwrite, unmapping in batches, protection
 * changes, pruning empty tables, and device mappings on demand.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "panic_catch.h"
#include "rt.h"
#include "vm_stubs.h"

#define GIB    (1ull << 30)
#define MIB    (1ull << 20)
#define RW     (ARCH_PROT_READ | ARCH_PROT_WRITE)
#define DEV    (RW | ARCH_PROT_DEVICE)
#define WINDOW ARCH_VM_BASE

static bool mapped(uint64_t va, uint64_t *pa, unsigned *prot)
{
	return pt_lookup(va, pa, prot);
}

static void test_large_and_split(void)
{
	uint64_t pa;
	unsigned prot;
	CHECK(pt_set(0, 0, 4 * GIB, DEV, PT_LARGE | PT_REPLACE) == 0);
	CHECK(stub_pt_pages == 2); /* root and one level-2 table of four 1 GiB leaves */
	CHECK(mapped(3 * GIB + 5, &pa, &prot) && pa == 3 * GIB + 5 && prot == DEV);

	/* RAM over part of it: 2 MiB leaves inside the first GiB, which splits. */
	CHECK(pt_set(2 * MIB, 2 * MIB, 100 * MIB, RW, PT_LARGE | PT_REPLACE) == 0);
	CHECK(stub_pt_pages == 3);
	CHECK(mapped(50 * MIB, &pa, &prot) && pa == 50 * MIB && prot == RW);
	CHECK(mapped(1 * MIB, &pa, &prot) && prot == DEV);    /* below: still the device */
	CHECK(mapped(200 * MIB, &pa, &prot) && prot == DEV);  /* above, same GiB */
	CHECK(mapped(GIB + 4096, &pa, &prot) && prot == DEV); /* other GiB untouched */

	/* One 4 KiB page of text inside a 2 MiB leaf, and the null page cleared. */
	CHECK(pt_set(4 * MIB + 4096, 4 * MIB + 4096, 4096, ARCH_PROT_READ | ARCH_PROT_EXEC,
	             PT_REPLACE) == 0);
	CHECK(stub_pt_pages == 4);
	CHECK(mapped(4 * MIB + 4096, &pa, &prot) && prot == (ARCH_PROT_READ | ARCH_PROT_EXEC));
	CHECK(mapped(4 * MIB, &pa, &prot) && pa == 4 * MIB && prot == RW);
	CHECK(mapped(4 * MIB + 8192, &pa, &prot) && pa == 4 * MIB + 8192 && prot == RW);
	CHECK(pt_set(0, 0, 4096, 0, PT_CLEAR | PT_REPLACE) == 0);
	CHECK(!mapped(0, &pa, &prot) && !mapped(100, &pa, &prot));
	CHECK(mapped(4096, &pa, &prot) && pa == 4096 && prot == DEV);

	/* Without PT_REPLACE nothing mapped is overwritten, large or not. */
	CHECK(pt_set(8 * MIB, 8 * MIB, 4096, RW, 0) == -EEXIST);
	CHECK(pt_set(4 * MIB + 4096, 0, 4096, RW, 0) == -EEXIST);
	CHECK(pt_set(1, 0, 4096, RW, 0) == -EINVAL);
	CHECK(pt_set((1ull << 48) - 4096, 0, 8192, RW, 0) == -EINVAL);
}

static void test_window_pages(void)
{
	uint64_t pa[8], stop, got;
	unsigned prot;
	long before = stub_pt_pages;
	/* Three pages far apart in the window: each needs its own last-level table. */
	uint64_t va[3] = {WINDOW, WINDOW + 64 * MIB, WINDOW + GIB + 4096};
	for (int i = 0; i < 3; i++)
		CHECK(pt_set(va[i], 0x1000ull * (i + 1), 4096, RW, PT_LARGE) == 0);
	CHECK(stub_pt_pages - before == 1 + 2 + 3); /* one level-2, two level-1, three level-0 */
	CHECK(pt_set(va[0], 0x5000, 4096, RW, 0) == -EEXIST);

	CHECK(pt_protect(WINDOW, 2 * GIB, ARCH_PROT_READ) == 3);
	CHECK(mapped(va[1], &got, &prot) && prot == ARCH_PROT_READ && got == 0x2000);
	CHECK(pt_protect(WINDOW, 4096, 0) == 1); /* kept with no access */
	CHECK(mapped(va[0], &got, &prot) && prot == 0 && got == 0x1000);
	CHECK(pt_protect(0, 4 * MIB, ARCH_PROT_READ) == -EINVAL); /* large leaves there */

	/* Unmap two at a time: the first batch stops after the second page. */
	size_t n = pt_unmap(WINDOW, 2 * GIB, pa, 2, &stop);
	CHECK(n == 2 && pa[0] == 0x1000 && pa[1] == 0x2000 && stop == va[1] + 4096);
	n = pt_unmap(stop, WINDOW + 2 * GIB - stop, pa, 8, &stop);
	CHECK(n == 1 && pa[0] == 0x3000 && stop == WINDOW + 2 * GIB);
	CHECK(!mapped(va[2], &got, &prot));

	/* The tables are empty now: pruning gives back all six, and nothing maps there. */
	long pruned = 0;
	for (void *t = pt_prune(WINDOW, 2 * GIB); t;) {
		void *next = pt_list_next(t);
		pt_page_free(t);
		t = next;
		pruned++;
	}
	CHECK(pruned == 5); /* the level-2 table covers 512 GiB, more than was pruned */
	CHECK(stub_pt_pages - before == 1);
	for (void *t = pt_prune(WINDOW, 512 * GIB); t;) {
		void *next = pt_list_next(t);
		pt_page_free(t);
		t = next;
		pruned++;
	}
	CHECK(pruned == 6 && stub_pt_pages == before);
	CHECK(pt_set(va[1], 0x9000, 4096, RW, 0) == 0); /* and the window maps again */
	CHECK(pt_unmap(va[1], 4096, pa, 8, &stop) == 1);
	for (void *t = pt_prune(WINDOW, 512 * GIB); t;) {
		void *next = pt_list_next(t);
		pt_page_free(t);
		t = next;
	}
	CHECK(stub_pt_pages == before);
}

static void test_prune_keeps_live_tables(void)
{
	uint64_t pa[4], stop, got;
	unsigned prot;
	long before = stub_pt_pages;
	CHECK(pt_set(WINDOW, 0x1000, 4096, RW, 0) == 0);
	CHECK(pt_set(WINDOW + 4 * MIB, 0x2000, 4096, RW, 0) == 0);
	CHECK(pt_unmap(WINDOW, 4096, pa, 4, &stop) == 1);
	/* Prune only the first 2 MiB: its table goes, the one still mapping stays. */
	void *t = pt_prune(WINDOW, 2 * MIB);
	CHECK(t && !pt_list_next(t));
	pt_page_free(t);
	CHECK(mapped(WINDOW + 4 * MIB, &got, &prot) && got == 0x2000);
	CHECK(pt_prune(WINDOW, 4 * MIB + 4096) == NULL); /* the live one is not wholly inside */
	CHECK(pt_unmap(WINDOW, 8 * MIB, pa, 4, &stop) == 1);
	for (t = pt_prune(WINDOW, 512 * GIB); t;) {
		void *next = pt_list_next(t);
		pt_page_free(t);
		t = next;
	}
	CHECK_MSG(stub_pt_pages == before, "%ld vs %ld", stub_pt_pages, before);
}

static void test_device(void)
{
	uint64_t pa;
	unsigned prot;
	/* Above what is mapped: 2 MiB aligned and sized, so one large leaf. */
	uint64_t bar = 64 * GIB;
	CHECK(pt_map_device(bar, bar + 2 * MIB) == 0);
	CHECK(mapped(bar + 12345, &pa, &prot) && pa == bar + 12345 && prot == DEV);
	CHECK(pt_map_device(bar + 4096, bar + 8192) == 0); /* already there */
	/* Partly mapped already: only the rest is added. */
	CHECK(pt_map_device(bar + MIB, bar + 3 * MIB) == 0);
	CHECK(mapped(bar + 3 * MIB - 1, &pa, &prot) && prot == DEV);
	CHECK(pt_map_device(50 * MIB, 50 * MIB + 4096) == -EEXIST); /* RAM */
	CHECK(pt_map_device(3 * GIB, 3 * GIB + 4096) == 0);         /* device already */
}

int main(void)
{
	CHECK(pt_init() == 0 && stub_pt_pages == 1);
	test_large_and_split();
	test_window_pages();
	test_prune_keeps_live_tables();
	test_device();
	return check_report("pagetable");
}
