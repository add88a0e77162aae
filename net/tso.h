/*
 * TCP segmentation offload by coalescing (net/tso.c): lwIP cuts a TCP
 * stream into MSS-sized segments; when the device segments for us
 * (virtio-net HOST_TSO4/HOST_TSO6, virtio 1.2 §5.1.6.2), a run of them that
 * the device would cut back into exactly the same segments goes to it as
 * one frame. Pure functions over frame bytes, so host tests and the
 * fuzzer reach every branch; netif.c keeps the run and the pbufs.
 */
#ifndef NOOS_NET_TSO_H
#define NOOS_NET_TSO_H

#include <stdbool.h>
#include <stdint.h>

#define NET_TSO_HDR_MAX   (14 + 40 + 60) /* Ethernet + IPv6 + TCP with every option */
#define NET_TSO_BYTES     65535u /* IP total length's limit: the run's payload stays under */
#define NET_TSO_TCP_FLAGS 13     /* offset of TCP's flag byte */

/* One TCP segment as the merge sees it. */
struct net_tso_seg {
	uint16_t hdr_len; /* Ethernet + IP + TCP header bytes */
	uint16_t l4_off;  /* where TCP's header starts */
	uint32_t payload; /* TCP payload bytes (> 0) */
	uint32_t seq;     /* its first sequence number */
	uint8_t flags;    /* ACK, maybe PSH and FIN */
	bool v6;
};

/* A run being built: the first segment's header and where the stream stands. */
struct net_tso_run {
	uint8_t hdr[NET_TSO_HDR_MAX]; /* the first segment's headers, copied */
	struct net_tso_seg first;
	uint32_t next_seq; /* the sequence number a following segment must start at */
	uint32_t bytes;    /* payload so far */
	uint8_t flags;     /* the merged header's: ACK, PSH from any, FIN from the last */
	bool open;         /* the last segment was full-sized without FIN: more may follow */
	unsigned count;    /* segments in the run */
};

/*
 * frame's first `avail` bytes (of len in all): 0 and *s filled when it is a
 * TCP segment that may join a run (IPv4 without options or fragmentation,
 * or IPv6 with TCP as the first next header; payload; no SYN, RST, URG, ECE
 * or CWR), else -1.
 */
int net_tso_parse(const uint8_t *frame, uint32_t avail, uint32_t len, struct net_tso_seg *s);

/* Starts run with the parsed segment at frame (the first s->hdr_len bytes are copied). */
void net_tso_start(struct net_tso_run *run, const uint8_t *frame, const struct net_tso_seg *s);

/*
 * Whether the parsed segment continues run: same flow, headers equal but
 * for lengths, IP identification, flags and checksums, its sequence number
 * next, every segment before it a full gso_size (the first's payload)
 * without FIN, and the total within
 * NET_TSO_BYTES and max_segs. If so, the run takes it.
 */
bool net_tso_append(struct net_tso_run *run, const uint8_t *frame, const struct net_tso_seg *s,
                    unsigned max_segs);

/*
 * The run's header for the device, in run->hdr: IP lengths for the whole
 * run (and IPv4's header checksum), the merged flags, and the
 * pseudo-header sum in TCP's checksum field (the device completes it,
 * §5.1.6.2 NEEDS_CSUM). Only for runs of two or more.
 */
void net_tso_finish(struct net_tso_run *run);

#endif
