/*
 * net/ internal header: lwIP glued to noos (virtio-net netifs, lwIP's
 * sys_arch on noos threads, address configuration), grouped by the file
 * that defines each function. Applications use noos.h (noos_net_*) and
 * lwIP's own headers (lwip/sockets.h, lwip/netdb.h).
 */
#ifndef NOOS_NET_H
#define NOOS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"

struct virtq_sg;
struct vnet;

/*
 * frame.c: frames between a driver's buffers and lwIP, portable (the fuzzer
 * runs it on the host). Receive: wrap a driver buffer as a custom pbuf (no
 * copy), or a large TCP segment's buffers as a chain of them, or copy a
 * frame into a pbuf, and hand it to lwIP, skipping the
 * TCP/UDP checksum check only for frames whose checksum is known good and
 * whose transport header follows the IP header directly. Transmit: prepare
 * the device's TCP checksum completion, and describe a pbuf chain as DMA
 * pieces.
 */
struct net_rx_buf {
	struct pbuf_custom pc; /* first: lwIP's free function gets the pbuf */
	void (*release)(void *owner, void *buf);
	void *owner;
};
_Static_assert(sizeof(struct net_rx_buf) <= 64, "fits the driver's client area (VNET_RX_CLIENT)");
/* A pbuf over len bytes at frame inside buf; freeing it calls release(owner, buf). */
struct pbuf *net_rx_wrap(void *buf, uint8_t *frame, uint16_t len,
                         void (*release)(void *owner, void *buf), void *owner);
struct pbuf *net_rx_copy(const uint8_t *frame, uint16_t len); /* PBUF_POOL, else PBUF_RAM */
/* The frame's TCP or UDP header follows an unfragmented IPv4/IPv6 header directly. */
bool net_frame_l4_plain(const uint8_t *frame, uint32_t len);
/*
 * Give p to lwIP (ethernet_input), with the core lock held. csum_valid:
 * the device or driver vouched for the transport checksum. p is consumed.
 */
void net_rx_input(struct netif *nif, struct pbuf *p, bool csum_valid);
/*
 * A large TCP segment (virtio-net GUEST_TSO4/6) as lwIP takes it: the IP
 * datagram (up to 65535 bytes, where a pbuf's lengths end) without the
 * Ethernet header, as a chain of the pieces' buffers (no copy; freeing a
 * pbuf releases its buffer) or copied into one pbuf (NULL: no memory).
 */
struct vnet_rx_piece;
struct pbuf *net_rx_wrap_segment(const struct vnet_rx_piece *pc, unsigned n,
                                 void (*release)(void *owner, void *buf), void *owner);
struct pbuf *net_rx_copy_segment(const struct vnet_rx_piece *pc, unsigned n, uint32_t len);
/*
 * Give a large segment's datagram to lwIP (ip_input), core lock held;
 * frame is its Ethernet frame's start (the first piece, first_len bytes),
 * csum_valid as for net_rx_input. p is consumed.
 */
void net_rx_input_segment(struct netif *nif, struct pbuf *p, const uint8_t *frame,
                          uint32_t first_len, bool csum_valid);
/*
 * A TCP segment in p (headers in the first pbuf) gets its checksum field
 * set to the pseudo-header sum, for the device to complete from *start,
 * storing at *start + *offset (§5.1.6.2). false: not a TCP segment whose
 * headers are all in the first pbuf (the caller copies it into one and
 * tries again, or sends it as it is when it is not TCP).
 */
bool net_tx_csum_partial(struct pbuf *p, uint16_t *start, uint16_t *offset);
bool net_frame_is_tcp(const uint8_t *frame, uint32_t len);
/*
 * p's pieces as DMA-able sg entries; -1 when there are more than max or one
 * cannot be handed over as it is (not DMA-able in one piece, or volatile).
 */
int net_tx_pieces(const struct pbuf *p, struct virtq_sg *sg, unsigned max);
/* Whether a piece of p may change once linkoutput returns (PBUF_REF): keep a copy, not p. */
bool net_tx_volatile(const struct pbuf *p);

/* A netif's checksum flags (NETIF_SET_CHECKSUM_CTRL): with the device completing TCP's, or not. */
uint16_t net_csum_flags(bool tcp_offload);

/* rand.c: net_rand and net_isn, declared in arch/cc.h (rand.c sees no lwIP header). */

/* netif.c: one lwIP netif per virtio-net device, each with a service thread. */
#define NET_MAX_NETIFS 8
int net_netif_add(struct vnet *vn, unsigned index, struct netif **out);
unsigned net_netif_count(void);
struct netif *net_netif_at(unsigned i);
void net_netif_report(void); /* driver and netif counters, one line per interface */
void net_netif_flush(void);  /* core lock held: TCP segments held for TSO go out */

/* config.c: addresses from the command line or DHCP, IPv6 link-local and SLAAC. */
void net_config_netif(struct netif *nif, unsigned index);
void net_config_print_v4(struct netif *nif, const char *how); /* "net: en1 ipv4 ..." */

#endif
