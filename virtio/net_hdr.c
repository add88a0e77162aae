/*
 * virtio-net's per-packet header (virtio 1.2 §5.1.6), apart from the device:
 * checking what the device wrote in front of a received frame, completing a
 * partial checksum it left, and filling the header in front of a frame to
 * send. Pure functions over bytes, so host tests and the fuzzer reach every
 * branch.
 *
 * The device is untrusted (virtio.h): the used length, num_buffers, gso_type
 * and the checksum offsets are all checked before they are used, and a frame
 * that fails is reported with a verdict the driver counts and drops.
 */
#include <stddef.h>
#include <string.h>

#include "net_reg.h"
#include "virtio.h"

/*
 * RFC 1071: sum big-endian 16-bit words; an odd last byte is the high half of
 * a word (so only the last of several calls may have an odd length).
 */
uint32_t vnet_csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint64_t acc = sum;
	while (len >= 2) {
		acc += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}

uint16_t vnet_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v; /* device byte order = little-endian = ours (net_reg.h) */
}

/*
 * §5.1.6.4 with NEEDS_CSUM: the checksum field at csum_start + csum_offset
 * holds the pseudo-header sum; the rest is the ones-complement sum from
 * csum_start to the end of the frame. A result of 0 is stored as 0xffff: the
 * same value in ones-complement arithmetic (RFC 1624 §3), and the only form
 * UDP allows (RFC 768).
 */
static bool complete_csum(uint8_t *frame, uint32_t len, uint16_t start, uint16_t offset)
{
	uint32_t field = (uint32_t)start + offset;
	if (start < ETH_HDR_LEN || start >= len || field + 2 > len)
		return false;
	uint16_t csum = (uint16_t)~vnet_csum_fold(vnet_csum_add(0, frame + start, len - start));
	if (csum == 0)
		csum = 0xffff;
	frame[field] = (uint8_t)(csum >> 8);
	frame[field + 1] = (uint8_t)csum;
	return true;
}

/* num_buffers (§5.1.6.4): at least 1; meaningful only with MRG_RXBUF. */
static enum vnet_rx_verdict check_buffers(const struct vnet_hdr_cfg *cfg, const uint8_t *hdr,
                                          struct vnet_rx_info *info)
{
	info->num_buffers = 1;
	if (!cfg->mrg_rxbuf)
		return VNET_RX_OK; /* the device "MUST set num_buffers to 1"; nothing relies on it
		                    */
	uint16_t n = get16(hdr + offsetof(struct virtio_net_hdr, num_buffers));
	if (n == 0)
		return VNET_RX_BAD_HEADER;
	info->num_buffers = n;
	return VNET_RX_OK;
}

/*
 * Checksum flags (§5.1.6.4): NEEDS_CSUM may only come with GUEST_CSUM
 * negotiated; a device that sends it anyway has still told us where the
 * partial checksum is, so it is completed all the same and counted
 * (csum_unasked). DATA_VALID means something only with GUEST_CSUM.
 * Unknown flag bits are ignored, as §5.1.6.4.2 requires.
 */
static enum vnet_rx_verdict check_csum(const struct vnet_hdr_cfg *cfg, const uint8_t *hdr,
                                       uint8_t *frame, struct vnet_rx_info *info)
{
	uint8_t flags = hdr[offsetof(struct virtio_net_hdr, flags)];
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint16_t start = get16(hdr + offsetof(struct virtio_net_hdr, csum_start));
		uint16_t offset = get16(hdr + offsetof(struct virtio_net_hdr, csum_offset));
		if (!complete_csum(frame, info->frame_len, start, offset))
			return VNET_RX_BAD_HEADER;
		info->csum_completed = info->csum_valid = true;
		info->csum_unasked = !cfg->guest_csum;
	} else if ((flags & VIRTIO_NET_HDR_F_DATA_VALID) && cfg->guest_csum) {
		info->data_valid = info->csum_valid = true;
	}
	return VNET_RX_OK;
}

/* A frame that fits one buffer: one that needs several is dropped whole. */
static enum vnet_rx_verdict check_plain(const struct vnet_hdr_cfg *cfg, uint8_t *hdr,
                                        struct vnet_rx_info *info)
{
	if (info->num_buffers > 1)
		return VNET_RX_MULTI; /* longer than ETH_FRAME_MAX: a buffer holds that */
	if (info->frame_len > ETH_FRAME_MAX)
		return VNET_RX_OVERSIZED;
	return check_csum(cfg, hdr, hdr + cfg->hdr_len, info);
}

#define ETHTYPE_IPV4_ 0x0800
#define ETHTYPE_IPV6_ 0x86dd
#define IP4_HLEN_     20
#define IP6_HLEN_     40
#define TCP_HLEN_     20
#define TCP_CSUM_OFF_ 16 /* RFC 793 §3.1 */

/*
 * The first buffer of a large segment holds its Ethernet, IP and TCP
 * headers (a buffer has room for 1970 frame bytes, headers take at most
 * 14 + 60 + 60, or IPv6's extension headers, which lwIP does not take in
 * a segment anyway), of the IP version gso_type says. Where the TCP header
 * starts exactly is lwIP's to check.
 */
static bool gso_headers(const uint8_t *frame, uint32_t len, bool v6)
{
	uint32_t min = ETH_HDR_LEN + (v6 ? IP6_HLEN_ : IP4_HLEN_) + TCP_HLEN_;
	if (len < min)
		return false;
	uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);
	return v6 ? type == ETHTYPE_IPV6_ && frame[14] >> 4 == 6
	          : type == ETHTYPE_IPV4_ && frame[14] >> 4 == 4;
}

/*
 * §5.1.6.4 checksum of a large segment: the device must vouch for it, as
 * nothing can check it once the segment is cut. NEEDS_CSUM: the field at
 * csum_start + csum_offset is TCP's, inside the first buffer, and holds
 * the pseudo-header sum; it is left so (summing 64 KiB that lwIP is told
 * not to check would only cost). DATA_VALID: the whole segment checked.
 */
static enum vnet_rx_verdict gso_csum(const uint8_t *hdr, struct vnet_rx_info *info, bool v6)
{
	uint8_t flags = hdr[offsetof(struct virtio_net_hdr, flags)];
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		uint32_t start = get16(hdr + offsetof(struct virtio_net_hdr, csum_start));
		uint32_t offset = get16(hdr + offsetof(struct virtio_net_hdr, csum_offset));
		uint32_t min = ETH_HDR_LEN + (v6 ? IP6_HLEN_ : IP4_HLEN_);
		if (start < min || offset != TCP_CSUM_OFF_ || start + TCP_HLEN_ > info->frame_len)
			return VNET_RX_BAD_HEADER;
	} else if (flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		info->data_valid = true;
	} else {
		return VNET_RX_BAD_HEADER;
	}
	info->csum_valid = true;
	return VNET_RX_OK;
}

/*
 * §5.1.6.4 with GUEST_TSO4/6 (which need GUEST_CSUM, §5.1.3.1): TCP over
 * IPv4 or IPv6 as negotiated; never with the ECN bit, as GUEST_ECN is not
 * negotiated (§5.1.6.4.1: the device MUST NOT then send it). gso_size is
 * the sender's segment payload: at least a byte, and at most what fits our
 * MTU. hdr_len is only a hint (§5.1.6.4.2), not used.
 */
static enum vnet_rx_verdict check_gso(const struct vnet_hdr_cfg *cfg, uint8_t *hdr, uint8_t gso,
                                      struct vnet_rx_info *info)
{
	bool v6 = gso == VIRTIO_NET_HDR_GSO_TCPV6;
	if (!(v6 ? cfg->guest_tso6 : gso == VIRTIO_NET_HDR_GSO_TCPV4 && cfg->guest_tso4) ||
	    !cfg->guest_csum || !cfg->mrg_rxbuf)
		return VNET_RX_BAD_HEADER;
	uint16_t size = get16(hdr + offsetof(struct virtio_net_hdr, gso_size));
	if (size == 0 || size > ETH_DATA_MAX)
		return VNET_RX_BAD_HEADER;
	if (info->frame_len > VNET_RX_GSO_MAX)
		return VNET_RX_OVERSIZED;
	if (!gso_headers(hdr + cfg->hdr_len, info->frame_len, v6))
		return VNET_RX_BAD_HEADER;
	info->gso_type = gso;
	info->gso_size = size;
	return gso_csum(hdr, info, v6);
}

enum vnet_rx_verdict vnet_rx_check(const struct vnet_hdr_cfg *cfg, uint8_t *hdr, uint32_t used,
                                   struct vnet_rx_info *info)
{
	memset(info, 0, sizeof(*info));
	if (used < cfg->hdr_len || used - cfg->hdr_len < ETH_HDR_LEN)
		return VNET_RX_TRUNCATED;
	info->frame_len = used - cfg->hdr_len;
	enum vnet_rx_verdict v = check_buffers(cfg, hdr, info);
	if (v != VNET_RX_OK)
		return v;
	/* ECN alone is a flag on no segment at all: tolerated, as before GSO was negotiated. */
	uint8_t gso = hdr[offsetof(struct virtio_net_hdr, gso_type)];
	if ((gso & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_NONE)
		return check_plain(cfg, hdr, info);
	return check_gso(cfg, hdr, gso, info);
}

enum vnet_rx_verdict vnet_rx_continue(struct vnet_rx_info *info, uint32_t used)
{
	if (used == 0)
		return VNET_RX_TRUNCATED; /* a buffer of the frame with none of it */
	if (used > VNET_RX_GSO_MAX - info->frame_len)
		return VNET_RX_OVERSIZED;
	info->frame_len += used;
	return VNET_RX_OK;
}

/*
 * §5.1.6.2: no GSO, num_buffers 0 on transmit, and NEEDS_CSUM with the
 * offsets only when asked for (the caller checked that CSUM was negotiated).
 */
void vnet_tx_hdr(struct virtio_net_hdr *h, uint16_t csum_start, uint16_t csum_offset)
{
	memset(h, 0, sizeof(*h));
	if (csum_start == VNET_NO_CSUM)
		return;
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = csum_start;
	h->csum_offset = csum_offset;
}
