/*
 * Interrupts for PCI functions: MSI-X (PCI 3.0 §6.8.2) and INTx as the
 * fallback.
 *
 * The MSI-X capability is device data like any other: the table's BAR
 * indicator must name a valid memory BAR and the table (and the pending bit
 * array) must lie inside it before anything is mapped. Every entry is masked
 * at probe time; a driver routes the entries it uses, then enables MSI-X.
 *
 * Vectors come from the arch's interrupt API (arch.h: arch_msi_alloc,
 * arch_irq_register); when it has none to give, drivers poll, and say so.
 */
#include <errno.h>

#include "pci.h"
#include "rt.h"

/* The MSI-X table or PBA at (offset, bytes) of BAR bir must fit a valid memory BAR. */
static bool msix_region_ok(const struct pci_func *f, uint32_t bir, uint64_t offset, uint64_t bytes)
{
	if (bir >= PCI_NUM_BARS)
		return false;
	const struct pci_bar *b = &f->bar[bir];
	if (!b->valid || b->kind == PCI_BAR_IO)
		return false;
	return offset <= b->size && bytes <= b->size - offset;
}

static uint64_t entry_offset(const struct pci_msix *m, unsigned entry, unsigned reg)
{
	return m->table + (uint64_t)entry * PCI_MSIX_ENTRY_SIZE + reg;
}

static void mask_entry(struct pci_func *f, const struct pci_msix *m, unsigned entry, bool masked)
{
	const struct pci_bar *b = &f->bar[m->bir];
	uint64_t off = entry_offset(m, entry, PCI_MSIX_ENTRY_VECTOR_CTRL);
	uint32_t ctrl = pci_bar_read32(b, off);
	if (masked)
		ctrl |= PCI_MSIX_ENTRY_CTRL_MASKBIT;
	else
		ctrl &= ~PCI_MSIX_ENTRY_CTRL_MASKBIT;
	pci_bar_write32(b, off, ctrl);
}

int pci_msix_probe(struct pci_func *f, struct pci_msix *m)
{
	struct pci_cfg_reader r = pci_func_reader(f);
	struct pci_caps caps;
	*m = (struct pci_msix){0};
	if (pci_caps_read(&r, &caps) < 0)
		pci_error(f, "malformed capability list, read up to the fault");
	const struct pci_cap *cap = pci_caps_find(&caps, PCI_CAP_ID_MSIX, NULL);
	if (!cap)
		return -ENODEV;
	if (pci_cap_room(cap) < PCI_MSIX_CAP_LEN)
		return -EINVAL;
	uint16_t ctrl = pci_read16(f, cap->offset + PCI_MSIX_FLAGS);
	uint32_t table = pci_read32(f, cap->offset + PCI_MSIX_TABLE);
	uint32_t pba = pci_read32(f, cap->offset + PCI_MSIX_PBA);
	unsigned nvec = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1u;
	uint64_t pba_bytes = ((nvec + 63) / 64) * 8;
	if (!msix_region_ok(f, table & PCI_MSIX_BIR_MASK, table & PCI_MSIX_OFFSET_MASK,
	                    (uint64_t)nvec * PCI_MSIX_ENTRY_SIZE) ||
	    !msix_region_ok(f, pba & PCI_MSIX_BIR_MASK, pba & PCI_MSIX_OFFSET_MASK, pba_bytes)) {
		pci_error(f, "MSI-X table or PBA outside its BAR: MSI-X not used");
		return -EINVAL;
	}
	*m = (struct pci_msix){.cap = cap->offset,
	                       .nvec = (uint16_t)nvec,
	                       .bir = table & PCI_MSIX_BIR_MASK,
	                       .table = table & PCI_MSIX_OFFSET_MASK};
	if (pci_bar_map(f, m->bir) < 0) {
		*m = (struct pci_msix){0};
		return -ENOMEM;
	}
	for (unsigned i = 0; i < nvec; i++)
		mask_entry(f, m, i, true);
	return 0;
}

int pci_msix_route(struct pci_func *f, const struct pci_msix *m, unsigned entry, void (*fn)(void *),
                   void *ctx)
{
	if (!m->cap || entry >= m->nvec)
		return -EINVAL;
	struct arch_msi msg;
	int handle = arch_msi_alloc(0, pci_bdf(f->bus, f->dev, f->fn), fn, ctx, &msg);
	if (handle < 0)
		return handle;
	const struct pci_bar *b = &f->bar[m->bir];
	pci_bar_write32(b, entry_offset(m, entry, PCI_MSIX_ENTRY_ADDR_LO), (uint32_t)msg.address);
	pci_bar_write32(b, entry_offset(m, entry, PCI_MSIX_ENTRY_ADDR_HI),
	                (uint32_t)(msg.address >> 32));
	pci_bar_write32(b, entry_offset(m, entry, PCI_MSIX_ENTRY_DATA), msg.data);
	mask_entry(f, m, entry, false);
	return handle;
}

void pci_msix_unroute(struct pci_func *f, const struct pci_msix *m, unsigned entry, int handle)
{
	if (!m->cap || entry >= m->nvec)
		return;
	mask_entry(f, m, entry, true);
	if (handle >= 0)
		arch_msi_free(handle);
}

/* Enabling MSI-X also turns INTx off in the command register (PCI 3.0 §6.8.2.3). */
void pci_msix_enable(struct pci_func *f, const struct pci_msix *m, bool on)
{
	if (!m->cap)
		return;
	uint16_t ctrl = pci_read16(f, m->cap + PCI_MSIX_FLAGS) & ~PCI_MSIX_FLAGS_MASKALL;
	ctrl = on ? (ctrl | PCI_MSIX_FLAGS_ENABLE) : (ctrl & ~PCI_MSIX_FLAGS_ENABLE);
	pci_write16(f, m->cap + PCI_MSIX_FLAGS, ctrl);
	uint16_t cmd = pci_read16(f, PCI_COMMAND);
	cmd = on ? (cmd | PCI_COMMAND_INTX_DISABLE) : (cmd & ~PCI_COMMAND_INTX_DISABLE);
	pci_write16(f, PCI_COMMAND, cmd);
}

int pci_intx_route(struct pci_func *f, void (*fn)(void *), void *ctx)
{
	if (f->int_pin < 1 || f->int_pin > 4)
		return -ENODEV;
	unsigned line, flags;
	int rc = pci_host_intx(f, &line, &flags);
	if (rc < 0)
		return rc;
	rc = arch_irq_register(line, flags, fn, ctx);
	if (rc < 0)
		return rc;
	pci_write16(f, PCI_COMMAND, pci_read16(f, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	return (int)line;
}
