/*
 * virtio-net's device-visible layouts (virtio 1.2 §5.1), with the spec's own
 * names: feature bits (§5.1.3), the configuration space (§5.1.4), the
 * per-packet header (§5.1.6) and the control virtqueue's commands (§5.1.6.5).
 *
 * Multi-byte fields are little-endian on modern devices and guest-native on
 * legacy ones (§5.1.6.1); noos runs little-endian only (ring_reg.h asserts it).
 */
#ifndef NOOS_VIRTIO_NET_REG_H
#define NOOS_VIRTIO_NET_REG_H

#include <stdint.h>

/* §5.1.2 Virtqueues: receiveq1, transmitq1, ...; controlq is 2N (N = 1 without MQ). */
#define VIRTIO_NET_RXQ  0
#define VIRTIO_NET_TXQ  1
#define VIRTIO_NET_CTLQ 2

/* §5.1.3 Feature bits. */
#define VIRTIO_NET_F_CSUM                0  /* device handles packets with partial checksum */
#define VIRTIO_NET_F_GUEST_CSUM          1  /* driver handles packets with partial checksum */
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2  /* control channel offloads reconfiguration */
#define VIRTIO_NET_F_MTU                 3  /* device reports a maximum MTU */
#define VIRTIO_NET_F_MAC                 5  /* device has given a MAC address */
#define VIRTIO_NET_F_GUEST_TSO4          7  /* driver can receive TSOv4 */
#define VIRTIO_NET_F_GUEST_TSO6          8  /* driver can receive TSOv6 */
#define VIRTIO_NET_F_GUEST_ECN           9  /* driver can receive TSO with ECN */
#define VIRTIO_NET_F_GUEST_UFO           10 /* driver can receive UFO */
#define VIRTIO_NET_F_HOST_TSO4           11 /* device can receive TSOv4 */
#define VIRTIO_NET_F_HOST_TSO6           12 /* device can receive TSOv6 */
#define VIRTIO_NET_F_HOST_ECN            13 /* device can receive TSO with ECN */
#define VIRTIO_NET_F_HOST_UFO            14 /* device can receive UFO */
#define VIRTIO_NET_F_MRG_RXBUF           15 /* driver can merge receive buffers */
#define VIRTIO_NET_F_STATUS              16 /* configuration status field is available */
#define VIRTIO_NET_F_CTRL_VQ             17 /* control channel is available */
#define VIRTIO_NET_F_CTRL_RX             18 /* control channel RX mode support */
#define VIRTIO_NET_F_CTRL_VLAN           19 /* control channel VLAN filtering */
#define VIRTIO_NET_F_GUEST_ANNOUNCE      21 /* driver can send gratuitous packets */
#define VIRTIO_NET_F_MQ                  22 /* device supports multiqueue with automatic steering */
#define VIRTIO_NET_F_CTRL_MAC_ADDR       23 /* set MAC address through the control channel */

/* §5.1.4 Device configuration layout (the fields noos reads). */
#define VIRTIO_NET_CFG_MAC    0 /* u8 mac[6], valid with VIRTIO_NET_F_MAC */
#define VIRTIO_NET_CFG_STATUS 6 /* le16 status, valid with VIRTIO_NET_F_STATUS */
#define VIRTIO_NET_S_LINK_UP  1
#define VIRTIO_NET_S_ANNOUNCE 2

/*
 * §5.1.6 The header in front of every packet, both directions. It is 12
 * bytes (num_buffers included) with VIRTIO_F_VERSION_1 or
 * VIRTIO_NET_F_MRG_RXBUF, else 10 (§5.1.6.1 legacy interface). The hash
 * fields of VIRTIO_NET_F_HASH_REPORT are never negotiated.
 */
struct virtio_net_hdr {
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_F_RSC_INFO   4
	uint8_t flags;
#define VIRTIO_NET_HDR_GSO_NONE   0
#define VIRTIO_NET_HDR_GSO_TCPV4  1
#define VIRTIO_NET_HDR_GSO_UDP    3
#define VIRTIO_NET_HDR_GSO_TCPV6  4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#define VIRTIO_NET_HDR_GSO_ECN    0x80
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

#define VIRTIO_NET_HDR_LEN        12 /* VERSION_1 or MRG_RXBUF */
#define VIRTIO_NET_HDR_LEN_LEGACY 10 /* legacy without MRG_RXBUF: no num_buffers */
_Static_assert(sizeof(struct virtio_net_hdr) == VIRTIO_NET_HDR_LEN, "virtio_net_hdr layout");

/* §5.1.6.5 Control virtqueue: a command is class, command, data; the device writes ack. */
struct virtio_net_ctrl_hdr {
	uint8_t class;
	uint8_t command;
} __attribute__((packed));
#define VIRTIO_NET_OK  0
#define VIRTIO_NET_ERR 1

/* §5.1.6.5.4 Gratuitous packet sending: acknowledge VIRTIO_NET_S_ANNOUNCE once sent. */
#define VIRTIO_NET_CTRL_ANNOUNCE     3
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK 0

/* Ethernet II as carried: destination, source, EtherType (IEEE 802.3 clause 3). */
#define ETH_HDR_LEN   14
#define ETH_VLAN_LEN  4
#define ETH_DATA_MAX  1500
#define ETH_FRAME_MAX (ETH_HDR_LEN + ETH_VLAN_LEN + ETH_DATA_MAX) /* 1518, FCS stripped */
#define ETH_ADDR_LEN  6

#endif
