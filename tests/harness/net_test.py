#!/usr/bin/env python3
"""Network test driver: boot tests/guest/net.c (mode=serve) under QEMU's user
network with its TCP and UDP port 7 forwarded from 127.0.0.1, and talk to it:

  echo      N MiB of random bytes through the TCP echo, verified byte for byte
  sink      N MiB host -> guest; the guest answers the count and FNV-1a hash
  generate  N MiB guest -> host of xorshift32 from a seed, verified
  parallel  K concurrent echo connections of N MiB each
  udp       datagrams of many sizes through the UDP echo, verified
  flap      a transfer while the link goes down and up (QEMU monitor set_link)
  bench     (--bench MIB) raw throughput both ways, nothing computed per
            byte on either side: the numbers for the performance table
  flood     N datagrams sent as fast as the host can at the UDP echo, far
            more than a TCG guest takes in: the surplus is dropped (and
            counted), every echo that comes back is the datagram it answers
            (the guest's echo buffer is reused at once: a frame the device
            read after lwip_sendto returned would carry the next one's
            bytes), and the guest still echoes afterwards
  dns       names resolved by the guest (A and AAAA) against a DNS server this
            script runs on 127.0.0.1, which the guest reaches as 10.0.2.2
            (--dns: the guest is then configured statically, ip= gw= dns=,
            so it never asks QEMU's own resolver, which would go outside)

then ask the guest to quit ('Q'): it checks that lwIP's pools and the
driver's buffers returned to their baseline, and exits 0 with "net: ok".
Throughput of each transfer is printed ("tcp echo: 4 MiB in 1.2 s ...").

Only 127.0.0.1 is contacted, and the guest only answers (slirp's
restrict=on would also drop the guest's UDP replies, so it is off).

    net_test.py --arch A --machine M --kernel BOOTABLE [--elf ELF]
                [--transport pci|mmio] [--smp N] [--append STR] [--qemu-arg ARG]...
                [--echo MIB] [--sink MIB] [--generate MIB] [--parallel K]
                [--udp N] [--flap] [--timeout S]

Exit status: 0 pass, 1 fail, 77 skip (no QEMU for the arch).
"""

import argparse
import hashlib
import os
import re
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guest  # noqa: E402
import qemu  # noqa: E402

PASS, FAIL, SKIP = 0, 1, 77
GUEST_PORT = 7
MIB = 1 << 20
HOST = "127.0.0.1"  # where the guest's ports are reached (net_tap.py: the guest itself)


class TestFailure(Exception):
    pass


def guest_parser(prog, doc, smp=1):
    """The options every network test takes: which guest, on what, how."""
    p = argparse.ArgumentParser(prog=prog, description=doc.split("\n\n")[0])
    p.add_argument("--arch", required=True, choices=sorted(qemu.ARCHES))
    p.add_argument("--machine")
    p.add_argument("--transport", choices=("pci", "mmio"))
    p.add_argument("--kernel", required=True)
    p.add_argument("--elf")
    p.add_argument("--smp", type=int, default=smp)
    return p


def parse(argv):
    p = guest_parser("net_test.py", __doc__)
    p.add_argument("--mem", default="128M")
    p.add_argument("--append", default="")
    p.add_argument("--qemu-arg", action="append", default=[], metavar="ARG")
    p.add_argument("--echo", type=float, default=4, metavar="MIB")
    p.add_argument("--sink", type=float, default=4, metavar="MIB")
    p.add_argument("--generate", type=float, default=4, metavar="MIB")
    p.add_argument("--parallel", type=int, default=0, metavar="K")
    p.add_argument("--udp", type=int, default=64, metavar="N")
    p.add_argument("--flap", action="store_true")
    p.add_argument("--flood", type=int, default=20000, metavar="N")
    p.add_argument("--bench", type=float, default=0, metavar="MIB")
    p.add_argument("--dns", action="store_true")
    p.add_argument("--timeout", type=float, default=240)
    return p.parse_args(argv)


def free_port(kind):
    """A port on 127.0.0.1 nobody uses now (QEMU binds it right after)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Guest(guest.Background):
    """guest.py's Background, started by start(), whose wait_for takes a
    timeout and fails the test when the output never comes."""

    def __init__(self, cfg, timeout):
        super().__init__(cfg, timeout, start=False)
        self.cfg = cfg

    def wait_for(self, regex, timeout):
        m = self.search(regex, time.monotonic() + timeout)
        if not m:
            raise TestFailure(f"guest never printed {regex!r}")
        return m

    def finish(self, timeout):
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.runner.kill()
            self.thread.join()
        return self.outcome


def connect(port, cmd):
    s = socket.create_connection((HOST, port), timeout=60)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(cmd)
    return s


def report(name, nbytes, seconds):
    rate = nbytes / MIB / seconds if seconds > 0 else float("inf")
    print(f"{name}: {nbytes / MIB:.1f} MiB in {seconds:.2f} s, {rate:.2f} MiB/s", flush=True)


def recv_exact(s, n):
    out = bytearray()
    while len(out) < n:
        chunk = s.recv(min(1 << 16, n - len(out)))
        if not chunk:
            raise TestFailure(f"connection closed after {len(out)} of {n} bytes")
        out += chunk
    return bytes(out)


def echo_once(port, size, errors, name="tcp echo"):
    data = os.urandom(size)
    start = time.monotonic()
    s = connect(port, b"E")
    sender = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
    sender.start()
    try:
        got = recv_exact(s, size)
        if s.recv(1):
            errors.append(f"{name}: more bytes than were sent")
    except (OSError, TestFailure) as e:
        errors.append(f"{name}: {e}")
        return
    finally:
        sender.join()
        s.close()
    if got != data:
        first = next(i for i in range(size) if got[i] != data[i])
        errors.append(f"{name}: bytes differ from offset {first}")
        return
    report(name, 2 * size, time.monotonic() - start)


def test_echo(port, mib):
    errors = []
    echo_once(port, int(mib * MIB), errors)
    if errors:
        raise TestFailure("; ".join(errors))


def test_parallel(port, k, mib):
    errors = []
    threads = [threading.Thread(target=echo_once, args=(port, int(mib * MIB), errors,
                                                         f"tcp echo {i + 1}/{k}"))
               for i in range(k)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise TestFailure("; ".join(errors))
    report(f"tcp echo x{k} total", 2 * k * int(mib * MIB), time.monotonic() - start)


def fnv1a(data):
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def test_sink(port, mib):
    data = os.urandom(int(mib * MIB))
    start = time.monotonic()
    s = connect(port, b"S")
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    count, h = struct.unpack("<QI", recv_exact(s, 12))
    s.close()
    seconds = time.monotonic() - start
    if count != len(data) or h != fnv1a(data):
        raise TestFailure(f"sink: guest counted {count} bytes hash {h:#x}, "
                          f"sent {len(data)} hash {fnv1a(data):#x}")
    report("tcp host->guest", len(data), seconds)


def xorshift_stream(n, seed):
    out = bytearray(n)
    x = seed
    for i in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i] = x & 0xFF
    return bytes(out)


def test_generate(port, mib):
    n, seed = int(mib * MIB), 0x1234567
    want = xorshift_stream(n, seed)
    start = time.monotonic()
    s = connect(port, b"G" + struct.pack("<QI", n, seed))
    got = recv_exact(s, n)
    s.shutdown(socket.SHUT_WR)  # the guest closes after us: its side never waits in TIME_WAIT
    extra = s.recv(1)
    s.close()
    seconds = time.monotonic() - start
    if got != want or extra:
        raise TestFailure("generate: the bytes from the guest differ from the expected stream")
    report("tcp guest->host", n, seconds)


def test_bench(port, mib):
    """Raw TCP throughput: the guest counts what it gets ('R') or sends one
    buffer over and over ('W'); the host sends and discards the same way."""
    n = int(mib * MIB)
    block = bytes(1 << 16)
    start = time.monotonic()
    s = connect(port, b"R")
    left = n
    while left:
        left -= s.send(block[:min(left, len(block))])
    s.shutdown(socket.SHUT_WR)
    count, = struct.unpack("<Q", recv_exact(s, 8))
    s.close()
    if count != n:
        raise TestFailure(f"bench: the guest counted {count} of {n} bytes")
    report("bench tcp host->guest", n, time.monotonic() - start)
    start = time.monotonic()
    s = connect(port, b"W" + struct.pack("<Q", n))
    got = 0
    while got < n:
        chunk = s.recv(1 << 16)
        if not chunk:
            raise TestFailure(f"bench: the guest sent {got} of {n} bytes")
        got += len(chunk)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
    report("bench tcp guest->host", n, time.monotonic() - start)


FLOOD_BYTES = bytes(range(256)) * 7


def flood_datagram(i):
    """Datagram i of a flood: its number, then a size and bytes that follow from it."""
    size, start = 64 + (i * 37) % 1336, i % 256
    return struct.pack("!I", i) + FLOOD_BYTES[start:start + size]


def flood_echoes(s, counts, stop):
    """Check every echo of the flood that comes back on s until stop is set."""
    s.settimeout(0.2)
    while not stop.is_set() or counts["quiet"] < 3:
        try:
            got = s.recv(2048)
        except socket.timeout:
            counts["quiet"] += stop.is_set()
            continue
        counts["quiet"] = 0
        good = len(got) >= 4 and got == flood_datagram(struct.unpack("!I", got[:4])[0])
        counts["good" if good else "bad"] += 1


def test_flood(udp_port, tcp_port, count):
    s = socket.socket(socket.AF_INET6 if ":" in HOST else socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((HOST, udp_port))
    counts, stop = {"good": 0, "bad": 0, "quiet": 0}, threading.Event()
    reader = threading.Thread(target=flood_echoes, args=(s, counts, stop), daemon=True)
    reader.start()
    payloads = [flood_datagram(i) for i in range(count)]
    start = time.monotonic()
    for payload in payloads:
        try:
            s.send(payload)
        except OSError:  # the host's own buffers full: that is a flood too
            pass
    print(f"udp flood: {count} datagrams in {time.monotonic() - start:.2f} s", flush=True)
    stop.set()
    reader.join()
    s.close()
    print(f"udp flood: {counts['good']} echoes intact, {counts['bad']} not", flush=True)
    errors = []
    if counts["bad"]:
        errors.append(f"udp flood: {counts['bad']} echoes differ from the datagram they answer")
    if not counts["good"]:
        errors.append("udp flood: no echo came back")
    echo_once(tcp_port, MIB // 2, errors, "tcp echo after the flood")
    if errors:
        raise TestFailure("; ".join(errors))


def test_udp(port, count):
    s = socket.socket(socket.AF_INET6 if ":" in HOST else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    sizes = [1, 7, 64, 512, 1000, 1400, 1472] + [(i * 37) % 1472 + 1 for i in range(count)]
    lost = 0
    for i, size in enumerate(sizes[:count]):
        msg = hashlib.sha256(str(i).encode()).digest() * (size // 32 + 1)
        msg = msg[:size]
        for _ in range(3):  # slirp and the guest may drop a datagram; that is UDP
            s.sendto(msg, (HOST, port))
            try:
                got, _ = s.recvfrom(4096)
            except socket.timeout:
                lost += 1
                continue
            if got != msg:
                raise TestFailure(f"udp: datagram {i} ({size} bytes) came back different")
            break
        else:
            raise TestFailure(f"udp: datagram {i} ({size} bytes) never came back")
    s.close()
    print(f"udp echo: {count} datagrams back intact ({lost} retried)", flush=True)


class Monitor:
    """The QEMU human monitor on a Unix socket, for set_link."""

    def __init__(self, path):
        self.path = path

    def command(self, line):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(self.path)
            s.sendall(line.encode() + b"\n")
            time.sleep(0.2)


def test_flap(port, guest, monitor, mib):
    """An echo transfer with the link taken down and up in the middle of it:
    frames are lost while it is down, TCP retransmits, every byte arrives."""
    size = int(mib * MIB)
    data = os.urandom(size)
    half = size // 2
    resume = threading.Event()
    s = connect(port, b"E")

    def send():
        s.sendall(data[:half])
        resume.wait(60)
        s.sendall(data[half:])
        s.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    start = time.monotonic()
    sender.start()
    try:
        got = recv_exact(s, half // 2)  # traffic is flowing both ways now
        monitor.command("set_link net0 off")
        guest.wait_for(r"link down", 20)
        time.sleep(1)
        monitor.command("set_link net0 on")
        guest.wait_for(r"link up", 20)
        resume.set()
        guest.wait_for(r"ipv4 .* \(dhcp, renewed\)$", 30)  # the lease, asked for again
        got += recv_exact(s, size - len(got))
    finally:
        resume.set()
        sender.join(60)
        s.close()
    if got != data:
        raise TestFailure("flap: the echoed bytes differ")
    report("tcp echo across link down/up", 2 * size, time.monotonic() - start)
    print("link flap: DHCP renewed the lease after the link came back", flush=True)


class DnsServer:
    """A DNS server (RFC 1035 §4) on 127.0.0.1 that knows three names."""

    RECORDS = {"both.noos.test": {1: ["192.0.2.7"], 28: ["2001:db8::7"]},
               "v4.noos.test": {1: ["192.0.2.4"]},
               "v6.noos.test": {28: ["2001:db8::6"]}}

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = []
        threading.Thread(target=self._serve, daemon=True).start()

    @staticmethod
    def _name(msg, off):
        labels = []
        while msg[off]:
            labels.append(msg[off + 1:off + 1 + msg[off]].decode("ascii", "replace"))
            off += 1 + msg[off]
        return ".".join(labels).lower(), off + 1

    def answer(self, msg):
        ident, flags, qd = struct.unpack("!HHH", msg[:6])
        name, end = self._name(msg, 12)
        qtype, qclass = struct.unpack("!HH", msg[end:end + 4])
        self.queries.append((name, qtype))
        question = msg[12:end + 4]
        records = self.RECORDS.get(name)
        rcode = 0 if records is not None else 3  # NXDOMAIN
        answers = b""
        for addr in (records or {}).get(qtype, []):
            rdata = socket.inet_pton(socket.AF_INET if qtype == 1 else socket.AF_INET6, addr)
            answers += struct.pack("!HHHIH", 0xC00C, qtype, 1, 60, len(rdata)) + rdata
        count = len((records or {}).get(qtype, []))
        head = struct.pack("!HHHHHH", ident, 0x8180 | rcode, 1, count, 0, 0)
        return head + question + answers

    def _serve(self):
        while True:
            try:
                msg, peer = self.sock.recvfrom(2048)
                self.sock.sendto(self.answer(msg), peer)
            except (OSError, ValueError, IndexError, struct.error):
                continue


def resolve(port, name):
    s = connect(port, b"D" + name.encode() + b"\n")
    s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        out += chunk
    s.close()
    return sorted(out.decode().split("\n")[:-1])


def test_dns(port, server):
    cases = [("both.noos.test", ["A 192.0.2.7", "AAAA 2001:db8::7"]),
             ("v4.noos.test", ["A 192.0.2.4"]),
             ("v6.noos.test", ["AAAA 2001:db8::6"]),
             ("missing.noos.test", ["ERR -2"])]
    for name, want in cases:
        got = resolve(port, name)
        if got != sorted(want):
            raise TestFailure(f"dns: {name} resolved to {got}, expected {want}")
    kinds = {q for q in server.queries}
    if ("both.noos.test", 1) not in kinds or ("both.noos.test", 28) not in kinds:
        raise TestFailure(f"dns: the server saw {sorted(kinds)}, not an A and an AAAA query")
    print(f"dns: A and AAAA answered by the host's server ({len(server.queries)} queries)",
          flush=True)


def quit_guest(port):
    s = connect(port, b"Q")
    s.close()


def run_tests(args, guest, ports, monitor, dns):
    tcp, udp = ports
    guest.wait_for(r"^net: serving", 60)
    if dns:
        test_dns(tcp, dns)
    if args.bench:
        test_bench(tcp, args.bench)
    if args.echo:
        test_echo(tcp, args.echo)
    if args.sink:
        test_sink(tcp, args.sink)
    if args.generate:
        test_generate(tcp, args.generate)
    if args.parallel:
        test_parallel(tcp, args.parallel, max(args.echo / 2, 0.5))
    if args.udp:
        test_udp(udp, args.udp)
    if args.flood:
        test_flood(udp, tcp, args.flood)
    if args.flap:
        test_flap(tcp, guest, monitor, max(args.echo, 1))
    quit_guest(tcp)


def main(argv):
    args = parse(argv)
    if not shutil.which(qemu.ARCHES[args.arch][0]):
        print(f"SKIP: {qemu.ARCHES[args.arch][0]} is not installed")
        return SKIP
    tcp, udp = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_DGRAM)
    dns = DnsServer() if args.dns else None
    append = "mode=serve " + args.append
    if dns:  # static, so that QEMU's DHCP never names its own resolver
        append += f" ip=10.0.2.15/24 gw=10.0.2.2 dns=10.0.2.2:{dns.port}"
    tmp = tempfile.mkdtemp(prefix="noos-net-")
    mon_path = os.path.join(tmp, "monitor")
    extra = list(args.qemu_arg) + ["-monitor", f"unix:{mon_path},server=on,wait=off"]
    cfg = qemu.Config(arch=args.arch, kernel=args.kernel, elf=args.elf or args.kernel,
                      machine=args.machine, smp=args.smp, mem=args.mem,
                      append=append.strip(), net="user",
                      transport=args.transport, fwd=[f"{tcp}:{GUEST_PORT}", f"udp:{udp}:{GUEST_PORT}"],
                      extra=extra)
    try:
        print("---- QEMU: " + " ".join(qemu.command(cfg)), flush=True)
    except qemu.UsageError as e:
        print(f"FAIL: {e}")
        return FAIL
    guest = Guest(cfg, args.timeout)
    guest.start()
    reasons = []
    try:
        run_tests(args, guest, (tcp, udp), Monitor(mon_path), dns)
    except (TestFailure, OSError) as e:
        reasons.append(str(e))
    outcome = guest.finish(60)
    shutil.rmtree(tmp, ignore_errors=True)
    return verdict(guest, outcome, reasons)


def verdict(guest, outcome, reasons, check=None):
    """Print the guest's output and the test's verdict: the exit status.
    The guest must have exited 0 with "net: ok"; check(text, reasons) may
    look at its output for more."""
    text = outcome.output.replace("\r", "") if outcome else guest.text
    print("---- serial output:\n" + text)
    if check:
        check(text, reasons)
    if outcome is None or outcome.guest_status != 0:
        reasons.append(outcome.describe() if outcome else "QEMU did not finish")
    if not re.search(r"^net: ok$", text, re.MULTILINE):
        reasons.append("the guest did not print 'net: ok'")
    for r in reasons:
        print(f"FAIL: {r}")
    if not reasons:
        print("PASS")
    return FAIL if reasons else PASS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
