/*
 * virtio-net's driver state, shared by its files: net.c (probe,
 * configuration, control queue), net_rx.c and net_tx.c. Private to virtio/.
 */
#ifndef VIRTIO_NET_DEV_H
#define VIRTIO_NET_DEV_H

/*
 * Receive buffers: as many as the ring holds (2 KiB each). A large TCP
 * segment (GUEST_TSO4/6) takes up to 34 of them, so 256 hold about seven
 * 64 KiB segments, more than TCP_WND (net/lwipopts.h) lets a sender have
 * in flight. Buffers the client keeps are not posted meanwhile; the netif
 * copies instead of keeping while fewer than a quarter are (net/netif.c).
 */
#define RX_QUEUE_WANT   256 /* descriptors asked for; QEMU offers 256 */
#define TX_QUEUE_WANT   256
#define CTL_QUEUE_WANT  8
#define RX_BUFS_MAX     256
#define RX_REFILL_BATCH 16 /* free buffers that make a refill worth a kick */
#define BUFS_PER_PAGE   (PAGE_SIZE / VNET_RX_BUF_BYTES)
#define TX_NONE         0xffff
#define CTL_TIMEOUT_NS  200000000ull /* a control command the device never answers */

#define F(bit) (1ull << (bit))

struct tx_ctx {
	struct virtio_net_hdr hdr; /* device-readable: the first piece of the frame */
	uint16_t next;             /* free list link */
	void *token;               /* the client's */
};

struct ctl_cmd {
	struct virtio_net_ctrl_hdr hdr; /* device-readable */
	uint8_t ack;                    /* device-writable */
};

struct vnet {
	struct virtio_device *dev;
	struct vnet_hdr_cfg hcfg;
	uint8_t mac[ETH_ADDR_LEN];
	bool csum, status, announce; /* CSUM, STATUS, GUEST_ANNOUNCE (with CTRL_VQ) negotiated */
	bool tso4, tso6;             /* HOST_TSO4, HOST_TSO6 (with CSUM) negotiated */
	bool split_hdr; /* legacy device: the header in a descriptor of its own (§2.7.4.1) */
	bool irq;       /* interrupts routed: the client is woken */
	bool live;      /* probe set the queues up; remove, or giving up, ends it */
	bool ctl_stuck; /* a control command was never answered: no more are sent */
	struct virtq *rxq, *txq, *ctlq;
	const struct vnet_client *client; /* set once by vnet_attach */
	void *ctx;
	/* Receive buffers. rx_posted: written by the service thread, read anywhere. */
	uint8_t **rx_pages;
	unsigned rx_npages, rx_total, rx_posted;
	void *rx_free;          /* lock-free stack, linked through each buffer's first word */
	unsigned rx_free_count; /* atomic; may lag the stack by the buffers in flight */
	uint16_t rx_skip;       /* buffers still to drop of a frame spread over several */
	/* A frame over several buffers being gathered: they may come over several polls. */
	struct vnet_rx_piece rx_piece[VNET_RX_MAX_PIECES];
	struct vnet_rx_info rx_info; /* its first buffer's check, frame_len growing */
	unsigned rx_have;            /* pieces gathered; 0: no frame open */
	/* Transmit contexts (caller-serialised, see virtio.h). */
	struct tx_ctx *tx;
	uint16_t tx_count, tx_free;
	struct ctl_cmd *ctl;
	bool config_event; /* atomic: set by the configuration interrupt */
	struct vnet_stats stats;
};

/* net_rx.c */
int vnet_rx_alloc(struct vnet *n, unsigned want);
unsigned vnet_rx_capacity(const struct vnet *n);
void vnet_rx_reclaim(struct vnet *n);

/* net_tx.c */
int vnet_tx_alloc(struct vnet *n);
void vnet_tx_reclaim(struct vnet *n);

#endif
