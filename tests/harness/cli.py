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


def resolve(args):
    """Returns (arch, elf, bootable) for `run`'s NAME|ELF argument."""
    image = args.image
    if "/" in image or image.endswith((".elf", ".img")) or os.path.isfile(image):
        elf = image[:-len(".img")] + ".elf" if image.endswith(".img") else image
        if not os.path.isfile(elf):
            fail(f"{image}: no such file", 2)
        arch = args.arch or qemu.elf_arch(elf)
        if arch is None:
            fail(f"{elf} is not an x86_64 or aarch64 ELF (say --arch)", 2)
        boot = image if image.endswith(".img") else bootable_for(elf, arch)
        if not os.path.isfile(boot):
            fail(f"{boot} (what QEMU's -kernel takes on {arch}) does not exist", 2)
        return arch, elf, boot
    arch = args.arch or arch_for_machine(args.machine)
    if build([arch], verbose=False):
        sys.exit(1)
    elf, boot = find_image(image, arch)
    if elf is None:
        fail(f"no image named {image!r} in {rel(build_dir(arch))} (images/ or tests/)", 2)
    return arch, elf, boot


def not_yet_net(net):
    if net != "none":
        fail(f"--net {net} is not available yet: noos has no virtio-net driver "
             "(it comes with networking)", 2)


def run_image(arch, elf, boot, args):
    cfg = qemu.Config(arch=arch, kernel=boot, elf=elf, machine=args.machine, smp=args.smp,
                      mem=args.mem, append=args.append, net=args.net,
                      transport=args.transport,
                      fwd=args.fwd, kvm=args.kvm, extra=args.qemu_arg)
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
    not_yet_net(args.net)
    arch, elf, boot = resolve(args)
    sys.exit(run_image(arch, elf, boot, args))


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

def cmd_demo(args):
    arch = args.arch or host_arch()
    if build([arch], verbose=False):
        sys.exit(1)
    elf, boot = find_image("httpd", arch)
    if elf is None:
        note("the demo web server (images/httpd) does not exist yet: networking comes later.")
        note("Booting the hello image instead, to show that noos boots:")
        elf, boot = find_image("hello", arch)
        if elf is None:
            fail("no hello image either: the build is broken")
        status = boot_and_report(qemu.Config(arch=arch, kernel=boot, elf=elf), timeout=60)
        fail(f"hello exited with status {status}; that was not the demo (no httpd yet)")
    fail("images/httpd exists but `./noos demo` does not drive it yet")


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
                       runs, args.quick))


# ---------------------------------------------------------------- arguments

def parser():
    top = argparse.ArgumentParser(prog="./noos", description="noos: build, boot and test.")
    sub = top.add_subparsers(dest="verb", required=True, metavar="VERB")

    b = sub.add_parser("build", help="configure and build with meson")
    b.add_argument("--arch", action="append", choices=KINDS, help="only this (repeatable)")
    b.set_defaults(func=cmd_build)

    r = sub.add_parser("run", help="boot an image under QEMU; exit with the guest's status")
    r.add_argument("image", metavar="NAME|ELF", help="an image name (hello) or a path to its ELF")
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
    d.add_argument("--arch", choices=CROSS)
    d.set_defaults(func=cmd_demo)

    e = sub.add_parser("bench", help="noos against a Linux guest and the floor (boot, size, memory)")
    e.add_argument("--arch", action="append", choices=CROSS, help="only this (repeatable)")
    e.add_argument("--runs", type=int, help="boots of each subject per row (default 5)")
    e.add_argument("--quick", action="store_true", help="3 runs and a coarser memory search")
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
