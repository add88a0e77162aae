/*
 * mmio/ internal header: virtio-mmio device discovery (kernel command line,
 * device tree) and the virtio-mmio transport, grouped by defining file.
 *
 * Discovery only produces windows (struct mmio_desc); nothing is touched
 * until virtio_mmio.c probes a window. cmdline.c, dtb.c and list.c are
 * portable C over strings and blobs, built on the host for unit tests and
 * libFuzzer targets: they never read device memory and never panic.
 */
#ifndef NOOS_MMIO_H
#define NOOS_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct boot_info;

/*
 * Windows declared (QEMU virt's DTB lists 32 transports, mostly empty; QEMU
 * microvm has 8, Firecracker a few) and devices driven at once.
 */
#define MMIO_MAX_WINDOWS 64
#define MMIO_MAX_DEVICES 32

/* One virtio-mmio register window as a boot source declared it. */
struct mmio_desc {
	uint64_t base, size; /* physical; size covers registers and config space */
	uint32_t irq;        /* 0: none. x86_64: IOAPIC GSI; aarch64: GIC interrupt ID */
	uint32_t irq_flags;  /* device tree trigger cell (1 edge rising, 4 level high), 0 unknown */
	int32_t id;          /* the command line's optional :<id>, -1 when absent */
	const char *source;  /* "cmdline" or "dtb", for log lines */
};

/* The windows found so far, in discovery order, and how many entries were refused. */
struct mmio_list {
	struct mmio_desc dev[MMIO_MAX_WINDOWS];
	unsigned count;
	unsigned rejected; /* malformed, overlapping or excess declarations */
	unsigned bad_irqs; /* windows kept, but their interrupt could not be decoded */
};

/* list.c */
/* Append d unless it is empty, wraps, overlaps a window already listed or the list is full. */
int mmio_list_add(struct mmio_list *l, const struct mmio_desc *d, const char **why);
/* Count a refused declaration and say which and why on the console. */
void mmio_list_reject(struct mmio_list *l, const char *source, const char *what, const char *why);

/* cmdline.c: Linux's virtio_mmio.device=<size>@<base>:<irq>[:<id>] kernel parameter. */
/* If word is "virtio_mmio.device=VALUE" (or with '-' for '_'), returns VALUE, else NULL. */
const char *mmio_cmdline_value(const char *word);
/* Parse one VALUE: 0, or -EINVAL with *why saying what is wrong. */
int mmio_cmdline_entry(const char *value, struct mmio_desc *out, const char **why);
/* Add every virtio_mmio.device= word among words[0..count) to l; log and count the bad ones. */
void mmio_cmdline_scan(char *const *words, int count, struct mmio_list *l);

/* dtb.c: every enabled "virtio,mmio" node of a flattened device tree. */
/*
 * Checks the blob (at most size bytes are read) and adds each node's first
 * reg window, translated to a CPU address, and its interrupt to l. Returns
 * the number of windows added or -EINVAL when the blob itself is malformed.
 */
int mmio_dtb_scan(const void *fdt, size_t size, struct mmio_list *l);
/* The boot DTB, whose size its header gives (dtb_none.c where the arch has no device tree). */
int mmio_dtb_boot_scan(const void *fdt, struct mmio_list *l);

/* bus.c */
/* Boot step: find every declared window (command line, DTB) and probe it. */
void mmio_init(const struct boot_info *bi);
const struct mmio_list *mmio_declared(void); /* what the boot sources declared, and refusals */
unsigned mmio_probe_errors(void);            /* windows without a usable device */

/* virtio_mmio.c: the transport (virtio 1.2 §4.2). */
/*
 * Probe one window and hand a device to the virtio core: 0, -ENOENT for an
 * empty transport slot (device ID 0), or another negative errno.
 */
int mmio_probe(const struct mmio_desc *d);
struct virtio_device;
unsigned mmio_device_count(void);                 /* devices probed, in discovery order */
struct virtio_device *mmio_device_at(unsigned i); /* NULL past the end */

#endif
