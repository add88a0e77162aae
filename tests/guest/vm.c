/*
 * vm: noos's page tables and virtual memory from the inside (issue 4). The
 * first argument selects the case:
 *
 *   map mib=N [high=1]  the RAM QEMU was given (-m N) is mapped and usable:
 *                       noos reports N MiB less the firmware's holes, and
 *                       allocating until malloc returns NULL hands out all
 *                       of it (with high=1: some above 4 GiB), every page
 *                       writable; after freeing, everything is back.
 *   demand              reserve and commit 512 MiB, touch four pages far
 *                       apart: zeros, and free memory drops by those pages
 *                       and a few page tables only; decommit, protect,
 *                       release and stacks give everything back.
 *
 * and the cases that must end in a panic with a clear report (status 101):
 *   ro-write      write to memory protected read-only
 *   decommitted   read of memory after decommit
 *   text-write    write to kernel text
 *   rodata-write  write to a string constant
 *   null          read through a null pointer
 *   exec-data     call into writable data (W^X)
 *   overflow      unbounded recursion on main's stack (the boot stack, or
 *                 thread "main"): its guard page
 *
 * Prints "vm: ok" and returns 0, or FAIL lines and returns 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "noos.h"
#include "rt.h"

#define MIB         (1ull << 20)
#define BIG_CHUNK   (16 * MIB)
#define SMALL_CHUNK (64 * 1024)
#define MAX_CHUNKS  4096

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                     \
			printf(__VA_ARGS__);                                                       \
			printf("\n");                                                              \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static struct noos_mem_stats stats(void)
{
	struct noos_mem_stats st;
	noos_mem_stats(&st);
	return st;
}

/* key=value from the command line (the environment), as a number; 0 when absent. */
static unsigned long env_ul(const char *key)
{
	const char *v = noos_getenv(key);
	return v ? strtoul(v, NULL, 0) : 0;
}

/* ---- map ---- */

/* Write a word into every page of [p, p + size) and read them back; false if one differs. */
static bool fill_and_check(char *p, size_t size)
{
	for (size_t off = 0; off < size; off += NOOS_PAGE_SIZE)
		*(volatile uintptr_t *)(p + off) = (uintptr_t)(p + off) ^ 0x5a5a5a5a;
	for (size_t off = 0; off < size; off += NOOS_PAGE_SIZE)
		if (*(volatile uintptr_t *)(p + off) != ((uintptr_t)(p + off) ^ 0x5a5a5a5a))
			return false;
	return true;
}

static void *chunks[MAX_CHUNKS];
static size_t nchunks;

/* malloc blocks of `size` until it says no; returns the bytes it gave. */
static uint64_t take_all(size_t size, uintptr_t *highest)
{
	uint64_t bytes = 0;
	while (nchunks < MAX_CHUNKS) {
		char *p = malloc(size);
		if (!p)
			break;
		CHECK(fill_and_check(p, size), "block %p does not hold what was written", p);
		if ((uintptr_t)p + size > *highest)
			*highest = (uintptr_t)p + size;
		chunks[nchunks++] = p;
		bytes += size;
	}
	return bytes;
}

static int test_map(void)
{
	unsigned long mib = env_ul("mib");
	struct noos_mem_stats st = stats();
	uint64_t given = (uint64_t)mib * MIB;
	printf("vm: %lu KiB RAM mapped of %lu MiB given, %lu KiB free, page tables %lu KiB\n",
	       (unsigned long)(st.ram_bytes >> 10), mib, (unsigned long)(st.free_pages * 4),
	       (unsigned long)(st.pagetable_pages * 4));
	/* x86 firmware keeps the 384 KiB below 1 MiB and ACPI tables at the top of low RAM. */
	CHECK(st.ram_bytes <= given && st.ram_bytes + 2 * MIB >= given, "mib=%lu", mib);

	uintptr_t highest = 0;
	uint64_t got = take_all(BIG_CHUNK, &highest);
	got += take_all(SMALL_CHUNK, &highest);
	struct noos_mem_stats full = stats();
	printf("vm: malloc gave %lu MiB in %lu blocks before NULL, highest address %#lx\n",
	       (unsigned long)(got / MIB), (unsigned long)nchunks, (unsigned long)highest);
	CHECK(nchunks < MAX_CHUNKS, "ran out of slots, not memory");
	for (unsigned k = 4; k < NOOS_MEM_ORDERS; k++) /* 4: SMALL_CHUNK */
		CHECK(full.free_blocks[k] == 0, "%lu free blocks of %lu KiB left",
		      (unsigned long)full.free_blocks[k], 4ul << k);
	CHECK(got + 2 * MIB >= st.free_pages * NOOS_PAGE_SIZE, "only %lu of %lu KiB handed out",
	      (unsigned long)(got >> 10), (unsigned long)(st.free_pages * 4));
	CHECK(full.failed_allocs > st.failed_allocs, "no refusal counted");
	if (env_ul("high"))
		CHECK(highest > (4ull << 30), "nothing above 4 GiB was handed out");
	while (nchunks)
		free(chunks[--nchunks]);
	CHECK(stats().free_pages == st.free_pages, "%lu pages free after freeing, %lu before",
	      (unsigned long)stats().free_pages, (unsigned long)st.free_pages);
	void *p = malloc(100); /* and the system keeps going */
	CHECK(p != NULL, "malloc after exhaustion");
	free(p);
	return failures;
}

/* ---- demand ---- */

static void check_reserve_limits(void)
{
	void *a, *b, *c;
	const size_t tib = 1ull << 40;
	CHECK(noos_vm_reserve(16 * tib, NULL, &a) == 0, "16 TiB of address space");
	CHECK(noos_vm_reserve(16 * tib, NULL, &b) == 0, "another 16 TiB");
	CHECK(noos_vm_reserve(16 * tib, NULL, &c) == -ENOMEM, "the window holds 48 TiB");
	CHECK(noos_vm_reserve(4095, NULL, &c) == -EINVAL, "misaligned size");
	CHECK(noos_vm_release(a, 16 * tib) == 0 && noos_vm_release(b, 16 * tib) == 0, "release");
}

static void check_stack(void)
{
	uint64_t before = stats().free_pages;
	char *top = stack_alloc(64 * 1024, "vm-test");
	CHECK(top != NULL && (uintptr_t)top % 16 == 0, "stack_alloc");
	if (!top)
		return;
	CHECK(fill_and_check(top - 64 * 1024, 64 * 1024), "every stack page is there");
	CHECK(before - stats().free_pages >= 16, "stack pages are taken at once");
	stack_free(top);
	CHECK(stats().free_pages == before, "stack_free gives them back");
}

static int test_demand(void)
{
	char *a;
	/* Once first: the reservation bookkeeping's own heap block stays allocated. */
	CHECK(noos_vm_reserve(NOOS_PAGE_SIZE, NULL, (void **)&a) == 0, "reserve");
	CHECK(noos_vm_release(a, NOOS_PAGE_SIZE) == 0, "release");
	struct noos_mem_stats st = stats();
	CHECK(noos_vm_reserve(512 * MIB, NULL, (void **)&a) == 0, "reserve");
	CHECK(noos_vm_commit(a, 512 * MIB, NOOS_PROT_READ | NOOS_PROT_WRITE) == 0, "commit");
	CHECK(noos_vm_commit(a, NOOS_PAGE_SIZE, NOOS_PROT_WRITE | NOOS_PROT_EXEC) == -EINVAL,
	      "W^X");
	CHECK(stats().free_pages == st.free_pages, "commit alone takes no memory");
	size_t off[4] = {0, 100 * MIB + 12345, 300 * MIB, 512 * MIB - 1};
	for (int i = 0; i < 4; i++) {
		CHECK(a[off[i]] == 0 && a[off[i] ^ 0xff] == 0, "a fresh page reads zero");
		a[off[i]] = (char)(i + 1);
	}
	struct noos_mem_stats t = stats();
	uint64_t used = st.free_pages - t.free_pages;
	printf("vm: 4 pages touched in 512 MiB: %lu pages used, %lu of them page tables\n",
	       (unsigned long)used, (unsigned long)(t.pagetable_pages - st.pagetable_pages));
	CHECK(used >= 4 && used <= 4 + 4 + 2 + 1, "%lu pages", (unsigned long)used);
	CHECK(t.vm_resident_pages - st.vm_resident_pages == 4, "4 resident");

	CHECK(noos_vm_protect(a, 512 * MIB, NOOS_PROT_READ) == 0, "protect");
	CHECK(a[off[1]] == 2, "contents kept");
	CHECK(noos_vm_decommit(a, 512 * MIB) == 0, "decommit");
	CHECK(st.free_pages - stats().free_pages == used - 4, "decommit returns the pages");
	CHECK(noos_vm_commit(a, 512 * MIB, NOOS_PROT_READ | NOOS_PROT_WRITE) == 0, "recommit");
	CHECK(a[off[2]] == 0, "after decommit, zeros again");
	CHECK(noos_vm_release(a, 512 * MIB) == 0, "release");
	t = stats();
	CHECK(t.free_pages == st.free_pages && t.pagetable_pages == st.pagetable_pages,
	      "release returns pages and page tables (%lu free, %lu before)",
	      (unsigned long)t.free_pages, (unsigned long)st.free_pages);
	check_reserve_limits();
	check_stack();
	uint64_t shot = tlb_shootdowns();
	printf("vm: %u cpus, %lu TLB shootdowns\n", cpu_count(), (unsigned long)shot);
	CHECK(cpu_count() == 1 || shot > 0 || arch_tlb_flush_broadcast(0, NOOS_PAGE_SIZE),
	      "several CPUs and no shootdown");
	return failures;
}

/* ---- faults ---- */

static const char constant[] = "a string constant";
static unsigned char data_code[64] = {0xc3}; /* x86 RET, and then data: never runs */
static volatile uintptr_t zero;

/* Recursion the compiler cannot turn into a loop: a frame that is used after the call. */
__attribute__((noinline)) static unsigned recurse(unsigned depth)
{
	volatile char frame[256];
	frame[0] = (char)depth;
	if (depth == ~0u) /* never: there is not that much stack */
		return 0;
	return recurse(depth + 1) + frame[0];
}

static char *one_page(int prot)
{
	void *a;
	if (noos_vm_reserve(NOOS_PAGE_SIZE, NULL, &a) || noos_vm_commit(a, NOOS_PAGE_SIZE, prot))
		return NULL;
	return a;
}

static int test_fault(const char *kind)
{
	char *p = one_page(NOOS_PROT_READ | NOOS_PROT_WRITE);
	if (!p)
		return 1;
	p[0] = 42;
	if (strcmp(kind, "ro-write") == 0) {
		noos_vm_protect(p, NOOS_PAGE_SIZE, NOOS_PROT_READ);
		printf("vm: read back %d\n", p[0]);
		*(volatile char *)p = 1;
	} else if (strcmp(kind, "decommitted") == 0) {
		noos_vm_decommit(p, NOOS_PAGE_SIZE);
		printf("vm: read %d\n", *(volatile char *)p);
	} else if (strcmp(kind, "text-write") == 0) {
		*(volatile char *)(uintptr_t)test_fault = 0;
	} else if (strcmp(kind, "rodata-write") == 0) {
		*(volatile char *)(uintptr_t)constant = 0;
	} else if (strcmp(kind, "null") == 0) {
		printf("vm: read %d\n", *(volatile int *)zero);
	} else if (strcmp(kind, "exec-data") == 0) {
		((void (*)(void))(uintptr_t)data_code)();
	} else if (strcmp(kind, "overflow") == 0) {
		printf("vm: %u\n", recurse(0));
	} else {
		printf("FAIL unknown case %s\n", kind);
		return 1;
	}
	printf("vm: survived %s, which is wrong\n", kind);
	return 1;
}

int main(int argc, char **argv)
{
	const char *kind = argc > 1 ? argv[1] : "demand";
	printf("vm: %s\n", kind);
	int r;
	if (strcmp(kind, "map") == 0)
		r = test_map();
	else if (strcmp(kind, "demand") == 0)
		r = test_demand();
	else
		return test_fault(kind);
	if (r == 0)
		printf("vm: ok\n");
	return r ? 1 : 0;
}
