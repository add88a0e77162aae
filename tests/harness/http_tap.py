#!/usr/bin/env python3
"""images/httpd against a real Linux client over IPv4 and IPv6: QEMU on a tap
device inside a network namespace this test creates (and deletes), httpd on
10.77.0.2 (static, from ip= and gw=), and from the namespace:

  ipv4        http_check.py against 10.77.0.2 (pages, pipelining, curl, and wrk
              with 250 connections at once)
  ipv6        a router advertisement for fd77::/64, then http_check.py against
              the guest's SLAAC address
  link-local  curl -6 to the guest's fe80:: address on tap0

QEMU 7.2's user network cannot forward IPv6 from the host, which is why this
needs a tap. Needs root (namespaces, tap devices), else SKIP (exit 77). Only
the namespace's addresses are contacted.

    http_tap.py --arch A --machine M --kernel BOOTABLE [--elf ELF]
                [--transport pci|mmio] [--smp N] [--timeout S]
"""

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import net_tap  # noqa: E402
import net_test  # noqa: E402
import qemu  # noqa: E402

PASS, FAIL, SKIP = 0, 1, 77
HTTP_CHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "http_check.py")


def parse(argv):
    p = net_test.guest_parser("http_tap.py", __doc__, smp=2)
    p.add_argument("--timeout", type=float, default=240)
    return p.parse_args(argv)


def in_ns(ns, argv, timeout):
    """Run argv inside the namespace, its output passed through; its exit status."""
    return subprocess.run(["ip", "netns", "exec", ns.name] + argv, timeout=timeout).returncode


def slaac(ns, guest):
    """Advertise fd77::/64 on tap0 (from a thread inside the namespace) until the guest has its address."""
    addr = net_tap.eui64(net_tap.PREFIX6)

    def advertise():
        for _ in range(10):
            net_tap.send_router_advert()
            try:
                guest.wait_for(r"ipv6 " + re.escape(addr.upper()), 2)
                return addr
            except net_test.TestFailure:
                continue
        raise net_test.TestFailure(f"the guest never configured {addr} (SLAAC)")
    try:
        return ns.call(advertise)
    except OSError as e:
        raise net_test.TestFailure(str(e)) from None


def checks(ns, guest, errors):
    guest.wait_for(r"^httpd: listening", 60)
    py = sys.executable
    # No QEMU user network in the way here: wrk really holds 250 connections at once.
    if in_ns(ns, [py, HTTP_CHECK, "80", "--host", net_tap.GUEST4, "--wrk-connections", "250"],
             200) != 0:
        errors.append(f"http_check.py over IPv4 ({net_tap.GUEST4}) failed")
    addr = slaac(ns, guest)
    if in_ns(ns, [py, HTTP_CHECK, "80", "--host", addr], 200) != 0:
        errors.append(f"http_check.py over IPv6 ({addr}) failed")
    local = net_tap.eui64("fe80::")
    out = subprocess.run(["ip", "netns", "exec", ns.name, "curl", "-sSfg6", "--max-time", "20",
                          f"http://[{local}%tap0]/hello"], capture_output=True, timeout=60)
    if out.stdout != b"Hello from noos!\n":
        errors.append(f"curl -6 to {local}%tap0: {out.stderr.decode(errors='replace')}")
    else:
        print(f"http_tap: curl -6 http://[{local}%tap0]/hello ok", flush=True)


def main(argv):
    args = parse(argv)
    if os.geteuid() != 0:
        print("SKIP: network namespaces and tap devices need root")
        return SKIP
    for tool in (qemu.ARCHES[args.arch][0], "ip", "curl", "wrk"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed (./noos setup installs it)")
            return SKIP
    if not os.path.exists("/dev/net/tun"):
        print("SKIP: no /dev/net/tun")
        return SKIP
    ns, errors, outcome = net_tap.Namespace(), [], None
    try:
        ns.create()
        cfg = qemu.Config(arch=args.arch, kernel=args.kernel, elf=args.elf or args.kernel,
                          machine=args.machine, smp=args.smp, net="tap", tap="tap0",
                          transport=args.transport, prefix=["ip", "netns", "exec", ns.name],
                          append=f"ip={net_tap.GUEST4}/24 gw={net_tap.PEER4}")
        print("---- QEMU: " + " ".join(qemu.command(cfg)), flush=True)
        guest = net_test.Guest(cfg, args.timeout)
        guest.start()
        try:
            checks(ns, guest, errors)
        except (net_test.TestFailure, OSError, subprocess.TimeoutExpired) as e:
            errors.append(str(e))
        guest.runner.kill()
        outcome = guest.finish(30)
    except (subprocess.CalledProcessError, qemu.UsageError) as e:
        errors.append(str(e))
    finally:
        ns.delete()
    text = outcome.output.replace("\r", "") if outcome else ""
    print("---- serial output:\n" + text)
    if re.search(r"PANIC", text):
        errors.append("the guest panicked")
    for e in errors:
        print(f"FAIL: {e}")
    if not errors:
        print("PASS")
    return FAIL if errors else PASS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
