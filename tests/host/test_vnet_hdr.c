/*
 * virtio/net_hdr.c's receive checks for large TCP segments (GUEST_TSO4/6,
 * virtio 1.2 §5.1.6.4), as pure functions: every way a device's header for
 * one can be wrong, and the continuation buffers' lengths. The driver's
 * side (gathering the buffers) is in test_vnet.c.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "net_reg.h"
#include "virtio.h"
#include "vnet_gso.h"

static const struct vnet_hdr_cfg gso_cfg = {
    .hdr_len = 12, .mrg_rxbuf = true, .guest_csum = true, .guest_tso4 = true, .guest_tso6 = true};

static uint8_t buf[2048];

/* A header, then the start of an Ethernet + IPv4/IPv6 + TCP frame, in buf. */
static struct virtio_net_hdr *put(uint8_t type, uint16_t nbufs)
{
	memset(buf, 0, sizeof(buf));
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)buf;
	bool v6 = type == VIRTIO_NET_HDR_GSO_TCPV6;
	*h = vnet_gso_hdr(type, nbufs);
	uint8_t *fr = buf + 12;
	fr[12] = v6 ? 0x86 : 0x08;
	fr[13] = v6 ? 0xdd : 0x00;
	fr[14] = v6 ? 0x60 : 0x45;
	return h;
}

static enum vnet_rx_verdict check(const struct vnet_hdr_cfg *cfg, uint32_t flen,
                                  struct vnet_rx_info *info)
{
	return vnet_rx_check(cfg, buf, 12 + flen, info);
}

static void test_good(void)
{
	struct vnet_rx_info info;
	put(VIRTIO_NET_HDR_GSO_TCPV4, 20);
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_OK);
	CHECK(info.num_buffers == 20 && info.frame_len == 1970 && info.gso_size == 1448);
	CHECK(info.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && info.csum_valid);
	CHECK(!info.csum_completed && !info.data_valid);
	CHECK(buf[12 + 34 + 16] == 0 && buf[12 + 34 + 17] == 0); /* the field left as it was */
	/* IPv6, DATA_VALID instead of NEEDS_CSUM, an unknown flag ignored */
	struct virtio_net_hdr *h = put(VIRTIO_NET_HDR_GSO_TCPV6, 2);
	h->flags = VIRTIO_NET_HDR_F_DATA_VALID | 0x40;
	h->csum_start = h->csum_offset = 0xffff; /* not to be used without NEEDS_CSUM */
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_OK && info.data_valid && info.csum_valid);
	/* one buffer, just the headers, the extreme gso_sizes */
	h = put(VIRTIO_NET_HDR_GSO_TCPV4, 1);
	h->gso_size = 1;
	CHECK(check(&gso_cfg, 54, &info) == VNET_RX_OK && info.num_buffers == 1);
	h->gso_size = ETH_DATA_MAX;
	CHECK(check(&gso_cfg, 54, &info) == VNET_RX_OK);
}

static void test_bad(void)
{
	struct vnet_rx_info info;
	struct vnet_hdr_cfg cfg = gso_cfg;
	/* a kind not negotiated: each of TSO4, TSO6, and GUEST_CSUM / MRG_RXBUF missing */
	cfg.guest_tso4 = false;
	put(VIRTIO_NET_HDR_GSO_TCPV4, 2);
	CHECK(check(&cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	cfg = gso_cfg;
	cfg.guest_tso6 = false;
	put(VIRTIO_NET_HDR_GSO_TCPV6, 2);
	CHECK(check(&cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	cfg = gso_cfg;
	cfg.guest_csum = false;
	put(VIRTIO_NET_HDR_GSO_TCPV4, 2);
	CHECK(check(&cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	cfg = gso_cfg;
	cfg.mrg_rxbuf = false;
	CHECK(vnet_rx_check(&cfg, buf, 12 + 1970, &info) == VNET_RX_BAD_HEADER);
	/* ECN without GUEST_ECN (§5.1.6.4.1), UDP, UDP_L4, an unknown type */
	const uint8_t types[] = {VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN,
	                         VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN,
	                         VIRTIO_NET_HDR_GSO_UDP,
	                         VIRTIO_NET_HDR_GSO_UDP_L4,
	                         2,
	                         0x7f};
	for (unsigned i = 0; i < sizeof(types); i++) {
		put(types[i], 2);
		CHECK_MSG(check(&gso_cfg, 1970, &info) == VNET_RX_BAD_HEADER, "type %#x", types[i]);
	}
	/* gso_size 0 or more than the MTU's payload */
	struct virtio_net_hdr *h = put(VIRTIO_NET_HDR_GSO_TCPV4, 2);
	h->gso_size = 0;
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	h->gso_size = ETH_DATA_MAX + 1;
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	/* neither NEEDS_CSUM nor DATA_VALID: nothing can check the segment's checksum */
	h = put(VIRTIO_NET_HDR_GSO_TCPV4, 2);
	h->flags = 0;
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	/* the checksum field: inside the IP header, not TCP's, past the first buffer */
	h = put(VIRTIO_NET_HDR_GSO_TCPV4, 2);
	h->csum_start = 33;
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	h->csum_start = 34;
	h->csum_offset = 6;
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	h->csum_offset = 16;
	h->csum_start = 1960;
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	h = put(VIRTIO_NET_HDR_GSO_TCPV6, 2);
	h->csum_start = 34; /* IPv4's place in an IPv6 frame */
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	/* the frame is not of the kind the type says, or too short for its headers */
	put(VIRTIO_NET_HDR_GSO_TCPV4, 2);
	buf[12 + 12] = 0x86, buf[12 + 13] = 0xdd;
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	put(VIRTIO_NET_HDR_GSO_TCPV4, 2);
	buf[12 + 14] = 0x65; /* IPv6's version in an IPv4 EtherType */
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_BAD_HEADER);
	put(VIRTIO_NET_HDR_GSO_TCPV4, 1);
	CHECK(check(&gso_cfg, 53, &info) == VNET_RX_BAD_HEADER);
	put(VIRTIO_NET_HDR_GSO_TCPV6, 1);
	CHECK(check(&gso_cfg, 73, &info) == VNET_RX_BAD_HEADER);
	/* num_buffers 0 */
	put(VIRTIO_NET_HDR_GSO_TCPV4, 0);
	CHECK(check(&gso_cfg, 1970, &info) == VNET_RX_BAD_HEADER);
}

/* A plain frame over several buffers stays refused; one buffer longer than 1518 too. */
static void test_plain(void)
{
	struct vnet_rx_info info;
	struct virtio_net_hdr *h = put(VIRTIO_NET_HDR_GSO_NONE, 2);
	h->flags = 0;
	CHECK(check(&gso_cfg, 1000, &info) == VNET_RX_MULTI && info.num_buffers == 2);
	h->num_buffers = 1;
	CHECK(check(&gso_cfg, ETH_FRAME_MAX + 1, &info) == VNET_RX_OVERSIZED);
	CHECK(check(&gso_cfg, ETH_FRAME_MAX, &info) == VNET_RX_OK && info.gso_type == 0);
}

static void test_continue(void)
{
	struct vnet_rx_info info = {.frame_len = 1970, .num_buffers = 34};
	CHECK(vnet_rx_continue(&info, 0) == VNET_RX_TRUNCATED && info.frame_len == 1970);
	CHECK(vnet_rx_continue(&info, 1982) == VNET_RX_OK && info.frame_len == 1970 + 1982);
	info.frame_len = VNET_RX_GSO_MAX - 10;
	CHECK(vnet_rx_continue(&info, 11) == VNET_RX_OVERSIZED);
	CHECK(vnet_rx_continue(&info, 0xffffffffu) == VNET_RX_OVERSIZED); /* no wrap-around */
	CHECK(vnet_rx_continue(&info, 10) == VNET_RX_OK && info.frame_len == VNET_RX_GSO_MAX);
	CHECK(vnet_rx_continue(&info, 1) == VNET_RX_OVERSIZED);
}

int main(void)
{
	test_good();
	test_bad();
	test_plain();
	test_continue();
	return check_report("vnet_hdr");
}
