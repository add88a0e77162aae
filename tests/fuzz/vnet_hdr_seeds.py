#!/usr/bin/env python3
"""Seed inputs for fuzz_vnet_hdr: headers a virtio-net device writes in front
of received frames, so the fuzzer starts inside each branch of
virtio/net_hdr.c's checks: a plain frame, one with a partial UDP checksum to
complete, and large TCP segments over IPv4 and IPv6 with later buffers.

Input format (fuzz_vnet_hdr.c): byte 0 configuration bits (1 MRG_RXBUF,
2 GUEST_CSUM, 4 GUEST_TSO4, 8 GUEST_TSO6, 16 legacy 10-byte header), the
first buffer's used length (2 bytes, big-endian), header and frame, then
2-byte used lengths of the later buffers.

Usage: vnet_hdr_seeds.py OUTDIR   (writes OUTDIR/vnet-hdr-seed-*.bin)
"""

import os
import struct
import sys

ALL = 1 | 2 | 4 | 8


def hdr(flags=0, gso=0, gso_size=0, start=0, offset=0, nbufs=1):
    return struct.pack("<BBHHHHH", flags, gso, start + 20 if gso else 0, gso_size, start, offset,
                       nbufs)


def eth(ethertype, payload):
    return bytes.fromhex("525400123456525400aabbcc") + struct.pack("!H", ethertype) + payload


def ipv4_tcp(total):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, 0x4000, 64, 6, 0,
                     bytes([10, 0, 2, 2]), bytes([10, 0, 2, 15]))
    return eth(0x0800, ip + bytes(20) + bytes(range(256)) * 7)[:1970]


def ipv6_tcp(plen):
    ip = struct.pack("!IHBB16s16s", 6 << 28, plen, 6, 64, bytes(15) + b"\2", bytes(15) + b"\1")
    return eth(0x86DD, ip + bytes(20) + bytes(range(256)) * 7)[:1970]


def udp_partial():
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + 32, 1, 0, 64, 17, 0,
                     bytes([10, 0, 2, 2]), bytes([10, 0, 2, 15]))
    return eth(0x0800, ip + struct.pack("!HHHH", 5000, 7, 40, 0x1234) + bytes(range(32)))


def seed(cfg, first, later=()):
    return bytes([cfg]) + struct.pack("!H", len(first)) + first + \
        b"".join(struct.pack("!H", n) for n in later)


SEEDS = {
    "plain": seed(ALL, hdr() + eth(0x0800, bytes(46))),
    "csum": seed(ALL, hdr(flags=1, start=34, offset=6) + udp_partial()),
    "tso4": seed(ALL, hdr(flags=1, gso=1, gso_size=1448, start=34, offset=16, nbufs=3) +
                 ipv4_tcp(5000), [1982, 1048]),
    "tso6": seed(ALL, hdr(flags=2, gso=4, gso_size=1428, nbufs=2) + ipv6_tcp(3000), [1084]),
}


def main():
    for name, data in SEEDS.items():
        with open(os.path.join(sys.argv[1], f"vnet-hdr-seed-{name}.bin"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
