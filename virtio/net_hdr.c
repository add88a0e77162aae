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
	return n > 1 ? VNET_RX_MULTI : VNET_RX_OK;
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
	if (info->frame_len > ETH_FRAME_MAX)
		return VNET_RX_OVERSIZED;
	/* No GUEST_TSO/UFO is ever negotiated: a GSO frame is a device error (§5.1.6.4.1). */
	uint8_t gso = hdr[offsetof(struct virtio_net_hdr, gso_type)];
	if ((gso & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE)
		return VNET_RX_BAD_HEADER;
	return check_csum(cfg, hdr, hdr + cfg->hdr_len, info);
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
