/*
 * libFuzzer target for virtio/net_hdr.c's receive checks: what an untrusted
 * virtio-net device writes in front of a received frame (virtio 1.2
 * §5.1.6.4), under any negotiated configuration, then the used lengths of a
 * large segment's later buffers (GUEST_TSO4/6 over MRG_RXBUF).
 *
 * Input: byte 0 the configuration (bit 0 MRG_RXBUF, 1 GUEST_CSUM, 2
 * GUEST_TSO4, 3 GUEST_TSO6, 4 a legacy 10-byte header), bytes 1-2 the first
 * buffer's used length (big-endian, at most a buffer's room), then that
 * many bytes of header and frame, then 2-byte used lengths of later buffers.
 *
 * Checked, besides memory safety: what is let through is what the driver
 * and lwIP may rely on: a plain frame fits one buffer and ETH_FRAME_MAX and
 * a checksum the driver completed is right; a large segment is of a kind
 * negotiated, with a vouched-for checksum, its headers in the first buffer
 * and a sane gso_size; later buffers never take it past VNET_RX_GSO_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net_reg.h"
#include "virtio.h"

#define ROOM (VNET_RX_BUF_BYTES - VNET_RX_FRAME_OFF + VIRTIO_NET_HDR_LEN) /* 1982 */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * A completed checksum: the field held a partial sum (the pseudo-header's,
 * from a real device), and the sum over [csum_start, end) with the field
 * completed, plus that partial sum, is all ones, as a receiver checks it.
 * Only for an even csum_offset: with an odd one the field is not a word of
 * the sum, and the device's request meant nothing to begin with.
 */
static void check_plain(const struct vnet_hdr_cfg *cfg, const uint8_t *hdr,
                        const struct vnet_rx_info *in, const uint8_t *wrote)
{
	if (in->num_buffers != 1 || in->frame_len > ETH_FRAME_MAX || in->gso_type)
		abort();
	if (!in->csum_completed)
		return;
	const struct virtio_net_hdr *h = (const void *)hdr;
	const uint8_t *fr = hdr + cfg->hdr_len;
	uint32_t start = h->csum_start;
	if (start < ETH_HDR_LEN || start + h->csum_offset + 2u > in->frame_len)
		abort();
	uint32_t field = cfg->hdr_len + start + h->csum_offset;
	uint32_t partial = be16(wrote + field);
	uint32_t sum = vnet_csum_add(0, fr + start, in->frame_len - start);
	if (h->csum_offset % 2 == 0 && vnet_csum_fold(sum + partial) != 0xffff)
		abort();
}

static void check_gso(const struct vnet_hdr_cfg *cfg, const uint8_t *hdr,
                      const struct vnet_rx_info *in)
{
	bool v6 = in->gso_type == VIRTIO_NET_HDR_GSO_TCPV6;
	if (!(v6 ? cfg->guest_tso6 : in->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && cfg->guest_tso4))
		abort();
	if (!in->csum_valid || in->csum_completed || in->gso_size == 0 ||
	    in->gso_size > ETH_DATA_MAX || in->frame_len > VNET_RX_GSO_MAX)
		abort();
	const uint8_t *fr = hdr + cfg->hdr_len;
	if (in->frame_len < (v6 ? 74u : 54u) || be16(fr + 12) != (v6 ? 0x86dd : 0x0800))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	struct vnet_hdr_cfg cfg = {
	    .hdr_len = data[0] & 16 ? VIRTIO_NET_HDR_LEN_LEGACY : VIRTIO_NET_HDR_LEN,
	    .mrg_rxbuf = data[0] & 1,
	    .guest_csum = data[0] & 2,
	    .guest_tso4 = data[0] & 4,
	    .guest_tso6 = data[0] & 8,
	};
	size_t used = be16(data + 1);
	used = used < size - 3 ? used : size - 3;
	used = used < ROOM ? used : ROOM;
	uint8_t *hdr =
	    malloc(used ? used : 1); /* exactly what the device wrote: ASan sees past it */
	memcpy(hdr, data + 3, used);
	struct vnet_rx_info in;
	enum vnet_rx_verdict v = vnet_rx_check(&cfg, hdr, (uint32_t)used, &in);
	if (v == VNET_RX_OK && in.frame_len + cfg.hdr_len != used)
		abort();
	if (v == VNET_RX_OK && in.gso_type == VIRTIO_NET_HDR_GSO_NONE)
		check_plain(&cfg, hdr, &in, data + 3);
	else if (v == VNET_RX_OK)
		check_gso(&cfg, hdr, &in);
	for (size_t i = 3 + used; v == VNET_RX_OK && i + 2 <= size; i += 2) {
		uint32_t more = be16(data + i) % (ROOM + 1), before = in.frame_len;
		v = vnet_rx_continue(&in, more);
		if (in.frame_len > VNET_RX_GSO_MAX ||
		    (v == VNET_RX_OK ? in.frame_len != before + more : in.frame_len != before))
			abort();
	}
	free(hdr);
	return 0;
}
