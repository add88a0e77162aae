/*
 * The header a device writes in front of a large TCP segment it received
 * (virtio 1.2 §5.1.6.4, GUEST_TSO4/6), as QEMU passes Linux's on: a partial
 * checksum at TCP's field right after a minimal IPv4 or IPv6 header, 1448-byte
 * segments. For test_vnet.c and test_vnet_hdr.c.
 */
#ifndef TESTS_HOST_VNET_GSO_H
#define TESTS_HOST_VNET_GSO_H

#include "net_reg.h"

static inline struct virtio_net_hdr vnet_gso_hdr(uint8_t type, uint16_t nbufs)
{
	uint16_t start = type == VIRTIO_NET_HDR_GSO_TCPV6 ? 54 : 34;
	return (struct virtio_net_hdr){.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
	                               .gso_type = type,
	                               .hdr_len = (uint16_t)(start + 20),
	                               .gso_size = 1448,
	                               .csum_start = start,
	                               .csum_offset = 16,
	                               .num_buffers = nbufs};
}

#endif
