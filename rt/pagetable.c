/*
 * The kernel's page tables, walked portably: 4 levels of 512 entries with a
 * 4 KiB granule on both arches, the entry encodings coming from
 * arch/<arch>/pte.h (levels numbered from 0 = 4 KiB pages up to 3 = the
 * root). arch/<arch>/mmu.c lays out the identity map with pt_set() at boot
 * and loads pt_root_pa(); rt/vm.c maps, protects and unmaps 4 KiB pages in
 * its window at run time.
 *
 * Tables are reached through the direct map (phys_to_virt) and come from
 * pt_page_alloc (rt/mem.c), zeroed. Every change happens under one lock
 * with interrupts off on this CPU; nothing here flushes TLBs: the caller
 * does (rt/tlb.c) once entries that may be cached have changed, and only
 * then frees what they pointed to. A new entry where there was none needs
 * no flush: neither arch caches a translation that faulted.
 */
#include <errno.h>

#include "pte.h"
#include "rt.h"

#define LEVEL_SHIFT(l) (PAGE_SHIFT + 9 * (l))
#define LEVEL_SIZE(l)  (1ull << LEVEL_SHIFT(l))
#define TOP            (PT_LEVELS - 1)
#define VA_LIMIT       (1ull << LEVEL_SHIFT(PT_LEVELS)) /* 48-bit virtual addresses */

static pte_t *root;
static struct spinlock lock; /* guards every table reachable from root */

static unsigned long pt_lock(void)
{
	unsigned long flags = arch_irq_save();
	spin_lock(&lock);
	return flags;
}

static void pt_unlock(unsigned long flags)
{
	pte_publish();
	spin_unlock(&lock);
	arch_irq_restore(flags);
}

static unsigned index_of(uint64_t va, unsigned level)
{
	return (va >> LEVEL_SHIFT(level)) & (PT_ENTRIES - 1);
}

static pte_t *table_of(pte_t e, unsigned level)
{
	return phys_to_virt(pte_addr(e, level));
}

static bool range_ok(uint64_t va, uint64_t size)
{
	return ((va | size) & (PAGE_SIZE - 1)) == 0 && va < VA_LIMIT && size <= VA_LIMIT - va;
}

int pt_init(void)
{
	if (!root)
		root = pt_page_alloc();
	return root ? 0 : -ENOMEM;
}

uint64_t pt_root_pa(void)
{
	return virt_to_phys(root);
}

/* Replace the large leaf *e at level by a table of 512 leaves one level down, same translation. */
static int split(pte_t *e, unsigned level)
{
	pte_t *t = pt_page_alloc();
	if (!t)
		return -ENOMEM;
	uint64_t pa = pte_addr(*e, level);
	unsigned prot = pte_prot(*e, level);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		t[i] = pte_leaf(pa + i * LEVEL_SIZE(level - 1), prot, level - 1);
	*e = pte_table(virt_to_phys(t));
	return 0;
}

/*
 * The entry that maps va at `level`, through (and creating, when `create`)
 * the tables above it. A large leaf on the way is split when `split_ok`,
 * else it is an error (-EEXIST); a missing table without `create` is -ENOENT.
 */
static pte_t *walk(uint64_t va, unsigned level, bool create, bool split_ok, int *err)
{
	pte_t *t = root;
	for (unsigned l = TOP; l > level; l--) {
		pte_t *e = &t[index_of(va, l)];
		if (*e == 0) {
			pte_t *n = create ? pt_page_alloc() : NULL;
			if (!n) {
				*err = create ? -ENOMEM : -ENOENT;
				return NULL;
			}
			*e = pte_table(virt_to_phys(n));
		} else if (!pte_is_table(*e, l)) {
			*err = split_ok ? split(e, l) : -EEXIST;
			if (*err)
				return NULL;
		}
		t = table_of(*e, l);
	}
	return &t[index_of(va, level)];
}

/* The first entry on va's path that is not a table (a leaf, or empty), and its level. */
static pte_t *find(uint64_t va, unsigned *level)
{
	pte_t *t = root;
	for (unsigned l = TOP;; l--) {
		pte_t *e = &t[index_of(va, l)];
		if (l == 0 || !pte_is_table(*e, l)) {
			*level = l;
			return e;
		}
		t = table_of(*e, l);
	}
}

/* The largest level at which one leaf can map va -> pa with `left` bytes to go. */
static unsigned leaf_level(uint64_t va, uint64_t pa, uint64_t left, unsigned flags)
{
	unsigned l = 0;
	if (flags & PT_LARGE)
		while (l + 1 < TOP && pte_block_ok(l + 1) &&
		       ((va | pa) & (LEVEL_SIZE(l + 1) - 1)) == 0 && left >= LEVEL_SIZE(l + 1))
			l++;
	return l;
}

/* Write one leaf, or clear it, in entry e at level; -EEXIST if e holds one and may not be replaced.
 */
static int write_leaf(pte_t *e, uint64_t pa, unsigned prot, unsigned level, unsigned flags)
{
	if (*e != 0 && !(flags & PT_REPLACE))
		return -EEXIST;
	*e = (flags & PT_CLEAR) ? 0 : pte_leaf(pa, prot, level);
	return 0;
}

/*
 * Write one leaf (or clear one) at *level; where finer tables already sit at
 * that level, go down into them instead. *level says where it went, *at
 * which entry (NULL when clearing found nothing mapped).
 */
static int set_leaf(uint64_t va, uint64_t pa, unsigned prot, unsigned *level, unsigned flags,
                    pte_t **at)
{
	bool clear = flags & PT_CLEAR;
	for (;;) {
		int err = 0;
		pte_t *e = walk(va, *level, !clear, flags & PT_REPLACE, &err);
		*at = e;
		if (!e)
			return clear && err == -ENOENT ? 0 : err;
		if (!pte_is_table(*e, *level))
			return write_leaf(e, pa, prot, *level, flags);
		(*level)--;
	}
}

/*
 * Map [va, va + size) to [pa, ...) with prot (ARCH_PROT_*), or unmap it
 * (PT_CLEAR). PT_LARGE uses 2 MiB/1 GiB leaves where alignment allows;
 * PT_REPLACE overwrites what is there, splitting large leaves, which is only
 * safe while the tables are not live (arch_mmu_init). Without it, an
 * existing mapping is -EEXIST (what came before it stays mapped).
 * 0, -EINVAL (misaligned), -ENOMEM or -EEXIST.
 */
int pt_set(uint64_t va, uint64_t pa, uint64_t size, unsigned prot, unsigned flags)
{
	if (!root || !range_ok(va, size) || (pa & (PAGE_SIZE - 1)))
		return -EINVAL;
	unsigned long f = pt_lock();
	int err = 0;
	pte_t *e = NULL; /* the entry written last, and its level */
	unsigned last = 0;
	for (uint64_t done = 0; done < size && !err;) {
		uint64_t v = va + done;
		unsigned level = leaf_level(v, pa + done, size - done, flags);
		/* The next entry of the same table needs no walk from the root (boot: ~10x faster).
		 */
		if (e && level == last && index_of(v, level) != 0 && !pte_is_table(e[1], level))
			err = write_leaf(++e, pa + done, prot, level, flags);
		else
			err = set_leaf(v, pa + done, prot, &level, flags, &e);
		last = level;
		done += LEVEL_SIZE(level);
	}
	pt_unlock(f);
	return err;
}

/* The first entry on va's path that is not a table, and where the range it covers ends. */
static pte_t probe(uint64_t va, unsigned *level, uint64_t *next)
{
	unsigned long f = pt_lock();
	pte_t e = *find(va, level);
	pt_unlock(f);
	*next = (va & ~(LEVEL_SIZE(*level) - 1)) + LEVEL_SIZE(*level);
	return e;
}

/*
 * Identity-map as device memory (uncached, RW, never executable) the parts
 * of [start, end) that are not mapped yet: arch_map_device. Steps over what
 * is mapped a leaf at a time, so a window inside a large device mapping
 * costs a few lookups. 0, -ENOMEM, or -EEXIST when some of it is mapped as
 * something else (RAM).
 */
int pt_map_device(uint64_t start, uint64_t end)
{
	const unsigned prot = ARCH_PROT_READ | ARCH_PROT_WRITE | ARCH_PROT_DEVICE;
	if (!root || !range_ok(start, end - start))
		return -EINVAL;
	for (uint64_t p = start, next; p < end;) {
		unsigned level;
		pte_t e = probe(p, &level, &next);
		if (e != 0) {
			if (!(pte_prot(e, level) & ARCH_PROT_DEVICE))
				return -EEXIST;
			p = next;
			continue;
		}
		uint64_t run = next; /* the unmapped run starting at p */
		while (run < end && probe(run, &level, &next) == 0)
			run = next;
		run = run < end ? run : end;
		int err = pt_set(p, p, run - p, prot, PT_LARGE);
		if (err && err != -EEXIST) /* -EEXIST: another CPU mapped some of it; look again */
			return err;
		if (!err)
			p = run;
	}
	return 0;
}

/*
 * Unmap the 4 KiB pages present in [va, va + size), lowest first, until
 * `max` of them are gone: their physical addresses go to pa[]. Returns how
 * many; *stop is where it stopped (va + size when the range is done). The
 * caller flushes TLBs before it reuses the pages.
 */
size_t pt_unmap(uint64_t va, uint64_t size, uint64_t *pa, size_t max, uint64_t *stop)
{
	uint64_t end = va + size;
	size_t n = 0;
	unsigned long f = pt_lock();
	while (va < end && n < max) {
		unsigned level;
		pte_t *e = find(va, &level);
		if (level > 0 && *e != 0)
			panic("page tables: unmap of %#lx inside a large mapping",
			      (unsigned long)va);
		if (*e != 0) {
			pa[n++] = pte_addr(*e, 0);
			*e = 0;
		}
		va = (va & ~(LEVEL_SIZE(level) - 1)) + LEVEL_SIZE(level);
	}
	pt_unlock(f);
	*stop = va < end ? va : end;
	return n;
}

/*
 * Give every 4 KiB page present in [va, va + size) the protection prot,
 * keeping its memory. Returns how many changed (the caller flushes TLBs if
 * any did), or -EINVAL for a range that holds a large mapping.
 */
long pt_protect(uint64_t va, uint64_t size, unsigned prot)
{
	if (!root || !range_ok(va, size))
		return -EINVAL;
	uint64_t end = va + size;
	long n = 0;
	unsigned long f = pt_lock();
	while (va < end) {
		unsigned level;
		pte_t *e = find(va, &level);
		if (level > 0 && *e != 0) {
			n = -EINVAL;
			break;
		}
		if (*e != 0) {
			*e = pte_leaf(pte_addr(*e, 0), prot, 0);
			n++;
		}
		va = (va & ~(LEVEL_SIZE(level) - 1)) + LEVEL_SIZE(level);
	}
	pt_unlock(f);
	return n;
}

/*
 * What va maps to: true with its physical address and protection (0 for a
 * page kept with no access), false when nothing is mapped there.
 */
bool pt_lookup(uint64_t va, uint64_t *pa, unsigned *prot)
{
	if (!root || va >= VA_LIMIT)
		return false;
	unsigned long f = pt_lock();
	unsigned level;
	pte_t e = *find(va, &level);
	pt_unlock(f);
	if (e == 0)
		return false;
	*pa = pte_addr(e, level) + (va & (LEVEL_SIZE(level) - 1));
	*prot = pte_prot(e, level);
	return true;
}

static bool table_empty(const pte_t *t)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (t[i] != 0)
			return false;
	return true;
}

/*
 * Detach, below table t (at level, mapping from base), every table that
 * lies wholly inside [lo, hi) and maps nothing, pushing it on *list.
 */
static void prune(pte_t *t, unsigned level, uint64_t base, uint64_t lo, uint64_t hi, void **list)
{
	unsigned first = lo > base ? index_of(lo, level) : 0;
	for (unsigned i = first; i < PT_ENTRIES; i++) {
		uint64_t s = base + i * LEVEL_SIZE(level), e = s + LEVEL_SIZE(level);
		if (s >= hi)
			break;
		if (!pte_is_table(t[i], level))
			continue;
		pte_t *child = table_of(t[i], level);
		prune(child, level - 1, s, lo, hi, list);
		if (s >= lo && e <= hi && table_empty(child)) {
			t[i] = 0;
			*(void **)child = *list; /* page-aligned: an invalid entry to any walker */
			*list = child;
		}
	}
}

/*
 * Detach the page tables that only mapped [va, va + size), which must hold
 * no mappings now. Returns them as a list linked through their first word
 * (pt_list_next); the caller flushes TLBs (walk caches may still point at
 * them) and only then frees them with pt_page_free.
 */
void *pt_prune(uint64_t va, uint64_t size)
{
	void *list = NULL;
	if (!root || !range_ok(va, size))
		return NULL;
	unsigned long f = pt_lock();
	prune(root, TOP, 0, va, va + size, &list);
	pt_unlock(f);
	return list;
}

void *pt_list_next(void *table)
{
	return *(void **)table;
}
