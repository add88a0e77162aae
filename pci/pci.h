/*
 * pci/ internal header: host bridges, functions and their BARs, the PCI
 * driver table, and the functions of each file in this directory.
 *
 * The bus knows nothing about virtio: a driver claims functions by vendor
 * and device ID from the explicit table in drivers.c. Everything read from a
 * device or from firmware tables is checked before use; a malformed value
 * gets an error and is counted in pci_errors, never followed.
 *
 * caps.c, config.c, enumerate.c, resources.c, virtio_pci_caps.c and
 * host_dt.c do no hardware access of their own (only through struct
 * pci_cfg_ops or arch io.h), so they build on the host too, against a
 * stand-in io.h, for tests/host and tests/fuzz.
 */
#ifndef NOOS_PCI_H
#define NOOS_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "pci_reg.h"
#include "../virtio/virtio.h"

#define PCI_MAX_HOSTS 4
#define PCI_MAX_FUNCS 128

/* Address spaces a host bridge forwards, in the order bridges nest them. */
enum pci_space {
	PCI_SPACE_IO,     /* I/O BARs */
	PCI_SPACE_MEM,    /* non-prefetchable memory and 32-bit BARs: below 4 GiB */
	PCI_SPACE_PREF64, /* 64-bit prefetchable BARs, above 4 GiB where the host has room */
	PCI_SPACES,
};

/* A range the host bridge forwards: CPU addresses [cpu_base, +size) = bus [bus_base, +size). */
struct pci_window {
	uint64_t cpu_base;
	uint64_t bus_base;
	uint64_t size; /* 0: the host has no such window */
};

struct pci_host;

/* Configuration-space access for one host (config.c: ECAM or port CF8/CFC). */
struct pci_cfg_ops {
	const char *name;
	/* size is 1, 2 or 4 and off is aligned to it; all ones when nothing answers. */
	uint32_t (*read)(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size);
	void (*write)(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size,
	              uint32_t val);
};

/* One host bridge: a PCI segment with its buses and windows. */
struct pci_host {
	const struct pci_cfg_ops *ops;
	void *ctx;      /* the ops' own state (host tests: a fake config space) */
	uintptr_t ecam; /* ECAM: mapped address of bus bus_start's configuration space */
	uint16_t segment;
	uint8_t bus_start, bus_end;
	struct pci_window win[PCI_SPACES];
	bool assign;   /* no firmware assigned buses and BARs: noos does (aarch64 virt -kernel) */
	bool io_ports; /* I/O BARs are CPU port numbers (x86); else memory-mapped via win[IO] */
	const struct mem_range *ram; /* RAM no BAR may overlap (boot_info's ram[]) */
	unsigned ram_count;
	const void *fdt; /* aarch64: the DTB, for the INTx interrupt-map */
	int fdt_node;
};

/* BAR kinds; a 64-bit BAR takes two slots, the second stays PCI_BAR_NONE. */
enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
	uint64_t bus_addr; /* as programmed in the BAR */
	uint64_t cpu_addr; /* where the CPU reaches it (x86 I/O BARs: the port number) */
	uint64_t size;     /* a power of two; 0 when the BAR is not implemented */
	uint8_t kind;      /* enum pci_bar_kind */
	bool prefetch;
	bool valid;   /* has an address inside the host's windows, decoding may be enabled */
	bool port;    /* bar.c: an x86 I/O BAR, va is its first port */
	uintptr_t va; /* bar.c: mapped address once pci_bar_map succeeded, else 0 */
};

struct pci_driver;

struct pci_func {
	struct pci_host *host;
	struct pci_func *parent; /* the bridge this function sits behind, NULL on the root bus */
	uint8_t bus, dev, fn;
	uint8_t header_type; /* PCI_HEADER_TYPE_NORMAL or _BRIDGE */
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint8_t revision, int_pin, int_line;
	uint32_t class_code; /* base class << 16 | sub-class << 8 | programming interface */
	uint8_t secondary, subordinate; /* bridges: the bus range behind them */
	struct pci_bar bar[PCI_NUM_BARS];
	const struct pci_driver *driver;
	void *driver_data;
	char name[16]; /* "00:02.0", or "0001:00:02.0" outside segment 0 */
};

/* A PCI driver: claims functions by vendor and device ID range. */
struct pci_driver {
	const char *name;
	uint16_t vendor;
	uint16_t device_first, device_last;
	/* Short label for the boot log ("virtio-net"), without touching the device. */
	const char *(*describe)(const struct pci_func *f);
	int (*probe)(struct pci_func *f); /* 0 or -errno */
};

/* A configuration-space read callback: what caps.c walks, so it can run on the host. */
struct pci_cfg_reader {
	uint32_t (*read)(const void *ctx, uint16_t off, unsigned size);
	const void *ctx;
};

/* ---- pci.c: bring-up and the function list ---- */
int pci_init(const struct boot_info *bi); /* functions found, or -errno */
unsigned pci_func_count(void);
struct pci_func *pci_func_at(unsigned i);

/* ---- config.c: configuration access, and the error count ---- */
extern unsigned pci_errors; /* malformed firmware tables, config values, capabilities */
void pci_error(const struct pci_func *f, const char *what); /* f may be NULL */
uint8_t pci_read8(const struct pci_func *f, uint16_t off);
uint16_t pci_read16(const struct pci_func *f, uint16_t off);
uint32_t pci_read32(const struct pci_func *f, uint16_t off);
void pci_write8(const struct pci_func *f, uint16_t off, uint8_t v);
void pci_write16(const struct pci_func *f, uint16_t off, uint16_t v);
void pci_write32(const struct pci_func *f, uint16_t off, uint32_t v);
uint32_t pci_host_read(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size);
void pci_host_write(const struct pci_host *h, uint32_t bdf, uint16_t off, unsigned size,
                    uint32_t v);
struct pci_cfg_reader pci_func_reader(const struct pci_func *f);
extern const struct pci_cfg_ops pci_ecam_ops;
extern const struct pci_cfg_ops pci_cf8_ops;
bool pci_cf8_present(void);

static inline uint32_t pci_bdf(unsigned bus, unsigned dev, unsigned fn)
{
	return (bus << 8) | (dev << 3) | fn;
}

/* ---- host_acpi.c (x86_64) / host_dt.c (aarch64): find the host bridges ---- */
int pci_hosts_discover(const struct boot_info *bi, struct pci_host *hosts, unsigned max);
/* host_dt.c: one pci-host-ecam-generic node into *h (nothing mapped); 0 or -EINVAL. */
int pci_dt_parse_host(const void *fdt, int node, struct pci_host *h, uint64_t *ecam_base);
/* The interrupt line INTx of f arrives on: 0 with *line and *flags (ARCH_IRQ_*) set, or -ENOENT. */
int pci_host_intx(const struct pci_func *f, unsigned *line, unsigned *flags);

/* ---- enumerate.c: depth-first scan across bridges, BAR sizing ---- */
/* Scan the host's buses into funcs[]; returns the number of functions found. */
unsigned pci_enumerate(struct pci_host *h, struct pci_func *funcs, unsigned max);
void pci_bar_probe(struct pci_func *f); /* size every BAR of f (decoding off meanwhile) */

/* ---- resources.c: BAR and bridge-window assignment ---- */
/* Validate firmware-assigned BARs or assign them from the host's windows; returns failures. */
unsigned pci_assign_resources(struct pci_host *h, struct pci_func *funcs, unsigned n);
void pci_enable_decoding(struct pci_func *f); /* command I/O+memory for the BARs that are valid */

/* ---- caps.c: capability list walking, every pointer bounds-checked ---- */
#define PCI_MAX_CAPS 48 /* (0x100 - 0x40) / 4 dword-aligned slots */
struct pci_cap {
	uint8_t id;
	uint8_t offset; /* in 0x40..0xfc, 4-byte aligned */
};
struct pci_caps {
	struct pci_cap cap[PCI_MAX_CAPS];
	unsigned count;
};
/* Walk the list: 0 with all entries, or -ELOOP / -EINVAL with the entries before the fault. */
int pci_caps_read(const struct pci_cfg_reader *r, struct pci_caps *out);
/* The first capability with this ID after `after` (NULL: from the start), or NULL. */
const struct pci_cap *pci_caps_find(const struct pci_caps *c, uint8_t id,
                                    const struct pci_cap *after);
/* Bytes from the capability's start to the end of configuration space. */
static inline unsigned pci_cap_room(const struct pci_cap *cap)
{
	return PCI_CAP_LIST_END - cap->offset;
}
/* A vendor-specific capability's own length byte, checked: >= min and inside config space. */
int pci_cap_vendor_len(const struct pci_cfg_reader *r, const struct pci_cap *cap, unsigned min);

/* ---- bar.c: mapping and accessing BARs ---- */
int pci_bar_map(struct pci_func *f, unsigned i); /* 0, or -ENODEV / -ENOMEM */
uint8_t pci_bar_read8(const struct pci_bar *b, uint64_t off);
uint16_t pci_bar_read16(const struct pci_bar *b, uint64_t off);
uint32_t pci_bar_read32(const struct pci_bar *b, uint64_t off);
void pci_bar_write8(const struct pci_bar *b, uint64_t off, uint8_t v);
void pci_bar_write16(const struct pci_bar *b, uint64_t off, uint16_t v);
void pci_bar_write32(const struct pci_bar *b, uint64_t off, uint32_t v);

/* ---- msix.c: MSI-X tables and INTx ---- */
struct pci_msix {
	uint16_t cap;  /* configuration offset of the MSI-X capability; 0: none */
	uint16_t nvec; /* table size */
	uint8_t bir;
	uint64_t table; /* offset of the table in BAR bir */
};
/* Find and validate the MSI-X capability and table; 0, or -ENODEV / -EINVAL. */
int pci_msix_probe(struct pci_func *f, struct pci_msix *m);
/* Point table entry `entry` at a fresh vector calling fn(ctx) and unmask it: a handle or -errno. */
int pci_msix_route(struct pci_func *f, const struct pci_msix *m, unsigned entry, void (*fn)(void *),
                   void *ctx);
/* Mask the entry again and give its vector back. */
void pci_msix_unroute(struct pci_func *f, const struct pci_msix *m, unsigned entry, int handle);
void pci_msix_enable(struct pci_func *f, const struct pci_msix *m, bool on);
/* Call fn(ctx) on f's INTx line (shared, level-triggered): the line number, or -errno. */
int pci_intx_route(struct pci_func *f, void (*fn)(void *), void *ctx);

/* ---- drivers.c: the explicit driver table ---- */
extern const struct pci_driver *const pci_drivers[];
const struct pci_driver *pci_driver_match(const struct pci_func *f);

/* ---- virtio_pci_caps.c: where a modern device's virtio structures are (virtio 1.2 §4.1.4) ---- */
struct virtio_pci_region {
	uint8_t bar;
	uint32_t offset, length; /* inside BAR bar, checked against its size */
	bool present;
};
struct virtio_pci_layout {
	struct virtio_pci_region common, notify, isr, device;
	uint32_t notify_mult; /* notify_off_multiplier: 0 or an even power of two */
	unsigned rejected;    /* malformed capabilities skipped */
};
/* 0 when common, notify and ISR structures were found (device is optional), else -ENODEV. */
int virtio_pci_find_layout(const struct pci_cfg_reader *r, const struct pci_caps *caps,
                           const uint64_t bar_size[PCI_NUM_BARS], struct virtio_pci_layout *out);

/* ---- virtio_pci.c, virtio_pci_legacy.c: the virtio transports (one driver in the table) ---- */
#define VIRTIO_PCI_MAX_DEVICES 32
#define VIRTIO_PCI_MAX_QUEUES  64
#define VIRTIO_PCI_MAX_VECTORS 17 /* config + 16 queues; more queues share one vector */

struct virtio_pci_dev;
struct virtio_pci_vector {
	struct virtio_pci_dev *d;
	unsigned index; /* what the driver's handler is told */
	int handle;     /* the arch's MSI handle, for pci_msix_unroute */
};

struct virtio_pci_dev {
	struct virtio_device vdev; /* vdev.transport points back here */
	struct pci_func *f;
	/* Modern: the four structures (their BARs mapped); legacy: bar0 only. */
	const struct pci_bar *common, *notify, *isr, *device;
	uint64_t common_off, notify_off, isr_off, device_off;
	uint32_t notify_len, notify_mult, device_len;
	uint16_t num_queues;
	uint32_t queue_notify[VIRTIO_PCI_MAX_QUEUES]; /* offset from notify_off; ~0: not enabled */
	uint16_t queue_vector[VIRTIO_PCI_MAX_QUEUES]; /* MSI-X entry, or VIRTIO_MSI_NO_VECTOR */
	uint32_t legacy_config; /* legacy: where device config starts in BAR 0 */
	struct pci_msix msix;
	bool msix_on;
	int irq_vectors; /* set up by virtio_pci_irq_setup: 0 not yet, else vectors in use */
	void (*handler)(struct virtio_device *dev, unsigned vector);
	struct virtio_pci_vector vec[VIRTIO_PCI_MAX_VECTORS];
};

extern const struct pci_driver virtio_pci_driver;
/* virtio_pci.c: shared by both transports */
int virtio_pci_config_access(const struct pci_bar *bar, uint64_t base, uint32_t avail,
                             uint32_t offset, void *buf, uint32_t len, bool write);
int virtio_pci_irq_setup(struct virtio_pci_dev *d, unsigned nqueues,
                         int (*set_vectors)(struct virtio_pci_dev *d, unsigned nvec));
/* virtio_pci_legacy.c */
extern const struct virtio_transport_ops virtio_pci_legacy_ops;
int virtio_pci_legacy_setup(struct virtio_pci_dev *d);

#endif
