#!/usr/bin/env python3
"""Guest-test driver: boot one noos image under QEMU (TCG) and check it.

    guest.py --arch A --machine M (--kernel BOOTABLE | --cdrom ISO) --elf ELF
             [--append STR] [--smp N] [--mem SIZE] [--cpu C]
             [--expect REGEX]... [--reject REGEX]... [--status N]
             [--timeout S] [--qemu-arg ARG]... [--net user [--transport pci|mmio]]

Passes when the guest exits with --status (default 0), every --expect regex
matches the serial output (re.MULTILINE) and no --reject regex does. A guest
still running after --timeout seconds has hung: QEMU is killed and the test
fails. Panic backtraces in the output are symbolized against --elf.

Exit status: 0 pass, 1 fail, 77 skip (meson's code: the QEMU binary for the
arch is not installed). On failure the reason, the QEMU command line, the
serial output and QEMU's messages are printed.
"""

import argparse
import os
import re
import shlex
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402

PASS, FAIL, SKIP = 0, 1, 77
# Default hang limit. Meson's own default test timeout is 30 s; keep below the
# limit a test() gives meson so this driver, not meson, reports the hang.
DEFAULT_TIMEOUT = 25.0


def parse(argv):
    p = argparse.ArgumentParser(prog="guest.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", required=True, choices=sorted(qemu.ARCHES))
    p.add_argument("--machine")
    boot = p.add_mutually_exclusive_group(required=True)
    boot.add_argument("--kernel", help="what -kernel takes (ELF on x86_64, Image on aarch64)")
    boot.add_argument("--cdrom", help="boot an ISO (GRUB, multiboot2) instead of -kernel")
    p.add_argument("--elf", help="the ELF with symbols (for the panic backtrace)")
    p.add_argument("--append")
    p.add_argument("--smp", type=int, default=1)
    p.add_argument("--mem", default="128M")
    p.add_argument("--cpu", default="max")
    p.add_argument("--expect", action="append", default=[], metavar="REGEX")
    p.add_argument("--reject", action="append", default=[], metavar="REGEX")
    p.add_argument("--status", type=int, default=0)
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    p.add_argument("--qemu-arg", action="append", default=[], metavar="ARG")
    p.add_argument("--net", default="none", choices=("none", "user"),
                   help="user: QEMU's user network (unrestricted, so its DHCP names the "
                        "gateway: test guests contact only slirp's own addresses)")
    p.add_argument("--transport", choices=("pci", "mmio"), help="how the virtio-net device attaches")
    args = p.parse_args(argv)
    for rx in args.expect + args.reject:
        try:
            re.compile(rx, re.MULTILINE)
        except re.error as e:
            p.error(f"bad regex {rx!r}: {e}")
    return args


def config(args):
    extra = list(args.qemu_arg)
    if args.cdrom:
        extra += ["-cdrom", args.cdrom, "-boot", "d"]
    return qemu.Config(arch=args.arch, kernel=args.kernel, elf=args.elf or args.kernel,
                       machine=args.machine, cpu=args.cpu, smp=args.smp, mem=args.mem,
                       append=args.append, net=args.net, transport=args.transport,
                       extra=extra)


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain(text):
    """Serial output as regexes see it: without terminal escapes (GRUB clears
    the screen) and carriage returns (consoles end lines with CR LF, GRUB with LF CR)."""
    return ANSI_ESCAPE.sub("", text).replace("\r", "")


def check(args, outcome):
    """Every reason the run failed (empty: it passed)."""
    if outcome.timed_out or outcome.qemu_failed or outcome.guest_status is None:
        return [outcome.describe()]
    reasons = []
    text = plain(outcome.output)
    if outcome.guest_status != args.status:
        reasons.append(f"guest exited with status {outcome.guest_status}, expected {args.status}")
    for rx in args.expect:
        if not re.search(rx, text, re.MULTILINE):
            reasons.append(f"expected output not found: {rx!r}")
    for rx in args.reject:
        m = re.search(rx, text, re.MULTILINE)
        if m:
            reasons.append(f"rejected output found: {rx!r} matched {m.group(0)!r}")
    return reasons


def report(argv, outcome, reasons):
    out = sys.stdout
    out.write("---- QEMU: " + " ".join(shlex.quote(a) for a in argv) + "\n")
    text = plain(outcome.output)
    out.write("---- serial output (symbolized):\n" + text)
    if text and not text.endswith("\n"):
        out.write("\n")
    if outcome.stderr.strip():
        out.write("---- QEMU stderr:\n" + outcome.stderr)
    out.write(f"---- {outcome.describe()} in {outcome.elapsed:.2f}s\n")
    for r in reasons:
        out.write(f"FAIL: {r}\n")
    if not reasons:
        out.write("PASS\n")
    out.flush()


def main(argv):
    args = parse(argv)
    cfg = config(args)
    try:
        cmd = qemu.command(cfg)
    except qemu.UsageError as e:
        print(f"FAIL: {e}")
        return FAIL
    binary = qemu.ARCHES[args.arch][0]
    if not shutil.which(binary):
        print(f"SKIP: {binary} is not installed (./noos setup installs it)")
        return SKIP
    for path in filter(None, (args.kernel, args.cdrom, args.elf)):
        if not os.path.isfile(path):
            print(f"FAIL: {path} does not exist")
            return FAIL
    outcome = qemu.run(cfg, timeout=args.timeout)
    reasons = check(args, outcome)
    report(cmd, outcome, reasons)
    return FAIL if reasons else PASS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
