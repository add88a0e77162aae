/*
 * What rt/vm.c and rt/pagetable.c need from the kernel around them, for
 * host tests (vm_stubs.c): pages from the host heap, counted so tests can
 * check for leaks; TLB flushes recorded; one CPU with interrupts that
 * nothing delivers.
 */
#ifndef NOOS_TEST_VM_STUBS_H
#define NOOS_TEST_VM_STUBS_H

#include <stddef.h>
#include <stdint.h>

extern long stub_pages;      /* page_alloc'd and not freed */
extern long stub_pt_pages;   /* pt_page_alloc'd and not freed */
extern long stub_flushes;    /* tlb_flush calls */
extern long stub_fail_after; /* page_alloc fails once this reaches 0 (-1: never) */

#endif
