/*
 * virtio/ internal header: the transport interface every bus implements, the
 * device each driver sees, and the core's functions, grouped by file.
 *
 * Drivers never know which transport they sit on (DESIGN.md). A transport is
 * a small ops table implemented by pci/ (virtio-pci modern and legacy,
 * virtio 1.2 §4.1) and mmio/ (virtio-mmio v2 and v1, §4.2). A bus finds a
 * device, fills a struct virtio_device and calls virtio_device_found(); the
 * core runs the initialisation sequence (§3.1) and hands the device to the
 * driver registered for its device type in virtio/drivers.c's table.
 *
 * Every value read from a device is untrusted: sizes, offsets, ids and
 * lengths are range-checked before use, and a misbehaving device is failed
 * (DEVICE_NEEDS_RESET / FAILED), never followed.
 */
#ifndef NOOS_VIRTIO_H
#define NOOS_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Device status bits, virtio 1.2 §2.1. */
#define VIRTIO_STATUS_ACKNOWLEDGE        1
#define VIRTIO_STATUS_DRIVER             2
#define VIRTIO_STATUS_DRIVER_OK          4
#define VIRTIO_STATUS_FEATURES_OK        8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED             128

/* Reserved feature bits, virtio 1.2 §6. */
#define VIRTIO_F_INDIRECT_DESC   28
#define VIRTIO_F_EVENT_IDX       29
#define VIRTIO_F_VERSION_1       32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED     34

/* Device types, virtio 1.2 §5. */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_RNG 4

/* Interrupt status bits as the ISR / InterruptStatus registers report them (§4.1.4.5, §4.2.2). */
#define VIRTIO_ISR_QUEUE  1
#define VIRTIO_ISR_CONFIG 2

struct virtio_device;

/*
 * Where a queue's three parts live (physical addresses) and how big it is.
 * The core always allocates the parts contiguously in the legacy layout
 * (§2.7: descriptor table, available ring, then the used ring at the next
 * `legacy_align` boundary), so legacy transports can program a single PFN.
 */
struct virtio_queue_layout {
	uint16_t index;
	uint16_t size; /* number of descriptors, a power of two for legacy transports */
	uint64_t desc, avail, used;
	uint32_t legacy_align; /* 4096 on legacy PCI; mmio v1 writes it to QueueAlign */
};

/* What a transport implements. Every function may be called only from the device's owner. */
struct virtio_transport_ops {
	const char *name; /* "pci-modern", "pci-legacy", "mmio-v2", "mmio-v1" */
	bool modern;      /* VERSION_1 transport: 64 feature bits, FEATURES_OK step */
	uint8_t (*get_status)(struct virtio_device *dev);
	void (*set_status)(struct virtio_device *dev, uint8_t status);
	/* Write 0 to the status and wait (bounded) until the device reads back 0: 0 or -EIO. */
	int (*reset)(struct virtio_device *dev);
	uint64_t (*get_features)(struct virtio_device *dev);
	void (*set_features)(struct virtio_device *dev, uint64_t features);
	/* Device-specific configuration space, by byte offset; -EINVAL when out of range. */
	int (*config_read)(struct virtio_device *dev, uint32_t offset, void *buf, uint32_t len);
	int (*config_write)(struct virtio_device *dev, uint32_t offset, const void *buf, uint32_t len);
	uint32_t (*config_generation)(struct virtio_device *dev); /* 0 when the transport has none */
	/* Largest queue size the device offers for this index (0: no such queue). */
	uint16_t (*queue_max_size)(struct virtio_device *dev, uint16_t index);
	/* Program and enable a queue; -EINVAL if the device cannot take this layout. */
	int (*queue_enable)(struct virtio_device *dev, const struct virtio_queue_layout *q);
	void (*queue_notify)(struct virtio_device *dev, uint16_t index);
	/* Read (and thereby acknowledge) the interrupt status: VIRTIO_ISR_* bits. */
	uint32_t (*interrupt_ack)(struct virtio_device *dev);
	/*
	 * Route the device's interrupts to handler(dev, vector_index): one vector
	 * per queue plus config where the transport can (MSI-X), else one shared
	 * line. Returns the number of vectors set up, or a negative errno (then
	 * the driver polls).
	 */
	int (*interrupt_setup)(struct virtio_device *dev,
			       void (*handler)(struct virtio_device *dev, unsigned vector));
};

/* Queues a device may have in noos (virtio-net with a few queue pairs and control fits). */
#define VIRTIO_MAX_QUEUES 16

struct virtq;
struct virtio_driver;

struct virtio_device {
	const struct virtio_transport_ops *ops;
	void *transport;        /* the transport's own state */
	char name[40];          /* where it was found: "pci 00:02.0", "virtio-mmio@0a000000" */
	uint32_t device_id;     /* VIRTIO_ID_* */
	uint64_t features;      /* negotiated: the driver's wanted set & the device's offer */
	void *driver_data;      /* the driver's per-device state */
	uint32_t bad_responses; /* device misbehaviour seen and rejected */

	/* The core's own (virtio/device.c); a bus leaves them zero. */
	const struct virtio_driver *driver;      /* the table entry that took the device, or NULL */
	struct virtq *queues[VIRTIO_MAX_QUEUES]; /* set up by virtio_queue_setup */
	int irq_vectors;  /* from interrupt_setup: <= 0 polled, 1 one shared line, > 1 per queue */
	uint64_t interrupts; /* interrupts taken for this device */
	uint8_t resets;   /* DEVICE_NEEDS_RESET recoveries so far */
	bool needs_reset; /* DEVICE_NEEDS_RESET seen (config interrupt), not yet handled */
	bool broken;      /* given up on (status FAILED): its queues take and return nothing */
};

/* ==== The virtio core, grouped by the file that defines each function. ==== */

/* ring.c: the split virtqueue, driver side (§2.7). The ring layout is in ring_reg.h. */
struct virtq_desc;
struct virtq_avail;
struct virtq_used;

/* One piece of a buffer: a kernel address (ring.c translates it with virt_to_phys) and length. */
struct virtq_sg {
	void *addr;
	uint32_t len;
};

/*
 * Driver-private state per descriptor, never shared with the device (so a
 * device scribbling on the descriptor table cannot corrupt the free list).
 */
struct virtq_slot {
	void *token; /* a head of an outstanding buffer: what virtq_add was given; else NULL */
	uint32_t
	    write_len;  /* device-writable bytes of that buffer: the largest used length allowed */
	uint16_t ndesc; /* descriptors the buffer took from the table (1 when indirect) */
	uint16_t last;  /* the chain's last descriptor, to splice the chain onto the free list */
	uint16_t next;  /* free list link, and the chain link while in use */
};

struct virtq_stats {
	uint64_t added;            /* buffers made available */
	uint64_t used;             /* buffers returned by virtq_get */
	uint64_t indirect;         /* of the added, how many through an indirect table */
	uint64_t kicks;            /* notifications sent */
	uint64_t kicks_suppressed; /* notifications the device said it did not need (§2.7.10) */
	uint64_t interrupts;       /* used-buffer interrupts that found this queue with work */
};

/* Memory for virtq_init: where the rings and the driver's own arrays live. */
struct virtq_mem {
	void *ring;                  /* virtq_ring_bytes(size, align) bytes, 4096-aligned */
	uint32_t align;              /* the used ring's alignment: the legacy Queue Align, 4096 */
	struct virtq_slot *slots;    /* size entries */
	struct virtq_desc *indirect; /* size * indirect_max descriptors, 16-aligned; or NULL */
	uint16_t indirect_max;       /* descriptors per indirect table (one table per head) */
};

/*
 * A virtqueue. Owned by one driver: calls on one queue must not run
 * concurrently (the driver serialises them); an interrupt handler only calls
 * virtq_has_used. Fields are the ring's; drivers read stats and set
 * callback/priv.
 */
struct virtq {
	struct virtio_device *dev;
	uint16_t index;              /* the queue's number on its device */
	uint16_t size;               /* Queue Size: descriptors, a power of two */
	struct virtq_desc *desc;     /* descriptor table (driver-written) */
	struct virtq_avail *avail;   /* available ring (driver-written) */
	struct virtq_used *used;     /* used ring (device-written: untrusted) */
	struct virtq_slot *slots;    /* size entries, indexed by descriptor */
	struct virtq_desc *indirect; /* one table of indirect_max entries per head, or NULL */
	uint16_t indirect_max;
	uint16_t free_head;   /* first free descriptor (slots[].next links the rest) */
	uint16_t num_free;    /* descriptors on the free list */
	uint16_t outstanding; /* buffers the device holds */
	uint16_t avail_idx;   /* our avail->idx: the next available ring entry */
	uint16_t kicked_idx;  /* avail_idx at the last notify decision */
	uint16_t last_used;   /* the next used ring entry to take */
	bool event_idx;       /* VIRTIO_F_EVENT_IDX: used_event/avail_event instead of flags */
	bool cb_enabled;      /* interrupts wanted (virtq_enable_cb) */
	bool broken;          /* the device misbehaved: nothing more is added or taken */
	void (*callback)(struct virtq *vq); /* interrupt context: used buffers may be waiting */
	void *priv;                         /* the driver's */
	struct virtq_stats stats;
};

/* Bytes of ring memory for a queue of `size` descriptors in the legacy layout (§2.7.2). */
size_t virtq_ring_bytes(uint16_t size, uint32_t align);
/*
 * Lay the rings out in mem (zeroing them), build the free list and reset the
 * indices. size must be a power of two <= 32768; -EINVAL otherwise.
 * Interrupts start enabled (flags 0 / used_event 0).
 */
int virtq_init(struct virtq *vq, struct virtio_device *dev, uint16_t index, uint16_t size,
               const struct virtq_mem *mem, bool event_idx);
/*
 * Make a buffer available: out device-readable pieces, then in device-
 * writable ones. Uses an indirect table when there is one and the buffer
 * has several pieces, else chains descriptors. The token (not NULL) comes
 * back from virtq_get. Does not notify: call virtq_kick after a batch.
 * 0, -EINVAL (bad arguments), -ENOSPC (ring full), -EIO (queue broken).
 */
int virtq_add(struct virtq *vq, const struct virtq_sg *sg, unsigned out, unsigned in, void *token);
/* After adds: does the device want a notification (§2.7.10)? Updates the bookkeeping. */
bool virtq_kick_prepare(struct virtq *vq);
void virtq_notify(struct virtq *vq);
void virtq_kick(struct virtq *vq); /* prepare, and notify if needed */
/*
 * Take the next used buffer: its token and *len, the bytes the device
 * wrote. NULL when there is none, or when the device wrote an entry that
 * does not describe an outstanding buffer (then the queue is broken, the
 * device is failed and bad_responses counts it).
 */
void *virtq_get(struct virtq *vq, uint32_t *len);
bool virtq_has_used(const struct virtq *vq); /* cheap; for interrupt handlers and poll loops */
/*
 * Ask for an interrupt at the next used buffer. Returns false when used
 * buffers are already waiting: take them (virtq_get) rather than wait.
 */
bool virtq_enable_cb(struct virtq *vq);
/* The same, but the interrupt may wait until about 3/4 of the outstanding buffers are used. */
bool virtq_enable_cb_delayed(struct virtq *vq);
void virtq_disable_cb(struct virtq *vq); /* interrupts not needed: the driver polls */
/* After the device was reset: the token of a buffer it still held (one per call), or NULL. */
void *virtq_detach(struct virtq *vq);

/* device.c: initialisation (§3.1.1), queues, interrupts and failure handling. */
/* How often a DEVICE_NEEDS_RESET device is reset and re-probed before it is given up on. */
#define VIRTIO_MAX_RESETS 3
/*
 * Reset, ACKNOWLEDGE, DRIVER, feature negotiation (driver_features: the
 * device-specific bits the driver understands; the core adds the transport
 * bits it implements), FEATURES_OK read back on modern transports. 0, or a
 * negative errno with the device set FAILED and the reason logged.
 */
int virtio_device_init(struct virtio_device *dev, uint64_t driver_features);
/* Init, driver probe, DRIVER_OK: what a bus's discovery and a recovery run. */
int virtio_device_start(struct virtio_device *dev, const struct virtio_driver *drv);
void virtio_device_ready(struct virtio_device *dev); /* set DRIVER_OK (once) */
bool virtio_has_feature(const struct virtio_device *dev, unsigned bit);
/*
 * Set up queue `index` with at most max_size descriptors (fewer if the
 * device offers fewer; exactly the device's size on legacy transports) and
 * indirect tables of indirect_max entries when INDIRECT_DESC was negotiated
 * (0: none). The memory is the page allocator's and kept across resets.
 */
int virtio_queue_setup(struct virtio_device *dev, uint16_t index, uint16_t max_size,
                       uint16_t indirect_max, struct virtq **out);
/* Route the device's interrupts to the core, which runs queue callbacks. Vectors, or -errno. */
int virtio_interrupts(struct virtio_device *dev);
/* Read `len` bytes of device configuration consistently (§2.5 configuration generation). */
int virtio_config_read(struct virtio_device *dev, uint32_t offset, void *buf, uint32_t len);
/*
 * Give up on a misbehaving device: log why (once), set FAILED and break its
 * queues. Safe in interrupt context.
 */
void virtio_device_broken(struct virtio_device *dev, const char *fmt, ...)
    __attribute__((format(__printf__, 2, 3)));
/*
 * Poll the status for DEVICE_NEEDS_RESET (§2.1) and recover: the driver's
 * remove, reset, and a fresh start, at most VIRTIO_MAX_RESETS times. 0 when
 * the device works, -EIO when it is broken. Not in interrupt context.
 */
int virtio_device_check(struct virtio_device *dev);
/* Stop using the device: driver remove, reset, queues freed. */
void virtio_device_remove(struct virtio_device *dev);

/* drivers.c: the explicit driver table, and the entry point buses call. */
struct virtio_driver {
	uint32_t device_id; /* VIRTIO_ID_* */
	const char *name;   /* "virtio-rng" */
	uint64_t features;  /* device-specific feature bits the driver understands */
	int (*probe)(
	    struct virtio_device *dev); /* queues, buffers; DRIVER_OK via virtio_device_ready */
	void (*remove)(struct virtio_device *dev); /* optional: release what probe took */
	/* Optional, interrupt context: the device signalled a configuration change (§2.5). */
	void (*config_changed)(struct virtio_device *dev);
	/*
	 * Optional: the offer and `features` in common, less what the driver
	 * will not take without bits that are missing (§5.1.3.1's dependencies).
	 */
	uint64_t (*features_select)(uint64_t features);
};
/* A bus found a device: find its driver and start it. 0, -ENODEV without driver, or -errno. */
int virtio_device_found(struct virtio_device *dev);
const char *virtio_type_name(uint32_t device_id); /* "virtio-rng", or NULL when unknown */
unsigned virtio_device_count(void);
struct virtio_device *virtio_device_at(unsigned i); /* devices found, in order; NULL past the end */

/* rng.c: virtio-rng (§5.4), an entropy source for rt/random.c. */
int virtio_rng_probe(struct virtio_device *dev);
void virtio_rng_remove(struct virtio_device *dev);

/*
 * net.c: virtio-net (§5.1), one struct vnet per device, for the layer above
 * (net/netif.c) to attach to. It hands up received frames in the buffers
 * the device wrote (the layer above may keep a buffer and give it back
 * later: no copy), takes frames to send as scatter-gather lists with an
 * optional partial checksum for the device to complete, and reports link
 * changes. Received buffers are checked by vnet_rx_check (net_hdr.c) before
 * anything else looks at them; what fails is dropped and counted.
 *
 * Concurrency: vnet_poll_rx and vnet_refill run in one thread per device
 * (the layer above's service thread); vnet_transmit, vnet_reap_tx and
 * vnet_check are serialised by the caller (net/ holds lwIP's core lock), so
 * the transmit ring has no lock of its own and completions are reaped by
 * whoever holds it, never waited for; vnet_rx_release is lock-free and may
 * be called from any thread; the client's wake hook runs in interrupt context.
 */
#ifndef VNET_MAX_DEVICES
#define VNET_MAX_DEVICES 8 /* host tests make more */
#endif
#define VNET_RX_BUF_BYTES  2048 /* one receive buffer, client area included */
#define VNET_RX_CLIENT     64   /* bytes at the start of each buffer the client may use */
#define VNET_TX_MAX_SG     16   /* pieces of one transmitted frame */
#define VNET_TSO_MAX_SG    64   /* pieces of one frame the device segments (HOST_TSO4/6) */
#define VNET_NO_CSUM       0xffff

struct vnet;

/*
 * A large TCP segment (GUEST_TSO4/6, §5.1.6.4) is one frame of up to an IP
 * datagram's 65535 bytes plus the Ethernet header, spread over as many
 * receive buffers as it takes (MRG_RXBUF): the first holds the header and
 * 1970 frame bytes, each further one 1982.
 */
#define VNET_RX_GSO_MAX    (14 + 65535) /* Ethernet header + the longest IP datagram */
#define VNET_RX_MAX_PIECES 34           /* buffers such a frame takes at most (net_rx.c checks) */

/* One buffer's part of a received frame. */
struct vnet_rx_piece {
	void *buf;     /* the buffer; its first VNET_RX_CLIENT bytes are the client's */
	uint8_t *data; /* the frame's bytes in it */
	uint32_t len;
};

/* A received frame as the driver hands it up. */
struct vnet_rx {
	void *buf;       /* the first buffer (piece[0].buf) */
	uint8_t *frame;  /* the Ethernet frame (destination address first), inside buf */
	uint32_t len;    /* frame bytes in all pieces: ETH_HDR_LEN..ETH_FRAME_MAX, or
	                    VNET_RX_GSO_MAX for a large segment */
	bool csum_valid; /* L4 checksum known good: DATA_VALID, or a partial one completed */
	/*
	 * A large TCP segment (gso): the IP header's lengths are the whole
	 * segment's, and the TCP checksum is known good but its field holds
	 * only the pseudo-header sum when the device left it partial (not
	 * completed: it would mean summing 64 KiB that nothing checks).
	 */
	bool gso;
	unsigned npieces; /* 1..VNET_RX_MAX_PIECES; only a gso frame has more than one */
	const struct vnet_rx_piece *piece;
};

/* A frame to send: its pieces, and where the device should complete a checksum. */
struct vnet_tx {
	const struct virtq_sg *sg;
	unsigned nsg;         /* 1..VNET_TX_MAX_SG */
	uint16_t csum_start;  /* VNET_NO_CSUM, or the offset where checksumming starts (§5.1.6.2) */
	uint16_t csum_offset; /* where, after csum_start, the checksum goes */
	void *token;          /* handed back to the client's sent() when the device is done */
	/* For the device to segment (§5.1.6.2; vnet_tx_tso says which kinds it takes): */
	uint8_t gso_type;  /* VIRTIO_NET_HDR_GSO_NONE (0), or _TCPV4 / _TCPV6 with a partial csum */
	uint16_t gso_size; /* payload bytes per segment it cuts */
	uint16_t hdr_len;  /* Ethernet + IP + TCP header bytes each segment repeats */
};

/* What the layer above provides when it attaches. */
struct vnet_client {
	/* Interrupt context, or any thread: there may be work (poll) or a configuration change. */
	void (*wake)(void *ctx);
	/*
	 * From vnet_poll_rx: a good frame. Return true to keep every piece's
	 * buffer (and give each back with vnet_rx_release), false to let the
	 * driver reuse them all now.
	 */
	bool (*receive)(void *ctx, const struct vnet_rx *rx);
	/* From vnet_transmit / vnet_reap_tx / vnet_check: the device is done with token's frame. */
	void (*sent)(void *ctx, void *token);
};

struct vnet_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_truncated;      /* shorter than header + Ethernet header */
	uint64_t rx_oversized;      /* longer than ETH_FRAME_MAX (a large segment: VNET_RX_GSO_MAX) */
	uint64_t rx_bad_header;     /* GSO we never negotiated, num_buffers 0, csum fields outside */
	uint64_t rx_gso;            /* of rx_frames, large TCP segments (GUEST_TSO4/6) */
	uint64_t rx_csum_completed; /* NEEDS_CSUM frames whose checksum the driver completed */
	uint64_t rx_csum_unasked;   /* of those, sent although GUEST_CSUM was not negotiated */
	uint64_t rx_csum_valid;     /* DATA_VALID frames */
	uint64_t rx_refills, rx_starved; /* refill batches; polls that found no buffer posted */
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_csum_offloaded; /* frames whose checksum the device completes */
	uint64_t tx_gso;            /* of the frames, how many the device segments */
	uint64_t tx_ring_full;      /* transmits refused: no descriptor free after reaping */
	uint64_t tx_bad;            /* transmits refused: empty, too long, too many pieces */
	uint64_t link_changes, announces, resets;
};

/* Receive buffers, their offsets: the client area, then the header right before the frame. */
#define VNET_RX_FRAME_OFF 78 /* frame start: the IP header lands 4-byte aligned */

unsigned vnet_count(void);
struct vnet *vnet_at(unsigned i); /* NULL past the end */
const char *vnet_name(const struct vnet *n);
void vnet_mac(const struct vnet *n, uint8_t mac[6]);
bool vnet_tx_csum(const struct vnet *n);   /* the device completes partial checksums */
/* HOST_TSO4 and HOST_TSO6 negotiated (with CSUM): which gso_types vnet_transmit takes. */
void vnet_tx_tso(const struct vnet *n, bool *v4, bool *v6);
bool vnet_link_up(struct vnet *n);         /* STATUS's LINK_UP; up without VIRTIO_NET_F_STATUS */
bool vnet_config_event(struct vnet *n);    /* a configuration interrupt since the last call */
bool vnet_announce_wanted(struct vnet *n); /* the device asks for gratuitous packets (§5.1.6.5.4) */
int vnet_announce_done(struct vnet *n);    /* acknowledge them on the control queue */
bool vnet_interrupts(const struct vnet *n); /* false: nothing wakes the client, it must poll */
const struct vnet_stats *vnet_stats(const struct vnet *n);
unsigned vnet_rx_buffers(const struct vnet *n, unsigned *posted, unsigned *free_);
/* Attach the client and post the receive buffers; 0, -EBUSY (attached), -ENOMEM, -EIO. */
int vnet_attach(struct vnet *n, const struct vnet_client *c, void *ctx);
/* Hand up to `budget` received frames to the client; how many buffers were taken. */
int vnet_poll_rx(struct vnet *n, int budget);
/* Post the free buffers (in one batch, one notification) when enough have gathered. */
void vnet_refill(struct vnet *n);
/* Ask for an interrupt at the next received frame; false when frames are waiting already. */
bool vnet_rx_arm(struct vnet *n);
void vnet_rx_release(struct vnet *n, void *buf);
/* 0; -EINVAL / -EMSGSIZE (bad frame), -ENOSPC (ring full), -EIO (device down): not sent. */
int vnet_transmit(struct vnet *n, const struct vnet_tx *tx);
void vnet_reap_tx(struct vnet *n);
/* Recover from DEVICE_NEEDS_RESET (virtio_device_check); 0, or -EIO when given up on. */
int vnet_check(struct vnet *n);
int virtio_net_probe(struct virtio_device *dev);
uint64_t virtio_net_features(uint64_t features); /* virtio_driver.features_select */
void virtio_net_remove(struct virtio_device *dev);
void virtio_net_config_changed(struct virtio_device *dev);

/* net_hdr.c: the per-packet header (§5.1.6), checked and built apart from the device. */
struct virtio_net_hdr; /* net_reg.h */
struct vnet_hdr_cfg {
	uint32_t hdr_len;            /* 12, or 10 for legacy devices without MRG_RXBUF */
	bool mrg_rxbuf;              /* num_buffers is meaningful */
	bool guest_csum;             /* VIRTIO_NET_F_GUEST_CSUM negotiated */
	bool guest_tso4, guest_tso6; /* GUEST_TSO4, GUEST_TSO6 negotiated (never GUEST_ECN) */
};
enum vnet_rx_verdict {
	VNET_RX_OK,
	VNET_RX_TRUNCATED,  /* header or Ethernet header incomplete */
	VNET_RX_OVERSIZED,  /* frame longer than ETH_FRAME_MAX */
	VNET_RX_MULTI,      /* num_buffers > 1: the frame continues in more buffers */
	VNET_RX_BAD_HEADER, /* a header value that cannot be right */
};
struct vnet_rx_info {
	uint32_t frame_len;   /* frame bytes so far (vnet_rx_continue adds the later buffers') */
	uint16_t num_buffers; /* buffers this frame occupies (1 without MRG_RXBUF) */
	uint8_t gso_type;     /* VIRTIO_NET_HDR_GSO_NONE, or _TCPV4 / _TCPV6 */
	uint16_t gso_size;    /* with gso_type: the sender's segment payload (1..ETH_DATA_MAX) */
	bool csum_valid, csum_completed, csum_unasked, data_valid;
};
/*
 * Check the header and frame the device wrote in the first buffer: `used`
 * bytes at hdr, the header then the frame. A partial checksum (NEEDS_CSUM)
 * is completed in place, except in a large segment. Returns the verdict;
 * *info is filled for VNET_RX_OK and MULTI. OK with num_buffers > 1 is a
 * large segment whose other buffers follow (vnet_rx_continue each).
 */
enum vnet_rx_verdict vnet_rx_check(const struct vnet_hdr_cfg *cfg, uint8_t *hdr, uint32_t used,
                                   struct vnet_rx_info *info);
/* A large segment's next buffer, `used` frame bytes: OK, TRUNCATED (empty) or OVERSIZED. */
enum vnet_rx_verdict vnet_rx_continue(struct vnet_rx_info *info, uint32_t used);
/* Fill a transmit header: no offload, or a partial checksum at csum_start + csum_offset. */
void vnet_tx_hdr(struct virtio_net_hdr *h, uint16_t csum_start, uint16_t csum_offset);
/* RFC 1071 ones-complement sum of len bytes as big-endian 16-bit words, added to sum. */
uint32_t vnet_csum_add(uint32_t sum, const uint8_t *p, uint32_t len);
uint16_t vnet_csum_fold(uint32_t sum); /* folded to 16 bits, not inverted */

#endif
