#!/usr/bin/env python3
"""Seed inputs for fuzz_net: well-formed conversations with the fuzzed stack,
so the fuzzer starts from frames that reach TCP, UDP, ICMP, ARP, IPv6
neighbour discovery and fragment reassembly instead of finding each header
byte by byte.

Input format (fuzz_net.c): byte 0 = netif options (bit 0: TCP checksum
offload; bit 1: TCP frames arrive as large segments over driver buffers); then records of [flags, length (big-endian 2 bytes), frame].
flags: bit 0 copy instead of wrap, bit 1 checksum known good, bit 2 fix up
checksums, bits 3-7 advance time by that many 100 ms steps afterwards.

The stack is 10.0.2.15/24, MAC 52:54:00:12:34:56, TCP echo on 80, UDP echo
on 7; the fuzzer's ISN hook is (local port << 16) ^ remote port.

Usage: net_seeds.py OUTDIR NAME...   (writes OUTDIR/net-seed-NAME.bin for each NAME)
"""

import os
import struct
import sys

US_MAC = bytes.fromhex("525400123456")
PEER_MAC = bytes.fromhex("525400aabbcc")
US_IP = bytes([10, 0, 2, 15])
PEER_IP = bytes([10, 0, 2, 2])
US_LL6 = bytes.fromhex("fe80000000000000505400fffe123456")
PEER_LL6 = bytes.fromhex("fe80000000000000505400fffeaabbcc")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(payload, ethertype, dst=US_MAC):
    return dst + PEER_MAC + struct.pack("!H", ethertype) + payload


def ipv4(proto, payload, ident=1, frag=0x4000):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                      PEER_IP, US_IP)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return eth(hdr + payload, 0x0800)


def l4_v4(proto, seg, off):
    pseudo = PEER_IP + US_IP + struct.pack("!BBH", 0, proto, len(seg))
    c = csum(pseudo + seg)
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


def tcp(sport, dport, seq, ack, flags, data=b"", window=65535):
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, window, 0, 0) + data
    return ipv4(6, l4_v4(6, seg, 16))


def udp(sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    return ipv4(17, l4_v4(17, seg, 6))


def icmp_echo(data):
    msg = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + data
    msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
    return ipv4(1, msg)


def arp_request():
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, PEER_MAC, PEER_IP, b"\0" * 6, US_IP)
    return eth(body, 0x0806, dst=b"\xff" * 6)


def ipv6(nh, payload, src=PEER_LL6, dst=US_LL6, hop=255):
    hdr = struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hop, src, dst)
    return eth(hdr + payload, 0x86DD, dst=US_MAC)


def icmp6(typ, code, body, src=PEER_LL6, dst=US_LL6):
    msg = struct.pack("!BBH", typ, code, 0) + body
    pseudo = src + dst + struct.pack("!IxxxB", len(msg), 58)
    msg = msg[:2] + struct.pack("!H", csum(pseudo + msg)) + msg[4:]
    return ipv6(58, msg, src, dst)


def router_advert():
    prefix = struct.pack("!BBBBIII16s", 3, 4, 64, 0xC0, 86400, 14400, 0,
                         bytes.fromhex("fd000000000000000000000000000000"))
    rdnss = struct.pack("!BBHI16s", 25, 3, 0, 3600, bytes.fromhex("fd000000000000000000000000000003"))
    lla = struct.pack("!BB6s", 1, 1, PEER_MAC)
    body = struct.pack("!BBHII", 64, 0, 1800, 0, 0) + prefix + rdnss + lla
    return icmp6(134, 0, body, dst=bytes.fromhex("ff020000000000000000000000000001"))


def neighbor_solicit():
    body = struct.pack("!I16s", 0, US_LL6) + struct.pack("!BB6s", 1, 1, PEER_MAC)
    return icmp6(135, 0, body)


def record(frame, flags=0):
    return struct.pack("!BH", flags, len(frame)) + frame


def tcp_conversation(offload):
    sport, iss = 40000, 1000
    srv = (80 << 16) ^ sport
    data = bytes(range(256)) * 4
    frames = [arp_request(),
              tcp(sport, 80, iss, 0, 0x02),
              tcp(sport, 80, iss + 1, srv + 1, 0x10),
              tcp(sport, 80, iss + 1, srv + 1, 0x18, data),
              tcp(sport, 80, iss + 1 + len(data), srv + 1 + len(data), 0x11)]
    return bytes([offload]) + b"".join(record(f) for f in frames)


def tcp_segments():
    """Large segments (virtio-net GUEST_TSO4): 20000 and 65495 bytes of data in one frame each."""
    sport, iss = 40001, 5000
    srv = (80 << 16) ^ sport
    big, bigger = bytes(range(250)) * 80, bytes(range(199)) * 329
    seq = iss + 1
    frames = [(arp_request(), 0),
              (tcp(sport, 80, iss, 0, 0x02), 0),
              (tcp(sport, 80, seq, srv + 1, 0x10), 0),
              (tcp(sport, 80, seq, srv + 1, 0x18, big), 2),
              (tcp(sport, 80, seq + len(big), srv + 1, 0x18, bigger[:65495]), 3)]
    return bytes([2]) + b"".join(record(f, fl) for f, fl in frames)


def fragments():
    payload = struct.pack("!HHHH", 5000, 7, 8 + 1600, 0) + bytes(1600)
    payload = l4_v4(17, payload, 6)
    first, second = payload[:1480], payload[1480:]
    return b"\0" + record(arp_request()) + record(ipv4(17, first, ident=7, frag=0x2000)) + \
        record(ipv4(17, second, ident=7, frag=1480 // 8))


SEEDS = {
    "tcp": tcp_conversation(0),
    "tcp-offload": tcp_conversation(1),
    "udp": b"\0" + record(arp_request()) + record(udp(5000, 7, b"hello")),
    "icmp": b"\0" + record(arp_request()) + record(icmp_echo(b"ping" * 16), 1),
    "fragments": fragments(),
    "tcp-segments": tcp_segments(),
    "ipv6-nd": b"\0" + record(router_advert(), 8 * 3) + record(neighbor_solicit()),
    "csum-valid": b"\0" + record(arp_request()) + record(udp(5000, 7, b"x" * 100), 2),
}


def main():
    out = sys.argv[1]
    for name in sys.argv[2:]:
        with open(os.path.join(out, f"net-seed-{name}.bin"), "wb") as f:
            f.write(SEEDS[name])


if __name__ == "__main__":
    main()
