#!/usr/bin/env python3
"""Network test against a real Linux peer: a tap device inside a network
namespace this test creates (and deletes), QEMU running in that namespace
on the tap (vnet_hdr on, so the device offers checksum and segmentation
offload both ways),
tests/guest/net.c serving on 10.77.0.2 (static, from ip= and gw=), and the
namespace's own Linux TCP/IP stack as the client:

  ping      ICMP echo from Linux to the guest
  tcp       echo, both directions of bulk transfer, several connections
  udp       datagrams through the UDP echo, then a flood of them
  ipv6      a router advertisement for fd77::/64 (SLAAC), then TCP echo to
            the guest's SLAAC address and to its link-local one
and the guest checks on its way out that lwIP's pools and the driver's
buffers are back at baseline, and that checksum offload was used.

With --lossy, instead: the same TCP echo across a link that loses 1% of
the frames and delays each by 20 ms, both ways (netem's "loss 1% delay
20ms"). The kernels this runs on may have no sch_netem, so the link is
lossy_link.py: QEMU's socket backend on 127.0.0.1 to a relay that drops
and delays frames on their way to and from a tap in the namespace.

Needs root (network namespaces, tap devices): otherwise it reports SKIP
(exit 77). Only the namespace's addresses are contacted.

    net_tap.py --arch A --machine M --kernel BOOTABLE [--elf ELF]
               [--transport pci|mmio] [--smp N] [--echo MIB] [--lossy [--lossy-mib MIB]]
"""

import ctypes
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lossy_link  # noqa: E402
import net_test  # noqa: E402
import qemu  # noqa: E402

PASS, FAIL, SKIP = 0, 1, 77
GUEST4 = "10.77.0.2"
PEER4 = "10.77.0.1"
PREFIX6 = "fd77::"
PEER6 = "fd77::1"
GUEST_MAC = "52:54:00:12:34:56"
CLONE_NEWNET = 0x40000000


def eui64(prefix):
    """The SLAAC address (RFC 4862, modified EUI-64) of GUEST_MAC under a /64 prefix."""
    b = bytes(int(x, 16) for x in GUEST_MAC.split(":"))
    iid = bytes([b[0] ^ 2]) + b[1:3] + b"\xff\xfe" + b[3:]
    net = socket.inet_pton(socket.AF_INET6, prefix)[:8]
    return socket.inet_ntop(socket.AF_INET6, net + iid)


def parse(argv):
    p = net_test.guest_parser("net_tap.py", __doc__)
    p.add_argument("--qemu-arg", action="append", default=[], metavar="ARG")
    p.add_argument("--echo", type=float, default=4, metavar="MIB")
    p.add_argument("--bench", type=float, default=0, metavar="MIB")
    p.add_argument("--lossy", action="store_true")
    p.add_argument("--lossy-mib", type=float, default=2, metavar="MIB")
    p.add_argument("--timeout", type=float, default=280)
    return p.parse_args(argv)


class Namespace:
    """A network namespace with tap0 (10.77.0.1/24, fd77::1/64) in it."""

    def __init__(self):
        self.name = f"noos-net-{os.getpid()}"

    def ip(self, *args):
        subprocess.run(["ip", "netns", "exec", self.name, "ip"] + list(args), check=True)

    def create(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.ip("link", "set", "lo", "up")
        self.ip("tuntap", "add", "dev", "tap0", "mode", "tap")
        self.ip("addr", "add", PEER4 + "/24", "dev", "tap0")
        self.ip("-6", "addr", "add", PEER6 + "/64", "dev", "tap0", "nodad")
        self.ip("link", "set", "tap0", "up")

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], check=False)

    def enter(self):
        """Move the calling thread (only) into the namespace."""
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)

    def call(self, fn):
        """fn() in a short-lived thread inside the namespace (setns moves only
        the calling thread), for what must be made there, such as a socket:
        its result, or its exception raised here."""
        out = {}

        def body():
            try:
                self.enter()
                out["value"] = fn()
            except BaseException as e:  # noqa: B036 - handed to the caller
                out["error"] = e
        t = threading.Thread(target=body)
        t.start()
        t.join()
        if "error" in out:
            raise out["error"]
        return out["value"]


def icmp_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def test_ping(count=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.settimeout(2)
    got = 0
    for seq in range(1, count + 1):
        body = struct.pack("!BBHHH", 8, 0, 0, 0x6e6f, seq) + bytes(range(56))
        body = body[:2] + struct.pack("!H", icmp_sum(body)) + body[4:]
        s.sendto(body, (GUEST4, 0))
        end = time.monotonic() + 2
        while time.monotonic() < end:
            try:
                pkt = s.recv(2048)
            except socket.timeout:
                break
            icmp = pkt[(pkt[0] & 15) * 4:]
            if icmp[0] == 0 and struct.unpack("!HH", icmp[4:8]) == (0x6e6f, seq) \
                    and icmp[8:] == body[8:]:
                got += 1
                break
    s.close()
    print(f"ping {GUEST4}: {got}/{count} replies", flush=True)
    if got < count - 1:
        raise net_test.TestFailure(f"ping: {got} of {count} echo replies")


def send_router_advert():
    """RFC 4861 §4.2 with a Prefix Information option (§4.6.2) for fd77::/64,
    on-link and autonomous; router lifetime 0: not a default router."""
    prefix = struct.pack("!BBBBIII16s", 3, 4, 64, 0xC0, 3600, 3600, 0,
                         socket.inet_pton(socket.AF_INET6, PREFIX6))
    ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 0, 0, 0) + prefix
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.sendto(ra, ("ff02::1", 0, 0, socket.if_nametoindex("tap0")))
    s.close()


def test_ipv6(guest, mib):
    slaac = eui64(PREFIX6)
    for _ in range(10):
        send_router_advert()
        try:
            guest.wait_for(r"ipv6 " + re.escape(slaac.upper()), 2)
            break
        except net_test.TestFailure:
            continue
    else:
        raise net_test.TestFailure(f"ipv6: the guest never configured {slaac}")
    print(f"ipv6: guest has {slaac} (SLAAC)", flush=True)
    for host in (slaac, eui64("fe80::") + "%tap0"):
        net_test.HOST = host
        net_test.test_echo(net_test.GUEST_PORT, mib)
    net_test.HOST = GUEST4


def clients(args, ns, guest, errors, burst=None):
    try:
        ns.enter()
        net_test.HOST = GUEST4
        port = net_test.GUEST_PORT
        guest.wait_for(r"^net: serving", 60)
        if burst:
            count_burst(burst)
        test_ping()
        if args.bench:
            net_test.test_bench(port, args.bench)
        net_test.test_echo(port, args.echo)
        net_test.test_sink(port, args.echo)
        net_test.test_generate(port, args.echo)
        net_test.test_parallel(port, 4, max(args.echo / 2, 0.5))
        net_test.test_udp(port, 64)
        net_test.test_flood(port, port, 20000)
        test_ipv6(guest, max(args.echo / 2, 0.5))
        net_test.quit_guest(port)
    except (net_test.TestFailure, OSError, subprocess.CalledProcessError) as e:
        errors.append(str(e))


LOSSY_GUEST = "10.78.0.2"
LOSSY_PEER = "10.78.0.1"


def lossy_clients(args, ns, guest, errors, ready):
    """In the namespace: the relay's tap (its fd goes back to the main thread,
    whose relay socket lives on the root namespace's loopback, with QEMU's),
    then the echo across the link."""
    try:
        ns.enter()
        ready["tap"] = lossy_link.open_tap("lossy0")
        ns.ip("addr", "add", LOSSY_PEER + "/24", "dev", "lossy0")
        ns.ip("link", "set", "lossy0", "up")
    except (OSError, subprocess.CalledProcessError) as e:
        errors.append(f"lossy link: {e}")
        return
    finally:
        ready["event"].set()
    try:
        guest.wait_for(r"^net: serving", 60)
        net_test.HOST = LOSSY_GUEST
        print("lossy link: loss 1%, delay 20 ms, both ways", flush=True)
        net_test.test_echo(net_test.GUEST_PORT, args.lossy_mib)
        link = ready["link"]
        print(f"lossy link: {link.dropped} frames dropped, {link.passed} passed", flush=True)
        if link.dropped == 0:
            errors.append("lossy link: no frame was dropped: the loss was not exercised")
        net_test.quit_guest(net_test.GUEST_PORT)
    except (net_test.TestFailure, OSError) as e:
        errors.append(str(e))


class LaterGuest:
    """The guest the clients wait on, once the main thread has booted it."""

    def __init__(self):
        self.guest = None
        self.booted = threading.Event()

    def wait_for(self, rx, timeout):
        if not self.booted.wait(timeout) or self.guest is None:
            raise net_test.TestFailure("the guest never started")
        return self.guest.wait_for(rx, timeout)


def run_lossy(args, ns, errors):
    qemu_port = net_test.free_port(socket.SOCK_DGRAM)
    ready = {"event": threading.Event()}
    later = LaterGuest()
    t = threading.Thread(target=lossy_clients, args=(args, ns, later, errors, ready))
    t.start()
    ready["event"].wait(30)
    if "tap" not in ready:
        later.booted.set()
        t.join()
        return None
    link = ready["link"] = lossy_link.LossyLink(ready["tap"], qemu_port, loss=0.01, delay=0.020)
    link.start()
    microvm = qemu.machine_base(args.machine or "") == "microvm"
    dev = "virtio-net-device" if args.transport == "mmio" or microvm else "virtio-net-pci"
    extra = list(args.qemu_arg) + [
        "-netdev", f"socket,id=net0,udp=127.0.0.1:{link.port},localaddr=127.0.0.1:{qemu_port}",
        "-device", f"{dev},netdev=net0"]
    cfg = qemu.Config(arch=args.arch, kernel=args.kernel, elf=args.elf or args.kernel,
                      machine=args.machine, smp=args.smp,
                      append=f"mode=serve ip={LOSSY_GUEST}/24 gw={LOSSY_PEER}", extra=extra)
    print("---- QEMU: " + " ".join(qemu.command(cfg)), flush=True)
    later.guest = net_test.Guest(cfg, args.timeout)
    later.guest.start()
    later.booted.set()
    t.join(args.timeout)
    outcome = later.guest.finish(60)
    link.close()
    return outcome


def main(argv):
    args = parse(argv)
    if os.geteuid() != 0:
        print("SKIP: network namespaces and tap devices need root")
        return SKIP
    if not shutil.which(qemu.ARCHES[args.arch][0]) or not shutil.which("ip") \
            or not os.path.exists("/dev/net/tun"):
        print("SKIP: needs QEMU, iproute2 and /dev/net/tun")
        return SKIP
    ns = Namespace()
    errors = []
    outcome = None
    try:
        ns.create()
        if args.lossy:
            outcome = run_lossy(args, ns, errors)
        else:
            outcome = run_tap(args, ns, errors)
    except (subprocess.CalledProcessError, qemu.UsageError) as e:
        errors.append(str(e))
    finally:
        ns.delete()
    text = outcome.output.replace("\r", "") if outcome else ""
    print("---- serial output:\n" + text)
    if outcome is None or outcome.guest_status != 0:
        errors.append(outcome.describe() if outcome else "QEMU did not run")
    if not re.search(r"^net: ok$", text, re.MULTILINE):
        errors.append("the guest did not print 'net: ok'")
    m = re.search(r"(\d+) csum offloaded", text)
    if not args.lossy and (not m or int(m.group(1)) == 0):
        errors.append("the device offered checksum offload but no frame used it")
    # net/netif.c: with HOST_TSO4 negotiated, the bulk transfers go out as runs.
    m = re.search(r"^net: en\d+ tso (\d+) frames", text, re.MULTILINE)
    if re.search(r"virtio-net .* tso4", text) and (not m or int(m.group(1)) == 0):
        errors.append("the device took TSO but no run of segments went to it as one frame")
    # virtio/net_rx.c: with GUEST_TSO4 negotiated, the host's bulk transfers come in as
    # large segments over several buffers (Linux's TCP sends 64 KiB ones through the tap).
    m = re.search(r"^net: en\d+ rx .* (\d+) large segments", text, re.MULTILINE)
    if re.search(r"virtio-net .* guest_tso4", text) and (not m or int(m.group(1)) == 0):
        errors.append("the driver took GUEST_TSO4 but no large segment came in")
    for e in errors:
        print(f"FAIL: {e}")
    if not errors:
        print("PASS")
    return FAIL if errors else PASS


BURST_PORT = 7300
BURST = 16  # tests/guest/net.c's burst=


def burst_socket(ns):
    """A UDP socket on the peer's address in the namespace, bound before the
    guest boots: its first packets, sent before it knows our MAC, land here."""
    def make():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((PEER4, BURST_PORT))
        return s
    return ns.call(make)


def count_burst(sock):
    """Every datagram of the guest's first burst arrived: lwIP held them all
    while it resolved our MAC (its default kept 3 and dropped the rest)."""
    got = set()
    sock.settimeout(10)  # a bound on waiting; the count is what is checked
    try:
        while len(got) < BURST:
            got.add(sock.recv(64))
    except socket.timeout:
        pass
    print(f"burst: {len(got)}/{BURST} datagrams sent before ARP resolved arrived", flush=True)
    if len(got) != BURST:
        raise net_test.TestFailure(f"burst: {len(got)} of {BURST} datagrams arrived")


def run_tap(args, ns, errors):
    cfg = qemu.Config(arch=args.arch, kernel=args.kernel, elf=args.elf or args.kernel,
                      machine=args.machine, smp=args.smp, net="tap", tap="tap0",
                      transport=args.transport, prefix=["ip", "netns", "exec", ns.name],
                      append=f"mode=serve ip={GUEST4}/24 gw={PEER4} burst={BURST_PORT}",
                      extra=list(args.qemu_arg))
    print("---- QEMU: " + " ".join(qemu.command(cfg)), flush=True)
    burst = burst_socket(ns)
    guest = net_test.Guest(cfg, args.timeout)
    guest.start()
    t = threading.Thread(target=clients, args=(args, ns, guest, errors, burst))
    t.start()
    t.join(args.timeout)
    return guest.finish(60)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
