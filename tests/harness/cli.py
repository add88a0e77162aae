#!/usr/bin/env python3
"""The ./noos verbs that come after setup: build, run, test, demo, bench.

`./noos` (bash) runs setup's cheap check and then execs this file. Build
directories live under build/ (or $NOOS_BUILD_DIR): build/x86_64 and
build/aarch64 are cross builds, build/host the native one for host tests.
"""

import argparse
import json
import os
import platform
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402

ROOT = qemu.ROOT
CROSS = ("x86_64", "aarch64")
KINDS = ("host",) + CROSS
# meson test results (mtest TestResult names) and how the summary counts them.
COUNTS = {"OK": "passed", "EXPECTEDFAIL": "passed", "SKIP": "skipped"}


def note(msg):
    print(f"noos: {msg}", file=sys.stderr, flush=True)


def fail(msg, status=1):
    note(msg)
    sys.exit(status)


def build_dir(kind):
    return os.path.join(ROOT, os.environ.get("NOOS_BUILD_DIR", "build"), kind)


def rel(path):
    return os.path.relpath(path, os.getcwd()) if path.startswith(ROOT) else path


def arch_for_machine(machine):
    """The arch a --machine implies (virt is aarch64's), else the host's."""
    for arch, (_, _, machines) in qemu.ARCHES.items():
        if machine and qemu.machine_base(machine) in machines:
            return arch
    return host_arch()


def host_arch():
    return "aarch64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


# ---------------------------------------------------------------- build

def step(argv, env=None, verbose=True):
    """Run a build step, its output on stderr (stdout is the guest's in
    `./noos run`); not verbose: shown only if the step failed."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if p.returncode != 0 or (verbose and "no work to do" not in p.stdout):
        sys.stderr.write(p.stdout)
    return p.returncode == 0


def configure(kind, verbose):
    d = build_dir(kind)
    if os.path.exists(os.path.join(d, "build.ninja")):
        return True  # ninja re-runs meson itself when a meson.build changes
    argv = ["meson", "setup", "--wrap-mode=nodownload", d, ROOT]
    env = dict(os.environ)
    if kind == "host":
        env["CC"] = "clang"  # the fuzzers need libFuzzer; one compiler everywhere
    else:
        argv += ["--cross-file", os.path.join(ROOT, "arch", kind, "cross.ini")]
    if os.path.exists(os.path.join(d, "meson-private", "coredata.dat")):
        argv.append("--wipe")  # a configure that failed half-way
    return step(argv, env, verbose)


def build(kinds, verbose=True):
    """Configure (once) and build each kind; returns the kinds that failed."""
    failed = []
    for kind in kinds:
        if not (configure(kind, verbose) and step(["ninja", "-C", build_dir(kind)], None, verbose)):
            note(f"building {kind} in {rel(build_dir(kind))} failed")
            failed.append(kind)
    return failed


def cmd_build(args):
    failed = build(args.arch or KINDS)
    sys.exit(1 if failed else 0)


# ---------------------------------------------------------------- run

def find_image(name, arch):
    """NAME -> (elf, bootable) in arch's build dir: images/NAME first, then
    tests/NAME or tests/test-NAME (the guest test images)."""
    d = build_dir(arch)
    candidates = [os.path.join(d, "images", name + ".elf")]
    for top, _, files in os.walk(os.path.join(d, "tests")):
        for f in (name + ".elf", "test-" + name + ".elf"):
            if f in files:
                candidates.append(os.path.join(top, f))
    for elf in candidates:
        if os.path.isfile(elf):
            return elf, bootable_for(elf, arch)
    return None, None


def bootable_for(elf, arch):
    """What -kernel takes: the ELF itself (x86_64, PVH note) or the arm64 Image beside it."""
    if arch == "x86_64":
        return elf
    return elf[:-len(".elf")] + ".img" if elf.endswith(".elf") else elf


def image_kind(path):
    """kernel (an ELF or an arm64 Image: -kernel), cdrom (an ISO 9660 image,
    "CD001" at 0x8001) or disk (a GPT disk, "EFI PART" at LBA 1)."""
    try:
        with open(path, "rb") as f:
            head = f.read(0x8010)
    except OSError:
        return "kernel"
    if head[512:520] == b"EFI PART":
        return "disk"
    if head[0x8001:0x8006] == b"CD001":
        return "cdrom"
    return "kernel"


def elf_beside(path):
    """NAME.elf beside NAME.iso or NAME-uefi.img (for symbolized backtraces), or None."""
    base = path[:-len("-uefi.img")] if path.endswith("-uefi.img") else os.path.splitext(path)[0]
    return base + ".elf" if os.path.isfile(base + ".elf") else None


BOOT_FILES = {"iso": ("cdrom", ".iso"), "uefi": ("disk", "-uefi.img")}


def resolve(args):
    """Returns (arch, elf, bootable, kind) for `run`'s NAME|PATH argument; kind is
    kernel (-kernel), cdrom (a GRUB ISO) or disk (a UEFI disk image)."""
    image = args.image
    if "/" in image or image.endswith((".elf", ".img", ".iso")) or os.path.isfile(image):
        if args.boot != "kernel":
            fail("--boot is for an image NAME; a path is booted as what it is", 2)
        if os.path.isfile(image) and image_kind(image) != "kernel":
            return "x86_64", elf_beside(image), image, image_kind(image)
        elf = image[:-len(".img")] + ".elf" if image.endswith(".img") else image
        if not os.path.isfile(elf):
            fail(f"{image}: no such file", 2)
        arch = args.arch or qemu.elf_arch(elf)
        if arch is None:
            fail(f"{elf} is not an x86_64 or aarch64 ELF (say --arch)", 2)
        boot = image if image.endswith(".img") else bootable_for(elf, arch)
        if not os.path.isfile(boot):
            fail(f"{boot} (what QEMU's -kernel takes on {arch}) does not exist", 2)
        return arch, elf, boot, "kernel"
    arch = args.arch or ("x86_64" if args.boot != "kernel" else arch_for_machine(args.machine))
    if build([arch], verbose=False):
        sys.exit(1)
    elf, boot = find_image(image, arch)
    if elf is None:
        fail(f"no image named {image!r} in {rel(build_dir(arch))} (images/ or tests/)", 2)
    if args.boot == "kernel":
        return arch, elf, boot, "kernel"
    kind, suffix = BOOT_FILES[args.boot]
    boot = elf[:-len(".elf")] + suffix
    if arch != "x86_64" or not os.path.isfile(boot):
        fail(f"--boot {args.boot}: there is no {os.path.basename(boot)} "
             "(x86_64 images only; UEFI disks need grub-efi-amd64-bin)", 2)
    return arch, elf, boot, kind


def run_image(arch, elf, boot, kind, args):
    if kind != "kernel" and args.append:
        fail("--append: an ISO's or a UEFI disk's command line is in the GRUB configuration "
             "it was built with (images/mkiso.py, mkefi.py); boot the ELF to give one", 2)
    cfg = qemu.Config(arch=arch, kernel=boot if kind == "kernel" else None, elf=elf,
                      machine=args.machine, smp=args.smp, mem=args.mem, append=args.append,
                      net=args.net, transport=args.transport, fwd=args.fwd, kvm=args.kvm,
                      extra=args.qemu_arg, cdrom=boot if kind == "cdrom" else None,
                      disk=boot if kind == "disk" else None, uefi=kind == "disk")
    if args.cpu:
        cfg.cpu = args.cpu
    try:
        argv = qemu.command(cfg)
    except qemu.UsageError as e:
        fail(str(e), 2)
    if args.dry_run:
        print(" ".join(shell_quote(a) for a in argv))
        return 0
    if args.kvm and not os.access("/dev/kvm", os.R_OK | os.W_OK):
        fail("--kvm: /dev/kvm is missing or not accessible", 2)
    return boot_and_report(cfg, args.timeout)


def shell_quote(s):
    import shlex
    return shlex.quote(s)


def boot_and_report(cfg, timeout):
    """Boot with serial on stdout; return the guest's status (or why there is none)."""
    def out(s):
        sys.stdout.write(s)
        sys.stdout.flush()

    saved = save_tty()
    try:
        outcome = qemu.run(cfg, timeout=timeout, echo=out, stdin=None, own_group=False,
                           echo_err=qemu.stderr_write)
    except FileNotFoundError as e:
        fail(str(e), 127)
    finally:
        restore_tty(saved)
    if outcome.timed_out:
        note(outcome.describe())
        return 124
    if outcome.qemu_failed or outcome.guest_status is None:
        note(outcome.describe())
        if outcome.qemu_status is not None and outcome.qemu_status < 0:
            return 128 - outcome.qemu_status
        return qemu.NO_STATUS
    return outcome.guest_status


def save_tty():
    try:
        import termios
        return termios.tcgetattr(sys.stdin.fileno()) if sys.stdin.isatty() else None
    except (ImportError, OSError, ValueError):
        return None


def restore_tty(saved):
    if saved is not None:
        import termios
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)


def cmd_run(args):
    arch, elf, boot, kind = resolve(args)
    sys.exit(run_image(arch, elf, boot, kind, args))


# ---------------------------------------------------------------- test

def meson_test(kind, suites):
    """Run meson test in one build dir; returns {passed, failed, skipped}."""
    d = build_dir(kind)
    log = os.path.join(d, "meson-logs", "testlog.json")
    if os.path.exists(log):
        os.remove(log)  # never count a previous run's results
    argv = ["meson", "test", "-C", d, "--no-rebuild", "--num-processes", "2", "--print-errorlogs"]
    for s in suites:
        argv += ["--suite", s]
    print(f"noos test: {kind} ({rel(d)})", flush=True)
    rc = subprocess.run(argv).returncode
    counts = count_results(log)
    if rc != 0 and counts["failed"] == 0:
        note(f"meson test in {rel(d)} failed (status {rc}) without a failed test")
        counts["failed"] += 1
    return counts


def count_results(log):
    """{passed, failed, skipped} from meson's testlog.json (one JSON object a line)."""
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    if os.path.exists(log):
        with open(log) as f:
            for line in f:
                if line.strip():
                    result = json.loads(line).get("result", "ERROR")
                    counts[COUNTS.get(result, "failed")] += 1
    return counts


def summary(total):
    line = f"{total['passed']} passed, {total['failed']} failed"
    if total["skipped"]:
        line += f", {total['skipped']} skipped"
    return line


def cmd_test(args):
    total = {"passed": 0, "failed": 0, "skipped": 0}
    for kind in args.arch or KINDS:
        if build([kind]):
            total["failed"] += 1  # the build is a test of its own
            continue
        for k, v in meson_test(kind, args.suites).items():
            total[k] += v
    print(summary(total), flush=True)
    if total["failed"]:
        sys.exit(1)
    if args.suites and not total["passed"] + total["skipped"]:
        fail(f"no test is in suite {' or '.join(args.suites)} (meson test --list shows them)", 2)


# ---------------------------------------------------------------- demo, bench

DEMO_PORT = 8080


def port_free(port):
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class DemoBanner:
    """Passes the guest's output through and, once httpd says it listens,
    prints where to point a browser and how to stop."""

    def __init__(self, port):
        self.port = port
        self.seen = ""
        self.told = False

    def __call__(self, text):
        sys.stdout.write(text)
        sys.stdout.flush()
        if not self.told:
            self.seen = (self.seen + text)[-4096:]
            if "httpd: listening" in self.seen and self.seen.rstrip(" ").endswith("\n"):
                self.told = True
                note(f"the demo is up: open http://127.0.0.1:{self.port}/ "
                     f"(live counters: http://127.0.0.1:{self.port}/stats)")
                note("press Ctrl-C to stop it")


def cmd_demo(args):
    """httpd on x86_64 q35 (by default) with 127.0.0.1:PORT forwarded to its port 80."""
    arch = args.arch or "x86_64"
    if build([arch], verbose=False):
        sys.exit(1)
    elf, boot = find_image("httpd", arch)
    if elf is None:
        fail(f"no httpd image in {rel(build_dir(arch))}: the build is broken")
    if not port_free(args.port):
        fail(f"127.0.0.1:{args.port} is in use (another demo?): --port picks another", 2)
    cfg = qemu.Config(arch=arch, kernel=boot, elf=elf, smp=args.smp, net="user",
                      fwd=[f"{args.port}:80"])
    note(f"booting the httpd image ({arch}, {qemu.ARCHES[arch][1]}, {args.smp} vCPUs) with "
         f"127.0.0.1:{args.port} forwarded to its port 80")
    saved = save_tty()
    try:
        outcome = qemu.run(cfg, echo=DemoBanner(args.port), stdin=None, own_group=False,
                           echo_err=lambda s: "terminating on signal" in s or qemu.stderr_write(s))
    except SystemExit as e:  # Ctrl-C (or a SIGTERM): QEMU has been stopped
        if e.code in (128 + 2, 128 + 15):
            note("stopped")
            sys.exit(0)
        raise
    except FileNotFoundError as e:
        fail(str(e), 127)
    finally:
        restore_tty(saved)
    fail(f"httpd stopped by itself: {outcome.describe()}")


def cmd_bench(args):
    """tests/bench/bench.py for each arch: the table on stdout, results.md and
    results.json in build/bench/, the Linux guest's packages in build/bench/cache/."""
    arches = args.arch or list(CROSS)
    if build(arches, verbose=False):
        sys.exit(1)
    sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))
    import bench
    top = os.path.join(os.path.dirname(build_dir("x86_64")), "bench")
    if args.runs is not None and args.runs < 1:
        fail("--runs must be at least 1", 2)
    runs = args.runs or (bench.QUICK_RUNS if args.quick else bench.DEFAULT_RUNS)
    sys.exit(bench.run({a: build_dir(a) for a in arches}, top, os.path.join(top, "cache"),
                       runs, args.quick, only=args.only))


# ---------------------------------------------------------------- arguments

def parser():
    top = argparse.ArgumentParser(prog="./noos", description="noos: build, boot and test.")
    sub = top.add_subparsers(dest="verb", required=True, metavar="VERB")

    b = sub.add_parser("build", help="configure and build with meson")
    b.add_argument("--arch", action="append", choices=KINDS, help="only this (repeatable)")
    b.set_defaults(func=cmd_build)

    r = sub.add_parser("run", help="boot an image under QEMU; exit with the guest's status")
    r.add_argument("image", metavar="NAME|PATH",
                   help="an image name (hello), or a path: its ELF, arm64 Image, ISO or UEFI disk")
    r.add_argument("--boot", choices=("kernel", "iso", "uefi"), default="kernel",
                   help="for a NAME: QEMU -kernel (default), NAME.iso (GRUB, BIOS) or "
                        "NAME-uefi.img (GRUB, UEFI firmware); x86_64")
    r.add_argument("--arch", choices=CROSS)
    r.add_argument("--machine", help="q35, pc, microvm (x86_64); virt (aarch64)")
    r.add_argument("--smp", type=int, default=1)
    r.add_argument("--mem", default="128M")
    r.add_argument("--cpu", help="QEMU -cpu (default max)")
    r.add_argument("--net", choices=("user", "tap", "none"), default="none")
    r.add_argument("--transport", choices=("pci", "mmio"))
    r.add_argument("--fwd", action="append", default=[], metavar="HOSTPORT:GUESTPORT")
    r.add_argument("--append", help="the guest's command line (argv, key=value environment)")
    r.add_argument("--kvm", action="store_true", help="use KVM instead of TCG")
    r.add_argument("--timeout", type=float, help="kill QEMU after this many seconds")
    r.add_argument("--qemu-arg", action="append", default=[], metavar="ARG",
                   help="one more QEMU argument, verbatim (repeatable)")
    r.add_argument("--dry-run", action="store_true", help="print the QEMU command, don't run it")
    r.set_defaults(func=cmd_run)

    t = sub.add_parser("test", help="host unit tests and guest tests; last line 'N passed, N failed'")
    t.add_argument("--arch", action="append", choices=KINDS, help="only this (repeatable)")
    t.add_argument("suites", nargs="*", metavar="SUITE", help="meson test suites to run")
    t.set_defaults(func=cmd_test)

    d = sub.add_parser("demo", help="boot the httpd image with 127.0.0.1:8080 forwarded to it")
    d.add_argument("--arch", choices=CROSS, help="default x86_64 (q35); aarch64 runs on virt")
    d.add_argument("--port", type=int, default=DEMO_PORT, help="the host port (127.0.0.1 only)")
    d.add_argument("--smp", type=int, default=2, help="vCPUs (httpd runs a worker on each)")
    d.set_defaults(func=cmd_demo)

    e = sub.add_parser("bench", help="noos against a Linux guest and the floor (boot, size, memory, HTTP, TCP, SMP)")
    e.add_argument("--arch", action="append", choices=CROSS, help="only this (repeatable)")
    e.add_argument("--runs", type=int, help="boots of each subject per row (default 5)")
    e.add_argument("--quick", action="store_true", help="3 runs and a coarser memory search")
    e.add_argument("--only", action="append", metavar="ROW",
                   help="only this measurement (repeatable): boot, image_size, smallest_memory, "
                        "http, tcp_bulk, smp_scaling")
    e.set_defaults(func=cmd_bench)
    return top


def main(argv):
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main(sys.argv[1:])
