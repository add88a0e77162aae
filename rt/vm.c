/*
 * Virtual memory for a language runtime's mmap: address space reserved in
 * [ARCH_VM_BASE, ARCH_VM_END) with nothing behind it, committed memory that
 * appears zeroed page by page on first touch (through the page-fault
 * handler: vm_fault), decommit, protection changes and release; and the
 * thread stacks of stack.c, whose guard pages make an overflow a report.
 *
 * Bookkeeping is by ranges, never by page: a sorted array of spans, each a
 * run of pages in one state (reserved, committed with a protection, stack,
 * guard), kept by vm_span.c. A runtime that reserves and commits hundreds
 * of MiB and touches little costs one or two spans, plus page tables and
 * pages only for what it touches. Adjacent spans in the same state merge.
 *
 * Semantics (see noos.h): commit over committed memory keeps the pages that
 * are there and applies the new protection. Decommit is MADV_DONTNEED plus
 * PROT_NONE: the pages go back to the page allocator and the range is
 * reserved again, so a touch is a real fault until it is committed again,
 * and then it reads zeros. Protect applies to committed memory only. The
 * public calls never touch stacks or their guards.
 *
 * Locking: vm.lock (interrupts off on this CPU) guards the spans and the
 * counters; page tables have their own lock inside pagetable.c. TLB
 * shootdowns happen with vm.lock held, so a CPU spinning for it answers
 * them meanwhile (tlb_poll), and pages are freed only after the flush.
 */
#include <errno.h>

#include "noos.h"
#include "rt.h"

#ifdef NDEBUG
#define VM_DEBUG false
#else
#define VM_DEBUG true
#endif

#define STATIC_GUARDS 4
#define UNMAP_BATCH   64
#define NULL_LIMIT    65536 /* a fault this low is a null pointer with a small offset */

static struct {
	struct spinlock lock;
	unsigned owner;        /* the CPU holding lock, else UINT32_MAX */
	struct vm_spans spans; /* vm_span.c */
	uint64_t reserved_bytes, resident_pages, failed_faults;
	struct vm_span guards[STATIC_GUARDS]; /* boot stack guard pages outside the window */
	unsigned nguards;
} vm = {.owner = UINT32_MAX};

static unsigned long vm_lock(void)
{
	unsigned long flags = arch_irq_save();
	while (__atomic_exchange_n(&vm.lock.locked, true, __ATOMIC_ACQUIRE))
		tlb_poll(); /* the holder may be waiting for this CPU to flush */
	vm.owner = arch_cpu_id();
	return flags;
}

static void vm_unlock(unsigned long flags)
{
	vm.owner = UINT32_MAX;
	spin_unlock(&vm.lock);
	arch_irq_restore(flags);
}

static bool in_window(uintptr_t a, size_t size)
{
	return a >= ARCH_VM_BASE && a < ARCH_VM_END && size <= ARCH_VM_END - a;
}

static bool page_aligned(uintptr_t a, size_t size)
{
	return ((a | size) & (PAGE_SIZE - 1)) == 0;
}

/* ---- pages ---- */

static void zero_page(void *p)
{
	uint64_t *w = p;
	for (size_t i = 0; i < PAGE_SIZE / sizeof(*w); i++)
		w[i] = 0;
}

/* Unmap and free every page in [a, e): in batches, each flushed before its pages are freed. */
static void drop_pages(uintptr_t a, uintptr_t e)
{
	uint64_t pa[UNMAP_BATCH];
	while (a < e) {
		uint64_t stop;
		size_t n = pt_unmap(a, e - a, pa, UNMAP_BATCH, &stop);
		if (n) {
			tlb_flush(a, stop - a);
			for (size_t i = 0; i < n; i++)
				page_free(phys_to_virt(pa[i]));
			vm.resident_pages -= n;
		}
		a = stop;
	}
}

/* Free the page tables that only mapped [a, e), after every CPU forgot them. */
static void drop_tables(uintptr_t a, uintptr_t e)
{
	void *list = pt_prune(a, e - a);
	if (!list)
		return;
	tlb_flush(a, e - a);
	while (list) {
		void *next = pt_list_next(list);
		pt_page_free(list);
		list = next;
	}
}

/* A zeroed page mapped at va with prot; 0 or -ENOMEM. */
static int populate(uintptr_t va, unsigned prot)
{
	void *p = page_alloc(0);
	if (!p)
		return -ENOMEM;
	zero_page(p);
	int err = pt_set(va, virt_to_phys(p), PAGE_SIZE, prot, 0);
	if (err) {
		page_free(p);
		return err == -EEXIST ? 0 : err;
	}
	vm.resident_pages++;
	return 0;
}

/* Apply prot to the pages present in [a, e), flushing stale translations. */
static void reprotect(uintptr_t a, uintptr_t e, unsigned prot)
{
	long changed = pt_protect(a, e - a, prot);
	if (changed > 0)
		tlb_flush(a, e - a);
	if (changed > 0 && (prot & ARCH_PROT_EXEC))
		for (uintptr_t p = a; p < e; p += PAGE_SIZE) {
			uint64_t pa;
			unsigned pp;
			if (pt_lookup(p, &pa, &pp))
				arch_sync_icache(p, PAGE_SIZE);
		}
}

/* ---- reservations ---- */

/* Lowest free address for size bytes, one unmapped page after the span before it; 0 if none. */
static uintptr_t place(size_t size, uintptr_t hint)
{
	if (hint && page_aligned(hint, 0) && in_window(hint, size)) {
		size_t i = vm_spans_find(&vm.spans, hint);
		if (i == vm.spans.n || vm.spans.v[i].base >= hint + size)
			return hint;
	}
	uintptr_t a = ARCH_VM_BASE;
	for (size_t i = 0;; i++) {
		uintptr_t next = i < vm.spans.n ? vm.spans.v[i].base : ARCH_VM_END;
		if (next >= a && next - a >= size)
			return a;
		if (i == vm.spans.n)
			return 0;
		a = vm.spans.v[i].end + PAGE_SIZE;
	}
}

/* Reserve size bytes (near hint if it is free) as one span; 0 or -ENOMEM. */
static int reserve_span(size_t size, uintptr_t hint, enum vm_span_kind kind, unsigned prot,
                        const char *name, uintptr_t *out)
{
	if (!vm_spans_room(&vm.spans, 1))
		return -ENOMEM;
	uintptr_t a = place(size, hint);
	if (!a)
		return -ENOMEM;
	struct vm_span s = {
	    .base = a, .end = a + size, .kind = (uint8_t)kind, .prot = (uint8_t)prot};
	vm_span_name(s.name, name);
	size_t i = vm_spans_find(&vm.spans, a);
	vm_spans_insert(&vm.spans, i, &s);
	vm_spans_merge(&vm.spans, i, i);
	vm.reserved_bytes += size;
	*out = a;
	return 0;
}

/*
 * Take [a, e) out of the spans and out of the page tables, with the tables
 * of the whole unreserved gap it now lies in (earlier releases may have
 * left tables there that were shared with what was still reserved).
 */
static void release_range(uintptr_t a, uintptr_t e)
{
	drop_pages(a, e);
	vm_spans_split(&vm.spans, a);
	vm_spans_split(&vm.spans, e);
	size_t i = vm_spans_find(&vm.spans, a), j = i;
	while (j < vm.spans.n && vm.spans.v[j].base < e)
		j++;
	vm_spans_remove(&vm.spans, i, j - i);
	vm.reserved_bytes -= e - a;
	drop_tables(i > 0 ? vm.spans.v[i - 1].end : ARCH_VM_BASE,
	            i < vm.spans.n ? vm.spans.v[i].base : ARCH_VM_END);
}

/* ---- the public calls (noos.h) ---- */

#define PUBLIC_KINDS ((1u << SPAN_RESERVED) | (1u << SPAN_COMMITTED))

/* NOOS_PROT_* -> ARCH_PROT_*; -EINVAL for unknown bits and for write + execute (W^X). */
static int arch_prot(int prot)
{
	if (prot & ~(NOOS_PROT_READ | NOOS_PROT_WRITE | NOOS_PROT_EXEC))
		return -EINVAL;
	if ((prot & NOOS_PROT_WRITE) && (prot & NOOS_PROT_EXEC))
		return -EINVAL;
	unsigned p = 0;
	if (prot)
		p |= ARCH_PROT_READ; /* neither arch can map write- or execute-only */
	if (prot & NOOS_PROT_WRITE)
		p |= ARCH_PROT_WRITE;
	if (prot & NOOS_PROT_EXEC)
		p |= ARCH_PROT_EXEC;
	return (int)p;
}

static bool args_ok(const void *addr, size_t size)
{
	return size > 0 && page_aligned((uintptr_t)addr, size) && in_window((uintptr_t)addr, size);
}

int noos_vm_reserve(size_t size, void *hint, void **addr)
{
	if (!addr || size == 0 || !page_aligned(0, size) || size > ARCH_VM_END - ARCH_VM_BASE)
		return -EINVAL;
	unsigned long f = vm_lock();
	uintptr_t a = 0;
	int err = reserve_span(size, (uintptr_t)hint, SPAN_RESERVED, 0, NULL, &a);
	vm_unlock(f);
	if (!err)
		*addr = (void *)a;
	return err;
}

/*
 * Under vm.lock: whether [a, e) is all of `kinds` (-EINVAL when not) and
 * the span array has room to split it at both ends (-ENOMEM when not).
 */
static int check_range(uintptr_t a, uintptr_t e, unsigned kinds)
{
	if (!vm_spans_cover(&vm.spans, a, e, kinds))
		return -EINVAL;
	return vm_spans_room(&vm.spans, 2) ? 0 : -ENOMEM;
}

/*
 * commit and protect alike: the range, now of one of `kinds`, becomes
 * committed with protection prot (pages appear on first touch).
 */
static int set_committed(void *addr, size_t size, int prot, unsigned kinds)
{
	int p = arch_prot(prot);
	if (p < 0 || !args_ok(addr, size))
		return -EINVAL;
	uintptr_t a = (uintptr_t)addr, e = a + size;
	unsigned long f = vm_lock();
	int err = check_range(a, e, kinds);
	if (!err) {
		vm_spans_set_state(&vm.spans, a, e, SPAN_COMMITTED, (unsigned)p, NULL);
		reprotect(a, e, (unsigned)p);
	}
	vm_unlock(f);
	return err;
}

int noos_vm_commit(void *addr, size_t size, int prot)
{
	return set_committed(addr, size, prot, PUBLIC_KINDS);
}

int noos_vm_decommit(void *addr, size_t size)
{
	if (!args_ok(addr, size))
		return -EINVAL;
	uintptr_t a = (uintptr_t)addr, e = a + size;
	unsigned long f = vm_lock();
	int err = check_range(a, e, PUBLIC_KINDS);
	if (!err) {
		vm_spans_set_state(&vm.spans, a, e, SPAN_RESERVED, 0, NULL);
		drop_pages(a, e);
	}
	vm_unlock(f);
	return err;
}

int noos_vm_protect(void *addr, size_t size, int prot)
{
	return set_committed(addr, size, prot, 1u << SPAN_COMMITTED);
}

int noos_vm_release(void *addr, size_t size)
{
	if (!args_ok(addr, size))
		return -EINVAL;
	uintptr_t a = (uintptr_t)addr, e = a + size;
	unsigned long f = vm_lock();
	int err = check_range(a, e, PUBLIC_KINDS);
	if (!err)
		release_range(a, e);
	vm_unlock(f);
	if (err == -EINVAL && VM_DEBUG)
		panic("noos_vm_release(%p, %#lx): the range was never reserved (or holds a stack)",
		      addr, (unsigned long)size);
	return err;
}

/* ---- stacks (stack.c) ---- */

/*
 * A stack of `size` bytes with an unmapped guard page below it, every page
 * mapped and zeroed now (on x86_64 a fault on a thread's own stack could not
 * be taken on that stack). *base is the stack's lowest address.
 */
int vm_stack_create(size_t size, const char *name, uintptr_t *base)
{
	unsigned long f = vm_lock();
	uintptr_t g = 0;
	int err = vm_spans_room(&vm.spans, 2)
	              ? reserve_span(PAGE_SIZE + size, 0, SPAN_GUARD, 0, name, &g)
	              : -ENOMEM;
	if (!err) {
		vm_spans_set_state(&vm.spans, g + PAGE_SIZE, g + PAGE_SIZE + size, SPAN_STACK,
		                   ARCH_PROT_READ | ARCH_PROT_WRITE, name);
		for (uintptr_t p = g + PAGE_SIZE; p < g + PAGE_SIZE + size && !err; p += PAGE_SIZE)
			err = populate(p, ARCH_PROT_READ | ARCH_PROT_WRITE);
		if (err)
			release_range(g, g + PAGE_SIZE + size);
	}
	vm_unlock(f);
	*base = g + PAGE_SIZE;
	return err;
}

/* Free a stack of vm_stack_create, found by its top; -EINVAL if there is none there. */
int vm_stack_destroy(uintptr_t top)
{
	unsigned long f = vm_lock();
	struct vm_span *s = vm_spans_at(&vm.spans, top - 1);
	int err = -EINVAL;
	if (s && s->kind == SPAN_STACK && s->end == top) {
		struct vm_span *g = vm_spans_at(&vm.spans, s->base - PAGE_SIZE);
		if (g && g->kind == SPAN_GUARD && g->end == s->base) {
			release_range(g->base, top);
			err = 0;
		}
	}
	vm_unlock(f);
	return err;
}

/* A guard page outside the window (the boot stacks'), for vm_describe. */
void vm_guard_static(uintptr_t page, const char *name)
{
	if (vm.nguards == STATIC_GUARDS)
		return;
	struct vm_span *g = &vm.guards[vm.nguards++];
	*g = (struct vm_span){.base = page, .end = page + PAGE_SIZE, .kind = SPAN_GUARD};
	vm_span_name(g->name, name);
}

/* ---- page faults (arch.h) ---- */

static bool allows(unsigned prot, unsigned fault)
{
	if ((fault & ARCH_FAULT_WRITE) && !(prot & ARCH_PROT_WRITE))
		return false;
	if ((fault & ARCH_FAULT_EXEC) && !(prot & ARCH_PROT_EXEC))
		return false;
	return prot & ARCH_PROT_READ;
}

bool vm_fault(uintptr_t addr, unsigned fault)
{
	if (!in_window(addr, 0))
		return false;
	if (__atomic_load_n(&vm.lock.locked, __ATOMIC_RELAXED) && vm.owner == arch_cpu_id())
		return false; /* a fault inside vm.c itself: report it rather than deadlock */
	uintptr_t page = addr & ~(PAGE_SIZE - 1);
	unsigned long f = vm_lock();
	struct vm_span *s = vm_spans_at(&vm.spans, addr);
	bool ok =
	    s && (s->kind == SPAN_COMMITTED || s->kind == SPAN_STACK) && allows(s->prot, fault);
	unsigned prot = ok ? s->prot : 0, now;
	uint64_t pa;
	bool stale = false;
	if (ok && pt_lookup(page, &pa, &now))
		ok = stale = allows(now, fault); /* another CPU mapped it, or a stale TLB entry */
	else if (ok && populate(page, prot) != 0)
		ok = false;
	if (!ok)
		vm.failed_faults++;
	vm_unlock(f);
	if (stale)
		arch_tlb_flush_local(page, PAGE_SIZE);
	else if (ok && (prot & ARCH_PROT_EXEC))
		arch_sync_icache(page, PAGE_SIZE);
	return ok;
}

/* What a span in the window says about a fault in it. */
static void describe_span(const struct vm_span *s, uintptr_t addr, unsigned fault, char *buf,
                          size_t len)
{
	if (!s) {
		snprintf(buf, len, "address never reserved (virtual memory window)");
	} else if (s->kind == SPAN_GUARD) {
		snprintf(buf, len, "stack overflow of %s (guard page %#lx)",
		         s->name[0] ? s->name : "a thread", (unsigned long)s->base);
	} else if (s->kind == SPAN_RESERVED) {
		snprintf(buf, len, "access to reserved but uncommitted memory [%#lx, %#lx)",
		         (unsigned long)s->base, (unsigned long)s->end);
	} else if (!(s->prot & ARCH_PROT_READ)) {
		snprintf(buf, len, "access to memory committed with no access");
	} else if ((fault & ARCH_FAULT_WRITE) && !(s->prot & ARCH_PROT_WRITE)) {
		snprintf(buf, len, "write to read-only memory [%#lx, %#lx)", (unsigned long)s->base,
		         (unsigned long)s->end);
	} else if ((fault & ARCH_FAULT_EXEC) && !(s->prot & ARCH_PROT_EXEC)) {
		snprintf(buf, len, "execute from non-executable memory");
	} else {
		snprintf(buf, len, "out of memory for a demand-zero page at %#lx",
		         (unsigned long)addr);
	}
}

/* What the image and the direct map say about a fault outside the window. */
static void describe_kernel(uintptr_t addr, unsigned fault, char *buf, size_t len)
{
	bool text = addr >= (uintptr_t)__text_start && addr < (uintptr_t)__text_end;
	bool rodata = addr >= (uintptr_t)__rodata_start && addr < (uintptr_t)__rodata_end;
	if (addr < NULL_LIMIT)
		snprintf(buf, len, "null pointer dereference");
	else if (text && (fault & ARCH_FAULT_WRITE))
		snprintf(buf, len, "write to read-only kernel text");
	else if (rodata && (fault & ARCH_FAULT_WRITE))
		snprintf(buf, len, "write to read-only kernel data");
	else if ((fault & ARCH_FAULT_EXEC) && (fault & ARCH_FAULT_PRESENT))
		snprintf(buf, len, "execute from non-executable memory");
	else if (addr >= ARCH_VM_END)
		snprintf(buf, len, "address beyond everything noos maps");
}

/*
 * Fill buf with what addr is, for the panic of a real fault ("" when there
 * is nothing to say). Returns true for a stack overflow (a guard page).
 * Never waits for vm.lock: the fault may have happened while it was held.
 */
bool vm_describe(uintptr_t addr, unsigned fault, char *buf, size_t len)
{
	if (len == 0)
		return false;
	buf[0] = '\0';
	for (unsigned i = 0; i < vm.nguards; i++)
		if (addr >= vm.guards[i].base && addr < vm.guards[i].end) {
			describe_span(&vm.guards[i], addr, fault, buf, len);
			return true;
		}
	if (!in_window(addr, 0)) {
		describe_kernel(addr, fault, buf, len);
		return false;
	}
	if (__atomic_exchange_n(&vm.lock.locked, true, __ATOMIC_ACQUIRE)) {
		snprintf(buf, len, "in the virtual memory window (busy: no details)");
		return false;
	}
	const struct vm_span *s = vm_spans_at(&vm.spans, addr);
	describe_span(s, addr, fault, buf, len);
	bool overflow = s && s->kind == SPAN_GUARD;
	spin_unlock(&vm.lock);
	return overflow;
}

/* ---- queries ---- */

/*
 * The physical address behind va in the window, for DMA: a committed page
 * not touched yet is faulted in first. Panics for an address with no memory
 * behind it (a driver handing a device a bad buffer is a broken invariant).
 */
uint64_t vm_virt_to_phys(uintptr_t va)
{
	uint64_t pa;
	unsigned prot;
	if (pt_lookup(va, &pa, &prot) && prot)
		return pa;
	if (vm_fault(va, ARCH_FAULT_WRITE) && pt_lookup(va, &pa, &prot))
		return pa;
	panic("virt_to_phys(%#lx): no memory behind that address", (unsigned long)va);
}

void vm_stats(struct noos_mem_stats *st)
{
	unsigned long f = vm_lock();
	st->vm_reserved_bytes = vm.reserved_bytes;
	st->vm_resident_pages = vm.resident_pages;
	st->vm_spans = vm.spans.n;
	vm_unlock(f);
}
