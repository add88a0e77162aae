#!/usr/bin/env python3
"""Transmit-ring-full test: boot tests/guest/net.c (mode=txfull) with its
virtio-net device on QEMU's stream netdev, connected to a Unix-domain stream
server this script runs in a temporary directory (QEMU sends each frame as a
4-byte big-endian length and the Ethernet frame, and reads frames the same
way). Not TCP on 127.0.0.1, QEMU's socket netdev: Linux grows the sending
side's buffer on loopback up to tcp_wmem's maximum (4 MiB here) however
small the server's receive buffer, so thousands of frames would vanish into
it first; a Unix socket's send buffer stays at wmem_default (~200 KiB).

The script answers the guest's ARP request for the peer, then stops reading
while the guest sends --count numbered 1 KiB UDP datagrams: the socket's
buffer fills, QEMU's send is put off,
virtio-net stops taking frames from the transmit ring, the ring fills and
frames lwIP handed over wait in the netif's backlog (net/netif_tx.c), then
are refused (-ENOBUFS, which the guest retries: never accepted, so never
duplicated). Once the guest reports a refusal (or that it sent everything)
the script reads again. Every datagram 0..count-1 must arrive exactly once
and in order; the guest's report must show frames that waited (else the
ring never filled and the test proved nothing). The peer then tells the
guest how many it got, and the guest exits.

No network is used: the guest's network is this one Unix-socket connection.

    net_txfull.py --arch A --machine M --kernel BOOTABLE [--elf ELF]
                  [--transport pci|mmio] [--count N] [--qemu-arg ARG]...

Exit status: 0 pass, 1 fail, 77 skip (no QEMU for the arch).
"""

import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import net_test  # noqa: E402
import qemu  # noqa: E402

SKIP = 77
GUEST_IP, PEER_IP = "10.9.0.2", "10.9.0.1"
PEER_MAC = bytes.fromhex("525400000901")
UDP_PORT = 4000
SIZE = 1024  # what the guest sends (TXFULL_SIZE in net.c)
BACKLOG = re.compile(r"^net: en\d+ tx backlog: (\d+) frames waited, at most (\d+) at once, "
                     r"(\d+) refused", re.MULTILINE)


def parse(argv):
    p = net_test.guest_parser("net_txfull.py", __doc__)
    p.add_argument("--qemu-arg", action="append", default=[], metavar="ARG")
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--timeout", type=float, default=100)
    return p.parse_args(argv)


class Link:
    """The TCP connection QEMU's socket netdev made: whole frames each way."""

    def __init__(self, conn):
        self.conn = conn

    def recv(self):
        (n,) = struct.unpack(">I", net_test.recv_exact(self.conn, 4))
        return net_test.recv_exact(self.conn, n)

    def send(self, frame):
        self.conn.sendall(struct.pack(">I", len(frame)) + frame)


def arp_reply(frame):
    """The peer's answer to an ARP request (RFC 826) for PEER_IP, else None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x06" or frame[20:22] != b"\x00\x01":
        return None
    sha, spa, tpa = frame[22:28], frame[28:32], frame[38:42]
    if tpa != socket.inet_aton(PEER_IP):
        return None
    arp = struct.pack(">HHBBH", 1, 0x0800, 6, 4, 2) + PEER_MAC + tpa + sha + spa
    return sha + PEER_MAC + b"\x08\x06" + arp


def datagram(frame):
    """The number a guest datagram to PEER_IP:UDP_PORT carries, else None."""
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return None
    ihl = (frame[14] & 15) * 4
    udp = frame[14 + ihl:]
    if frame[30:34] != socket.inet_aton(PEER_IP) or struct.unpack(">H", udp[2:4])[0] != UDP_PORT:
        return None
    payload = udp[8:]
    return struct.unpack(">I", payload[:4])[0] if len(payload) == SIZE else -1


def ip_sum(header):
    s = sum(struct.unpack(f">{len(header) // 2}H", header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def udp_frame(guest_mac, payload):
    """A datagram from PEER_IP:UDP_PORT to the guest's port (UDP checksum 0: none)."""
    udp = struct.pack(">HHHH", UDP_PORT, UDP_PORT, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(PEER_IP), socket.inet_aton(GUEST_IP))
    ip = ip[:10] + struct.pack(">H", ip_sum(ip)) + ip[12:]
    return guest_mac + PEER_MAC + b"\x08\x00" + ip + udp


def answer_arp(link):
    """Read until the guest asks for the peer, answer; the guest's MAC."""
    while True:
        frame = link.recv()
        reply = arp_reply(frame)
        if reply:
            link.send(reply)
            return frame[6:12]


def collect(link, count, idle):
    """The numbers of the guest's datagrams in arrival order, until count
    came or no datagram came for idle seconds; ARP requests are answered."""
    got = []
    link.conn.settimeout(idle)
    last = time.monotonic()
    try:
        while len(got) < count and time.monotonic() - last < idle:
            frame = link.recv()
            reply = arp_reply(frame)
            if reply:
                link.send(reply)
            n = datagram(frame)
            if n is not None:
                got.append(n)
                last = time.monotonic()
    except socket.timeout:
        pass
    return got


def check_sequence(got, count):
    """What is wrong with got as the sequence 0..count-1, or None."""
    for pos, n in enumerate(got):
        if n != pos:
            what = "corrupted" if n < 0 else "a duplicate" if n < pos else "some lost or reordered"
            return f"datagram {pos} expected, {n} came ({what}; {len(got)} of {count} arrived)"
    if len(got) != count:
        return f"only {len(got)} of {count} datagrams arrived (the rest were lost)"
    return None


def exchange(args, guest, server, reasons):
    """The peer's side: ARP, a pause while the ring fills, then every datagram."""
    server.settimeout(60)
    conn, _ = server.accept()
    link = Link(conn)
    link.conn.settimeout(60)
    guest_mac = answer_arp(link)
    start = time.monotonic()
    # Not reading: QEMU backs up. The guest says when it was first refused.
    if not guest.search(r"^net: txfull: (first refusal|sent)", start + 60):
        reasons.append("the guest neither was refused nor finished sending within 60 s")
    time.sleep(0.5)  # a while longer refused: the guest's retries pile up behind it
    paused = time.monotonic() - start
    got = collect(link, args.count, 5)
    print(f"txfull: not reading for {paused:.1f} s; {len(got)} datagrams arrived "
          f"{time.monotonic() - start - paused:.1f} s after reading again", flush=True)
    problem = check_sequence(got, args.count)
    if problem:
        reasons.append(problem)
    link.send(udp_frame(guest_mac, f"got {len(got)} of {args.count}".encode()))
    return link


def check_report(text, reasons):
    m = BACKLOG.search(text)
    if not m:
        reasons.append("the guest printed no tx backlog report")
        return
    waited, high, refused = (int(x) for x in m.groups())
    print(f"txfull: backlog: {waited} frames waited, at most {high} at once, {refused} refused")
    if waited == 0:
        reasons.append("no frame waited in the backlog: the ring never filled, nothing was shown")


def main(argv):
    args = parse(argv)
    if not shutil.which(qemu.ARCHES[args.arch][0]):
        print(f"SKIP: {qemu.ARCHES[args.arch][0]} is not installed")
        return SKIP
    tmp = tempfile.mkdtemp(prefix="noos-txfull-")
    path = os.path.join(tmp, "link")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    machine = args.machine or qemu.ARCHES[args.arch][1]
    mmio = args.transport == "mmio" or qemu.machine_base(machine) == "microvm"
    extra = list(args.qemu_arg) + [
        "-netdev", f"stream,id=n0,server=off,addr.type=unix,addr.path={path}",
        "-device", f"{'virtio-net-device' if mmio else 'virtio-net-pci'},netdev=n0"]
    cfg = qemu.Config(arch=args.arch, kernel=args.kernel, elf=args.elf or args.kernel,
                      machine=machine, smp=args.smp, extra=extra,
                      append=f"mode=txfull ip={GUEST_IP}/24 gw={PEER_IP} txfull={UDP_PORT} "
                             f"count={args.count}")
    print("---- QEMU: " + " ".join(qemu.command(cfg)), flush=True)
    guest = net_test.Guest(cfg, args.timeout)
    guest.start()
    reasons, link = [], None
    try:
        link = exchange(args, guest, server, reasons)
    except (net_test.TestFailure, OSError) as e:
        reasons.append(str(e))
    outcome = guest.finish(60)
    for s in (link.conn if link else None, server):
        if s:
            s.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return net_test.verdict(guest, outcome, reasons, check_report)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
