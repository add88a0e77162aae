/*
 * Thread stacks: memory in the virtual memory window (vm.c) with an
 * unmapped guard page below each. A thread that runs off the bottom of its
 * stack touches the guard page, and the fault is reported as "stack
 * overflow of <name>" (vm_describe) instead of corrupting whatever lay
 * below: on aarch64 the fault is taken on SP_EL1, a separate stack; on
 * x86_64 pushing the fault's frame onto the overflowed stack faults again,
 * and the double fault runs on its own IST stack (trap.c), which checks CR2.
 *
 * Stacks are mapped and zeroed whole when allocated, not on demand: on
 * x86_64 a page fault on the running thread's own stack could not be taken.
 */
#include "rt.h"

#define STACK_MAX (64ul << 20) /* anything larger is a caller's mistake */

/*
 * A stack of at least `size` bytes (rounded up to pages) named for reports
 * (copied, VM_NAME_MAX - 1 characters kept). Returns its top: the address
 * just above it, 16-byte aligned as both ABIs want, or NULL when there is no
 * memory or size is 0 or absurd.
 */
void *stack_alloc(size_t size, const char *name)
{
	if (size == 0 || size > STACK_MAX)
		return NULL;
	size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	uintptr_t base;
	if (vm_stack_create(size, name, &base) != 0)
		return NULL;
	return (void *)(base + size);
}

/* Free a stack stack_alloc returned (its top); panics on anything else. */
void stack_free(void *top)
{
	if (!top)
		return;
	if (vm_stack_destroy((uintptr_t)top) != 0)
		panic("stack_free(%p): not the top of a stack from stack_alloc", top);
}
