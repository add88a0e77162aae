/*
 * The PCI driver table: every driver the bus can hand a function to, listed
 * explicitly (no linker-section constructors), matched by vendor and device
 * ID range in this order.
 */
#include "pci.h"

const struct pci_driver *const pci_drivers[] = {
    &virtio_pci_driver,
    NULL,
};

const struct pci_driver *pci_driver_match(const struct pci_func *f)
{
	for (const struct pci_driver *const *d = pci_drivers; *d; d++)
		if (f->vendor == (*d)->vendor && f->device >= (*d)->device_first &&
		    f->device <= (*d)->device_last)
			return *d;
	return NULL;
}
