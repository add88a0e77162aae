#!/usr/bin/env python3
"""Guest-test driver: boot one noos image under QEMU (TCG) and check it.

    guest.py --arch A --machine M (--kernel BOOTABLE | --cdrom ISO | --disk IMG) --elf ELF
             [--append STR] [--smp N] [--mem SIZE] [--cpu C]
             [--expect REGEX]... [--reject REGEX]... [--status N]
             [--timeout S] [--qemu-arg ARG]... [--net user [--transport pci|mmio]]
             [--forward [udp:]GUESTPORT]... [--host-check CMD [--ready REGEX]]

Passes when the guest exits with --status (default 0), every --expect regex
matches the serial output (re.MULTILINE) and no --reject regex does. A guest
still running after --timeout seconds has hung: QEMU is killed and the test
fails. Panic backtraces in the output are symbolized against --elf.

A guest that serves the network is checked from the host: each --forward
gets a free port on 127.0.0.1 forwarded to the guest's port (QEMU user
network), and once the serial output matches --ready (default '^READY'),
--host-check's command runs (split like a shell's words, not through one)
with {tcp:N} / {udp:N} replaced by the host port forwarded to guest port N
({port}: the first forward's). The check passes when the command exits 0
within the time left; then the guest is killed, and its exit status is
checked only if it had exited by itself (a panic while serving fails).

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
    boot.add_argument("--disk", help="boot a UEFI disk image (NAME-uefi.img) with OVMF")
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
    p.add_argument("--stdin", metavar="FILE",
                   help="serial input: QEMU reads it as the guest's UART takes bytes")
    p.add_argument("--net", default="none", choices=("none", "user"),
                   help="user: QEMU's user network (unrestricted, so its DHCP names the "
                        "gateway: test guests contact only slirp's own addresses)")
    p.add_argument("--transport", choices=("pci", "mmio"), help="how the virtio-net device attaches")
    p.add_argument("--forward", action="append", default=[], metavar="[udp:]GUESTPORT",
                   help="forward a free 127.0.0.1 port to this guest port (needs --net user)")
    p.add_argument("--host-check", metavar="CMD", help="run on the host once --ready matches")
    p.add_argument("--ready", default="^READY", metavar="REGEX")
    args = p.parse_args(argv)
    for f in args.forward:
        if not re.fullmatch(r"(tcp:|udp:)?\d{1,5}", f):
            p.error(f"--forward takes [udp:]GUESTPORT, not {f!r}")
    if args.forward and args.net != "user":
        p.error("--forward needs --net user")
    for rx in args.expect + args.reject + [args.ready]:
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
                       disk=args.disk, uefi=bool(args.disk), extra=extra)


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
    if outcome.guest_status != args.status:
        reasons.append(f"guest exited with status {outcome.guest_status}, expected {args.status}")
    return reasons + check_text(args, outcome)


def check_text(args, outcome):
    """The --expect and --reject regexes against the serial output."""
    reasons = []
    text = plain(outcome.output)
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


# ---------------------------------------------------------------- host checks

def free_port(kind):
    """A port on 127.0.0.1 nobody uses now (QEMU binds it right after)."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def forwards(args):
    """{"tcp:80": host port, ...} for each --forward, in order."""
    ports = {}
    for f in args.forward:
        key = f if ":" in f else "tcp:" + f
        ports[key] = free_port(key.split(":")[0])
    return ports


def host_command(template, ports):
    argv = shlex.split(template)
    first = next(iter(ports.values()), None)

    def fill(word):
        for key, port in ports.items():
            word = word.replace("{" + key + "}", str(port))
        return word.replace("{port}", str(first)) if first else word
    return [fill(w) for w in argv]


class Background:
    """QEMU in a thread; its serial output searchable while it runs. Started
    at once unless start=False (then call start())."""

    def __init__(self, cfg, timeout, start=True):
        import threading
        self.text = ""
        self.cond = threading.Condition()
        self.outcome = None
        self.runner = qemu.Runner(cfg, timeout=timeout, echo=self._echo)
        self.thread = threading.Thread(target=self._run, daemon=True)
        if start:
            self.start()

    def start(self):
        self.thread.start()

    def _echo(self, s):
        with self.cond:
            self.text += s
            self.cond.notify_all()

    def _run(self):
        try:
            self.outcome = self.runner.run()
        finally:
            with self.cond:
                self.cond.notify_all()

    def search(self, regex, deadline):
        """The first match of regex in the output (re.MULTILINE), waiting for it
        until time.monotonic() reaches deadline or QEMU ends; None if none came."""
        import time
        with self.cond:
            while not (m := re.search(regex, plain(self.text), re.MULTILINE)):
                left = deadline - time.monotonic()
                if left <= 0 or not self.thread.is_alive():
                    return None
                self.cond.wait(min(left, 0.5))
            return m

    def wait_for(self, regex, deadline):
        return self.search(regex, deadline) is not None

    def stop(self):
        """Kill QEMU if it still runs; True if the guest had exited by itself."""
        exited = not self.thread.is_alive()
        self.runner.kill()
        self.thread.join()
        return exited


def run_host_check(args, cfg, ports):
    """Boot, wait for --ready, run the check; returns (outcome, reasons)."""
    import subprocess
    import time
    deadline = time.monotonic() + args.timeout
    guest = Background(cfg, args.timeout)
    reasons = []
    if not guest.wait_for(args.ready, deadline):
        reasons.append(f"the guest never printed {args.ready!r}")
    else:
        for p in guest.runner.fwd_problems or ():
            print(f"---- note: forwarded port not widened: {p}", flush=True)
        argv = host_command(args.host_check, ports)
        print("---- host check: " + " ".join(shlex.quote(a) for a in argv), flush=True)
        try:
            rc = subprocess.run(argv, timeout=max(1.0, deadline - time.monotonic())).returncode
            if rc != 0:
                reasons.append(f"the host check exited with status {rc}")
        except subprocess.TimeoutExpired:
            reasons.append("the host check did not finish in time")
        except OSError as e:
            reasons.append(f"the host check could not run: {e}")
    if guest.stop():
        return guest.outcome, reasons + check(args, guest.outcome)
    return guest.outcome, reasons + check_text(args, guest.outcome)  # killed on purpose


def main(argv):
    args = parse(argv)
    cfg = config(args)
    ports = forwards(args)
    for key, port in ports.items():
        proto, guest_port = key.split(":")
        cfg.fwd.append(f"{proto}:{port}:{guest_port}")
    try:
        cmd = qemu.command(cfg)
    except qemu.UsageError as e:
        print(f"FAIL: {e}")
        return FAIL
    binary = qemu.ARCHES[args.arch][0]
    if not shutil.which(binary):
        print(f"SKIP: {binary} is not installed (./noos setup installs it)")
        return SKIP
    for path in filter(None, (args.kernel, args.cdrom, args.disk, args.elf)):
        if not os.path.isfile(path):
            print(f"FAIL: {path} does not exist")
            return FAIL
    if args.host_check:
        outcome, reasons = run_host_check(args, cfg, ports)
        cmd = qemu.command(cfg)
    elif args.stdin:
        with open(args.stdin, "rb") as serial_input:
            outcome = qemu.run(cfg, timeout=args.timeout, stdin=serial_input)
        reasons = check(args, outcome)
    else:
        outcome = qemu.run(cfg, timeout=args.timeout)
        reasons = check(args, outcome)
    report(cmd, outcome, reasons)
    return FAIL if reasons else PASS


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
