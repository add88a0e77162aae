/*
 * Host unit tests of pci/: the capability walker and the virtio capability
 * layout against hand-built configuration spaces (well-formed and hostile),
 * BAR sizing, bus numbering and BAR assignment against the synthetic
 * hierarchy in pci_fake.h, checked by an independent decoder of what ended
 * up in the (fake) registers, and the ECAM address arithmetic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pci_fake.h"
#include "virtio_pci_reg.h"

/* ---- a bare 256-byte configuration space for the walkers ---- */

static uint8_t space[PCI_CFG_SIZE];

static uint32_t space_read(const void *ctx, uint16_t off, unsigned size)
{
	const uint8_t *s = ctx;
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)(off + i < PCI_CFG_SIZE ? s[off + i] : 0xff) << (8 * i);
	return v;
}

static const struct pci_cfg_reader reader = {.read = space_read, .ctx = space};

static void space_reset(uint8_t first)
{
	memset(space, 0, sizeof(space));
	put16(space + PCI_STATUS, PCI_STATUS_CAP_LIST);
	space[PCI_CAPABILITY_LIST] = first;
}

static void cap(uint8_t off, uint8_t id, uint8_t next)
{
	space[off] = id;
	space[off + 1] = next;
}

static void test_caps_wellformed(void)
{
	struct pci_caps c;
	space_reset(0x40);
	cap(0x40, PCI_CAP_ID_MSIX, 0x50);
	cap(0x50, PCI_CAP_ID_VNDR, 0x60);
	space[0x52] = 16;
	cap(0x60, PCI_CAP_ID_EXP, 0);
	CHECK(pci_caps_read(&reader, &c) == 0);
	CHECK(c.count == 3);
	CHECK(c.cap[0].offset == 0x40 && c.cap[0].id == PCI_CAP_ID_MSIX);
	CHECK(c.cap[2].offset == 0x60 && c.cap[2].id == PCI_CAP_ID_EXP);
	const struct pci_cap *v = pci_caps_find(&c, PCI_CAP_ID_VNDR, NULL);
	CHECK(v && v->offset == 0x50);
	CHECK(pci_caps_find(&c, PCI_CAP_ID_VNDR, v) == NULL);
	CHECK(pci_caps_find(&c, PCI_CAP_ID_MSI, NULL) == NULL);
	CHECK(pci_cap_vendor_len(&reader, v, 16) == 16);
	CHECK(pci_cap_vendor_len(&reader, v, 17) == -EINVAL);

	/* No capability list bit: the pointer is not looked at. */
	put16(space + PCI_STATUS, 0);
	CHECK(pci_caps_read(&reader, &c) == 0 && c.count == 0);

	/* The longest list there can be: every dword slot from 0x40 to 0xfc, once. */
	space_reset(0x40);
	for (unsigned off = 0x40; off <= 0xfc; off += 4)
		cap((uint8_t)off, 0x7f, off == 0xfc ? 0 : (uint8_t)(off + 4));
	CHECK(pci_caps_read(&reader, &c) == 0 && c.count == PCI_MAX_CAPS);
}

static void test_caps_hostile(void)
{
	struct pci_caps c;
	space_reset(0x40); /* A -> B -> A */
	cap(0x40, 1, 0x50);
	cap(0x50, 2, 0x40);
	CHECK(pci_caps_read(&reader, &c) == -ELOOP && c.count == 2);

	space_reset(0x44); /* points at itself */
	cap(0x44, 1, 0x44);
	CHECK(pci_caps_read(&reader, &c) == -ELOOP && c.count == 1);

	space_reset(0x40); /* loop through an unaligned alias of the same dword */
	cap(0x40, 1, 0x43);
	CHECK(pci_caps_read(&reader, &c) == -ELOOP && c.count == 1);

	space_reset(0x20); /* into the standard header */
	CHECK(pci_caps_read(&reader, &c) == -EINVAL && c.count == 0);

	space_reset(0x40);
	cap(0x40, 1, 0x3c);
	CHECK(pci_caps_read(&reader, &c) == -EINVAL && c.count == 1);

	space_reset(0xff); /* reserved low bits are masked: 0xfc, the last slot */
	cap(0xfc, 5, 0);
	CHECK(pci_caps_read(&reader, &c) == 0 && c.count == 1 && c.cap[0].offset == 0xfc);

	/* Vendor lengths running past configuration space or too short for a header. */
	space_reset(0xf0);
	cap(0xf0, PCI_CAP_ID_VNDR, 0);
	space[0xf2] = 0x20;
	CHECK(pci_caps_read(&reader, &c) == 0 && c.count == 1);
	CHECK(pci_cap_vendor_len(&reader, &c.cap[0], 3) == -EINVAL);
	space[0xf2] = 0x10;
	CHECK(pci_cap_vendor_len(&reader, &c.cap[0], 16) == 16);
	space[0xf2] = 2;
	CHECK(pci_cap_vendor_len(&reader, &c.cap[0], 0) == -EINVAL);
	struct pci_cap last = {.id = PCI_CAP_ID_VNDR, .offset = 0xfc};
	CHECK(pci_cap_vendor_len(&reader, &last, 16) == -EINVAL);
}

/* ---- virtio capabilities ---- */

static void vcap(uint8_t off, uint8_t next, uint8_t type, uint8_t bar, uint32_t offset,
                 uint32_t length, uint8_t len)
{
	cap(off, PCI_CAP_ID_VNDR, next);
	space[off + 2] = len;
	space[off + VIRTIO_PCI_CAP_CFG_TYPE] = type;
	space[off + VIRTIO_PCI_CAP_BAR] = bar;
	put32(space + off + VIRTIO_PCI_CAP_OFFSET, offset);
	put32(space + off + VIRTIO_PCI_CAP_LENGTH, length);
}

/* QEMU's layout: four 4 KiB structures in a 16 KiB BAR 4, notify multiplier 4. */
static void qemu_virtio_caps(uint8_t notify_next)
{
	space_reset(0x40);
	vcap(0x40, 0x54, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0000, 0x1000, 16);
	vcap(0x54, 0x64, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000, 16);
	vcap(0x64, 0x74, VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 0x1000, 16);
	vcap(0x74, notify_next, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000, 20);
	put32(space + 0x74 + VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
}

static int layout(struct virtio_pci_layout *l, uint64_t bar4_size)
{
	uint64_t sizes[PCI_NUM_BARS] = {0, 0x1000, 0, 0, bar4_size, 0};
	struct pci_caps c;
	CHECK(pci_caps_read(&reader, &c) == 0);
	return virtio_pci_find_layout(&reader, &c, sizes, l);
}

static void test_virtio_layout(void)
{
	struct virtio_pci_layout l;
	qemu_virtio_caps(0);
	CHECK(layout(&l, 0x4000) == 0 && l.rejected == 0);
	CHECK(l.common.bar == 4 && l.common.offset == 0 && l.common.length == 0x1000);
	CHECK(l.isr.offset == 0x1000 && l.device.offset == 0x2000 && l.device.present);
	CHECK(l.notify.offset == 0x3000 && l.notify_mult == 4);

	/* The BAR is smaller than the structures claim: those are refused. */
	CHECK(layout(&l, 0x2000) == -ENODEV && l.rejected == 2 && l.common.present);

	/* A notify structure past the BAR end, then a good one: the good one is used. */
	qemu_virtio_caps(0x88);
	put32(space + 0x74 + VIRTIO_PCI_CAP_LENGTH, 0x2000);
	vcap(0x88, 0, VIRTIO_PCI_CAP_NOTIFY_CFG, 1, 0x0, 0x800, 20);
	CHECK(layout(&l, 0x4000) == 0 && l.rejected == 1 && l.notify.bar == 1 &&
	      l.notify_mult == 0);

	/* offset + length wrapping around 2^32 */
	qemu_virtio_caps(0);
	put32(space + 0x64 + VIRTIO_PCI_CAP_OFFSET, 0xfffff000u);
	put32(space + 0x64 + VIRTIO_PCI_CAP_LENGTH, 0x2000);
	CHECK(layout(&l, 0x4000) == 0 && l.rejected == 1 && !l.device.present);

	/* Multiplier neither 0 nor an even power of two. */
	qemu_virtio_caps(0);
	put32(space + 0x74 + VIRTIO_PCI_NOTIFY_CAP_MULT, 3);
	CHECK(layout(&l, 0x4000) == -ENODEV && l.rejected == 1);
	put32(space + 0x74 + VIRTIO_PCI_NOTIFY_CAP_MULT, 1);
	CHECK(layout(&l, 0x4000) == -ENODEV);

	/* A reserved BAR number is ignored, not counted (§4.1.4). */
	qemu_virtio_caps(0);
	space[0x40 + VIRTIO_PCI_CAP_BAR] = 6;
	CHECK(layout(&l, 0x4000) == -ENODEV && l.rejected == 0);

	/* The upper half of a 64-bit BAR has no size of its own. */
	qemu_virtio_caps(0);
	space[0x54 + VIRTIO_PCI_CAP_BAR] = 5;
	CHECK(layout(&l, 0x4000) == -ENODEV && l.rejected == 1);

	/* Too short: the capability itself, a notify cap without multiplier, common < 0x38. */
	qemu_virtio_caps(0);
	space[0x40 + 2] = 15;
	CHECK(layout(&l, 0x4000) == -ENODEV && l.rejected == 1);
	qemu_virtio_caps(0);
	space[0x74 + 2] = 16;
	CHECK(layout(&l, 0x4000) == -ENODEV && l.rejected == 1);
	qemu_virtio_caps(0);
	put32(space + 0x40 + VIRTIO_PCI_CAP_LENGTH, 0x30);
	CHECK(layout(&l, 0x4000) == -ENODEV && l.rejected == 1);

	/* A misaligned common structure. */
	qemu_virtio_caps(0);
	put32(space + 0x40 + VIRTIO_PCI_CAP_OFFSET, 0x2);
	CHECK(layout(&l, 0x4000) == -ENODEV && l.rejected == 1);

	/* No ISR structure: not a usable modern device. */
	qemu_virtio_caps(0);
	space[0x54 + VIRTIO_PCI_CAP_CFG_TYPE] = VIRTIO_PCI_CAP_PCI_CFG;
	CHECK(layout(&l, 0x4000) == -ENODEV && l.rejected == 0);
}

/* ---- enumeration, BAR sizing and assignment ---- */

static struct pci_func funcs[PCI_MAX_FUNCS];

static struct pci_host virt_host(void)
{
	struct pci_host h = {.ops = &fake_ops, .bus_start = 0, .bus_end = 255, .assign = true};
	h.win[PCI_SPACE_IO] = (struct pci_window){0x3eff0000, 0, 0x10000};
	h.win[PCI_SPACE_MEM] = (struct pci_window){0x10000000, 0x10000000, 0x2eff0000};
	h.win[PCI_SPACE_PREF64] = (struct pci_window){0x8000000000, 0x8000000000, 0x8000000000};
	return h;
}

static struct pci_func *find(unsigned n, unsigned bus, unsigned dev, unsigned fn)
{
	for (unsigned i = 0; i < n; i++)
		if (funcs[i].bus == bus && funcs[i].dev == dev && funcs[i].fn == fn)
			return &funcs[i];
	return NULL;
}

static void test_bar_sizing(void)
{
	fake_reset();
	int d = fake_add(-1, 1, 0, 0x1af4, 0x1041, 0x020000);
	fake_bar(d, 0, PCI_BAR_IO, 0x20, false);
	fake_bar(d, 1, PCI_BAR_MEM32, 0x1000, false);
	fake_bar(d, 2, PCI_BAR_MEM64, 0x4000, true);
	fake_bar(d, 5, PCI_BAR_MEM32, 0x100000, true);
	put32(fake[d].cfg + PCI_BASE_ADDRESS_0 + 4, 0xfebd1000); /* firmware's value survives */
	put16(fake[d].cfg + PCI_COMMAND, PCI_COMMAND_MEMORY);
	int io16 = fake_add(-1, 2, 0, 0x8086, 0x7010, 0x010180);
	fake_bar(io16, 4, PCI_BAR_IO, 0x10, false);
	put16(fake[io16].wmask + PCI_BASE_ADDRESS_0 + 16 + 2, 0); /* decodes 16 I/O bits only */
	int last = fake_add(-1, 3, 0, 0x1234, 0x5678, 0);
	fake_bar(last, 5, PCI_BAR_MEM64, 0x1000, false); /* 64-bit BAR in the last slot */

	struct pci_host h = virt_host();
	h.assign = false;
	unsigned before = pci_errors;
	unsigned n = pci_enumerate(&h, funcs, PCI_MAX_FUNCS);
	CHECK(n == 3);
	struct pci_func *f = find(n, 0, 1, 0);
	CHECK(f && f->vendor == 0x1af4 && f->device == 0x1041 && f->class_code == 0x020000);
	CHECK(f->bar[0].kind == PCI_BAR_IO && f->bar[0].size == 0x20);
	CHECK(f->bar[1].kind == PCI_BAR_MEM32 && f->bar[1].size == 0x1000 && !f->bar[1].prefetch);
	CHECK(f->bar[1].bus_addr == 0xfebd1000);
	CHECK(f->bar[2].kind == PCI_BAR_MEM64 && f->bar[2].size == 0x4000 && f->bar[2].prefetch);
	CHECK(f->bar[3].kind == PCI_BAR_NONE && f->bar[4].kind == PCI_BAR_NONE);
	CHECK(f->bar[5].kind == PCI_BAR_MEM32 && f->bar[5].size == 0x100000 && f->bar[5].prefetch);
	CHECK(get32(fake[d].cfg + PCI_BASE_ADDRESS_0 + 4) == 0xfebd1000);
	CHECK(fake[d].cfg[PCI_COMMAND] == PCI_COMMAND_MEMORY);
	f = find(n, 0, 2, 0);
	CHECK(f && f->bar[4].kind == PCI_BAR_IO && f->bar[4].size == 0x10);
	f = find(n, 0, 3, 0);
	CHECK(f && f->bar[5].kind == PCI_BAR_NONE && pci_errors == before + 1);
}

/* A hierarchy like QEMU virt's, with a bridge behind a bridge and a multi-function device. */
static void build_tree(void)
{
	fake_reset();
	fake_add(-1, 0, 0, 0x1b36, 0x0008, PCI_CLASS_BRIDGE_HOST << 8);
	int a = fake_add(-1, 1, 0, 0x1af4, 0x1000, 0x020000);
	fake_bar(a, 0, PCI_BAR_IO, 0x20, false);
	fake_bar(a, 1, PCI_BAR_MEM32, 0x1000, false);
	fake_bar(a, 4, PCI_BAR_MEM64, 0x4000, true);
	int b1 = fake_bridge(-1, 2);
	int c = fake_add(b1, 0, 0, 0x1af4, 0x1044, 0x00ff00);
	fake_bar(c, 1, PCI_BAR_MEM32, 0x2000, false);
	fake_bar(c, 4, PCI_BAR_MEM64, 0x100000, true);
	int b2 = fake_bridge(b1, 1);
	int d = fake_add(b2, 0, 0, 0x1af4, 0x1005, 0x00ff00);
	fake_bar(d, 0, PCI_BAR_IO, 0x100, false);
	fake_bar(d, 1, PCI_BAR_MEM32, 0x1000, false);
	int e0 = fake_add(-1, 3, 0, 0x8086, 0x1111, 0x0c0300);
	fake[e0].cfg[PCI_HEADER_TYPE] = PCI_HEADER_MULTIFUNCTION;
	fake_bar(e0, 0, PCI_BAR_MEM32, 0x1000, false);
	int e1 = fake_add(-1, 3, 5, 0x8086, 0x1112, 0x0c0300);
	fake_bar(e1, 0, PCI_BAR_MEM32, 0x1000, false);
	fake_add(-1, 4, 2, 0xdead, 0xbeef, 0); /* fn 2 without fn 0: never looked for */
}

/* ---- an independent decoder of the fake registers ---- */

static struct fake_fn *fake_of(const struct pci_func *f)
{
	return fake_route(pci_bdf(f->bus, f->dev, f->fn));
}

static bool window_of(const struct fake_fn *br, const struct pci_bar *b, uint64_t *lo, uint64_t *hi)
{
	const uint8_t *c = br->cfg;
	if (b->kind == PCI_BAR_IO) {
		*lo = (uint64_t)(c[PCI_IO_BASE] & 0xf0) << 8 |
		      (uint64_t)get32(c + PCI_IO_BASE_UPPER16) << 16;
		*hi = (uint64_t)(c[PCI_IO_LIMIT] & 0xf0) << 8 | 0xfff |
		      (uint64_t)(get32(c + PCI_IO_BASE_UPPER16) >> 16) << 16;
		return *lo <= *hi;
	}
	unsigned off =
	    b->prefetch && b->kind == PCI_BAR_MEM64 ? PCI_PREF_MEMORY_BASE : PCI_MEMORY_BASE;
	*lo = (uint64_t)(get32(c + off) & 0xfff0) << 16;
	*hi = (uint64_t)(get32(c + off) >> 20) << 20 | 0xfffff;
	if (off == PCI_PREF_MEMORY_BASE) {
		*lo |= (uint64_t)get32(c + PCI_PREF_BASE_UPPER32) << 32;
		*hi |= (uint64_t)get32(c + PCI_PREF_LIMIT_UPPER32) << 32;
	}
	return *lo <= *hi;
}

static uint64_t fake_bar_addr(const struct fake_fn *ff, unsigned i, const struct pci_bar *b)
{
	uint32_t lo = get32(ff->cfg + PCI_BASE_ADDRESS_0 + 4 * i);
	if (b->kind == PCI_BAR_IO)
		return lo & ~3u;
	uint64_t a = lo & ~0xfu;
	if (b->kind == PCI_BAR_MEM64)
		a |= (uint64_t)get32(ff->cfg + PCI_BASE_ADDRESS_0 + 4 * i + 4) << 32;
	return a;
}

/* Every valid BAR: in the registers, aligned, in a host window and every bridge window above. */
static unsigned check_layout(const struct pci_host *h, unsigned n)
{
	unsigned valid = 0;
	for (unsigned fi = 0; fi < n; fi++)
		for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
			const struct pci_bar *b = &funcs[fi].bar[i];
			if (!b->valid)
				continue;
			valid++;
			uint64_t a = fake_bar_addr(fake_of(&funcs[fi]), i, b);
			CHECK_MSG(a == b->bus_addr && a && !(a & (b->size - 1)), "%s bar%u",
			          funcs[fi].name, i);
			const struct pci_window *w =
			    &h->win[b->kind == PCI_BAR_IO
			                ? PCI_SPACE_IO
			                : (a >> 32 ? PCI_SPACE_PREF64 : PCI_SPACE_MEM)];
			CHECK(a >= w->bus_base && a + b->size <= w->bus_base + w->size);
			CHECK(b->cpu_addr == a - w->bus_base + w->cpu_base);
			for (const struct pci_func *p = funcs[fi].parent; p; p = p->parent) {
				uint64_t lo, hi;
				CHECK_MSG(window_of(fake_of(p), b, &lo, &hi) && a >= lo &&
				              a + b->size - 1 <= hi,
				          "%s bar%u outside %s's window", funcs[fi].name, i,
				          p->name);
				CHECK(fake_of(p)->cfg[PCI_COMMAND] & PCI_COMMAND_MEMORY);
			}
			for (unsigned fj = 0; fj < n; fj++)
				for (unsigned j = 0; j < PCI_NUM_BARS; j++) {
					const struct pci_bar *o = &funcs[fj].bar[j];
					if (o == b || !o->valid ||
					    (o->kind == PCI_BAR_IO) != (b->kind == PCI_BAR_IO))
						continue;
					CHECK_MSG(o->bus_addr >= a + b->size ||
					              a >= o->bus_addr + o->size,
					          "%s bar%u overlaps %s bar%u", funcs[fi].name, i,
					          funcs[fj].name, j);
				}
		}
	return valid;
}

static void test_assign(void)
{
	build_tree();
	struct pci_host h = virt_host();
	unsigned n = pci_enumerate(&h, funcs, PCI_MAX_FUNCS);
	CHECK_MSG(n == 8, "found %u", n);
	struct pci_func *b1 = find(n, 0, 2, 0), *b2 = find(n, 1, 1, 0);
	CHECK(b1 && b1->secondary == 1 && b1->subordinate == 2);
	CHECK(b2 && b2->secondary == 2 && b2->subordinate == 2 && b2->parent == b1);
	CHECK(find(n, 2, 0, 0) && find(n, 2, 0, 0)->parent == b2 && find(n, 0, 3, 5));
	CHECK(find(n, 0, 4, 2) == NULL);
	CHECK(pci_assign_resources(&h, funcs, n) == 0);
	CHECK(check_layout(&h, n) == 9);
	struct pci_func *c = find(n, 1, 0, 0);
	CHECK(c && c->bar[4].bus_addr >= 0x8000000000ull); /* 64-bit prefetchable above 4 GiB */
	struct pci_func *d = find(n, 2, 0, 0);
	CHECK(d && d->bar[0].cpu_addr == 0x3eff0000 + d->bar[0].bus_addr &&
	      d->bar[0].bus_addr >= 0x1000);

	/* Enumerating again over what noos programmed gives the same result. */
	uint64_t first = c->bar[1].bus_addr;
	n = pci_enumerate(&h, funcs, PCI_MAX_FUNCS);
	CHECK(pci_assign_resources(&h, funcs, n) == 0 && check_layout(&h, n) == 9);
	CHECK(find(n, 1, 0, 0)->bar[1].bus_addr == first);
}

static void test_assign_exhausted(void)
{
	build_tree();
	struct pci_host h = virt_host();
	h.win[PCI_SPACE_MEM].size = 0x3000; /* room for three 4 KiB BARs, nothing behind bridges */
	h.win[PCI_SPACE_PREF64].size = 0;
	unsigned n = pci_enumerate(&h, funcs, PCI_MAX_FUNCS);
	unsigned failed = pci_assign_resources(&h, funcs, n);
	unsigned valid = check_layout(&h, n);
	CHECK_MSG(failed > 0 && valid + failed == 9, "failed %u valid %u", failed, valid);
}

/* Firmware numbered and assigned (x86): good values are kept, bad ones are refused. */
static void test_firmware(void)
{
	fake_reset();
	int br = fake_bridge(-1, 1);
	put32(fake[br].cfg + PCI_PRIMARY_BUS, 0x00050500); /* secondary 5, subordinate 5 */
	put16(fake[br].cfg + PCI_MEMORY_BASE, 0xfe00);
	put16(fake[br].cfg + PCI_MEMORY_LIMIT, 0xfe10);
	put16(fake[br].cfg + PCI_COMMAND, PCI_COMMAND_MEMORY);
	int in = fake_add(br, 0, 0, 0x1af4, 0x1044, 0);
	fake_bar(in, 1, PCI_BAR_MEM32, 0x1000, false);
	put32(fake[in].cfg + PCI_BASE_ADDRESS_0 + 4, 0xfe001000);
	fake_bar(in, 2, PCI_BAR_MEM32, 0x1000, false);
	put32(fake[in].cfg + PCI_BASE_ADDRESS_0 + 8, 0xfe300000); /* outside the bridge window */
	int root = fake_add(-1, 2, 0, 0x1af4, 0x1000, 0);
	fake_bar(root, 0, PCI_BAR_MEM32, 0x1000, false); /* left at 0: unassigned */
	fake_bar(root, 1, PCI_BAR_MEM32, 0x1000, false);
	put32(fake[root].cfg + PCI_BASE_ADDRESS_0 + 4, 0x00100000); /* inside RAM */
	fake_bar(root, 2, PCI_BAR_MEM32, 0x2000, false);
	put32(fake[root].cfg + PCI_BASE_ADDRESS_0 + 8, 0xfd000000);
	fake_bar(root, 3, PCI_BAR_MEM32, 0x1000, false);
	put32(fake[root].cfg + PCI_BASE_ADDRESS_0 + 12, 0xfd001000); /* overlaps bar2 */

	struct mem_range ram[] = {{0, 0x9fc00}, {0x100000, 0x7f00000}};
	struct pci_host h = {.ops = &fake_ops, .bus_end = 255, .ram = ram, .ram_count = 2};
	h.win[PCI_SPACE_IO] = (struct pci_window){0, 0, 0x10000};
	h.win[PCI_SPACE_MEM] = (struct pci_window){0, 0, 1ull << 32};
	unsigned n = pci_enumerate(&h, funcs, PCI_MAX_FUNCS);
	CHECK(n == 3 && find(n, 0, 1, 0)->secondary == 5 && find(n, 5, 0, 0));
	CHECK(pci_assign_resources(&h, funcs, n) == 4);
	struct pci_func *f = find(n, 5, 0, 0);
	CHECK(f->bar[1].valid && f->bar[1].cpu_addr == 0xfe001000 && !f->bar[2].valid);
	f = find(n, 0, 2, 0);
	CHECK(!f->bar[0].valid && !f->bar[1].valid && f->bar[2].valid && !f->bar[3].valid);
	CHECK(check_layout(&h, n) == 2);

	/* Bus numbers that break depth-first order are replaced. */
	put32(fake[br].cfg + PCI_PRIMARY_BUS, 0x00000000);
	n = pci_enumerate(&h, funcs, PCI_MAX_FUNCS);
	CHECK(n == 3 && find(n, 0, 1, 0)->secondary == 1 && find(n, 1, 0, 0));
}

/* ---- ECAM addressing over a synthetic region ---- */

static void test_ecam(void)
{
	size_t size = 2u << PCI_ECAM_BUS_SHIFT; /* buses 1 and 2 */
	uint8_t *ecam = calloc(1, size);
	struct pci_host h = {
	    .ops = &pci_ecam_ops, .ecam = (uintptr_t)ecam, .bus_start = 1, .bus_end = 2};
	uint8_t *fn = ecam + (1u << PCI_ECAM_BUS_SHIFT) + (pci_bdf(0, 3, 4) << PCI_ECAM_FUNC_SHIFT);
	put32(fn, 0x10411af4);
	CHECK(pci_host_read(&h, pci_bdf(2, 3, 4), PCI_VENDOR_ID, 2) == 0x1af4);
	CHECK(pci_host_read(&h, pci_bdf(2, 3, 4), PCI_DEVICE_ID, 2) == 0x1041);
	CHECK(pci_host_read(&h, pci_bdf(2, 3, 4), 0, 4) == 0x10411af4);
	CHECK(pci_host_read(&h, pci_bdf(0, 3, 4), 0, 2) == 0xffff); /* bus outside the range */
	CHECK(pci_host_read(&h, pci_bdf(3, 0, 0), 0, 4) == 0xffffffffu);
	CHECK(pci_host_read(&h, pci_bdf(2, 3, 4), 1, 2) == 0xffff); /* misaligned */
	CHECK(pci_host_read(&h, pci_bdf(2, 3, 4), 0xfe, 4) == 0xffffffffu);
	pci_host_write(&h, pci_bdf(2, 3, 4), PCI_COMMAND, 2, 0x0406);
	CHECK(fn[PCI_COMMAND] == 0x06 && fn[PCI_COMMAND + 1] == 0x04);
	pci_host_write(&h, pci_bdf(1, 31, 7), 0xfc, 4, 0x12345678);
	CHECK(get32(ecam + (pci_bdf(0, 31, 7) << PCI_ECAM_FUNC_SHIFT) + 0xfc) == 0x12345678);
	pci_host_write(&h, pci_bdf(3, 0, 0), 0, 4, 0); /* out of range: dropped, not written */
	free(ecam);
}

int main(void)
{
	test_caps_wellformed();
	test_caps_hostile();
	test_virtio_layout();
	test_bar_sizing();
	test_assign();
	test_assign_exhausted();
	test_firmware();
	test_ecam();
	return check_report("pci");
}
