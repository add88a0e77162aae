#!/usr/bin/env python3
"""`./noos bench`: noos against a Linux guest and the floor, under the same QEMU.

    bench.py --arch A --build-dir DIR [--runs N] [--quick] [--smoke]
             [--cache DIR] [--out DIR]

Boots noos (boot.c: a line and exit), the Linux reference guest (linux.py:
Debian's cloud kernel and a busybox-static initramfs, fetched into --cache)
and the floor (floor-ARCH.S: a line and exit) under the same QEMU flags, in
turn, measures the example images (hello, httpd), and
prints the table of rows.py on stdout; results.md and results.json go to
--out. `./noos bench` calls run() for each arch it built; meson runs this file
with --smoke (suite 'bench'): one short run of each row.

Exit status: 0, or 1 when a row that should have numbers has none (a noos or
floor boot failed, or the bench broke); with --smoke, 77 (skip) when
everything else worked but the Linux guest could not be had.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))
sys.path.insert(0, HERE)
import linux  # noqa: E402
import qemu  # noqa: E402
import report  # noqa: E402
import rows  # noqa: E402

MACHINES = {"x86_64": ["q35", "microvm"], "aarch64": ["virt"]}
NOOS_MARKER = "bench: booted"
FLOOR_MARKER = "Hello from the floor!"
BOOT_STATUS = 3  # boot.c's main returns 3
DEFAULT_RUNS, QUICK_RUNS = 5, 3
SKIP = 77


def say(msg):
    print(f"noos bench: {msg}", file=sys.stderr, flush=True)


class SetupError(Exception):
    pass


def qemu_rc(arch, status):
    """QEMU's exit status for a guest status: isa-debug-exit makes it
    (v << 1) | 1 on x86_64; semihosting passes it through on aarch64."""
    return (status << 1) | 1 if arch == "x86_64" else status


def find_images(build_dir, arch):
    """{name: (elf, bootable)} for every image in build_dir/images."""
    d = os.path.join(build_dir, "images")
    found = {}
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else ():
        if f.endswith(".elf"):
            elf = os.path.join(d, f)
            boot = elf if arch == "x86_64" else elf[:-4] + ".img"
            if os.path.isfile(boot):
                found[f[:-4]] = (elf, boot)
    return found


def bench_image(build_dir, arch, name):
    """(elf, bootable) of tests/bench/bench-NAME."""
    elf = os.path.join(build_dir, "tests", "bench", f"bench-{name}.elf")
    boot = elf if arch == "x86_64" else elf[:-4] + ".img"
    if not os.path.isfile(boot):
        raise SetupError(f"no {boot} (build it first)")
    return elf, boot


def subject(arch, name, elf, boot, marker, status):
    size, what = rows.image_bytes(arch, elf, boot)
    return rows.Subject(name, boot, marker, qemu_rc(arch, status), size=size,
                        size_note=f"{name}: {what}")


def linux_subject(arch, cache):
    """(Subject, linux.Guest, its packages) or (None, why it is not available, None)."""
    try:
        g = linux.guest(arch, cache)
    except linux.Unavailable as e:
        return None, f"not available: {e}", None
    if g.note:
        say(f"{arch}: {g.note}")
    s = rows.Subject("linux", g.kernel, linux.MARKER, 0, initrd=g.initrd, append=g.append("boot"),
                     size=g.size(), size_note="Linux: kernel + initramfs", timeout=60.0)
    return s, g, ", ".join(f"{p} {v}" for p, v in g.versions.items())


def context(arch, build_dir, cache, runs, smoke, quick):
    images = find_images(build_dir, arch)
    try:
        images["bench-iperf"] = bench_image(build_dir, arch, "iperf")  # the TCP bulk rows' guest
    except SetupError:
        pass  # those rows say it is not built
    if "hello" not in images:
        raise SetupError(f"no hello image in {build_dir}/images (build it first)")
    noos = subject(arch, "noos", *bench_image(build_dir, arch, "boot"), NOOS_MARKER, BOOT_STATUS)
    floor = subject(arch, "floor", *bench_image(build_dir, arch, "floor"), FLOOR_MARKER, 0)
    lx, g, versions = linux_subject(arch, cache)
    why = "" if lx else g
    if lx is None:
        say(f"{arch}: the Linux reference guest is {why}; its columns stay empty")
    ctx = rows.Ctx(arch, MACHINES[arch], runs, smoke, quick, images, noos, floor, lx, why,
                   linux_guest=g if lx else None)
    return ctx, versions


def measurements(only=None):
    """rows.MEASUREMENTS, or those named in only (function names: boot, http...)."""
    names = [m.__name__ for m in rows.MEASUREMENTS]
    unknown = [n for n in only or () if n not in names]
    if unknown:
        raise SetupError(f"no measurement {', '.join(unknown)} (there are: {', '.join(names)})")
    return [m for m in rows.MEASUREMENTS if not only or m.__name__ in only]


def measure(ctx, only=None):
    results = []
    for m in measurements(only):
        say(f"{ctx.arch}: {m.__name__}")
        results += m(ctx)
    return results


def problems(ctx, results):
    """Why a row that should have numbers has none (empty: all fine). A Linux
    guest that is not available is not a problem here; the caller skips."""
    out = []
    for r in results:
        if r.status != report.OK:
            continue
        for s in r.missing():
            if s != "linux" or ctx.linux:
                out.append(f"{r.arch} {r.machine} {r.title}: {s}: {r.errors.get(s, 'no number')}")
    return out


def run(targets, out_dir, cache, runs=DEFAULT_RUNS, quick=False, smoke=False, only=None):
    """Measure every arch in targets ({arch: build dir}), print and write the
    table; returns the exit status. only: measurement names, None for all."""
    info = report.machine_info(runs, smoke)
    results, trouble, no_linux = [], [], False
    for arch, build_dir in targets.items():
        try:
            measurements(only)
            ctx, versions = context(arch, build_dir, cache, runs, smoke, quick)
        except SetupError as e:
            say(str(e))
            return 1
        info["linux"][arch] = versions or ctx.linux_reason
        info["qemu"][arch] = report.qemu_version(qemu.ARCHES[arch][0])
        no_linux |= ctx.linux is None
        got = measure(ctx, only)
        trouble += problems(ctx, got)
        results += got
    info["load_average"]["after"] = report.load_average()
    print(report.write(out_dir, info, results), flush=True)
    say(f"written to {os.path.relpath(os.path.join(out_dir, 'results.md'))} and results.json")
    for t in trouble:
        say(f"FAILED: {t}")
    if trouble:
        return 1
    return SKIP if smoke and no_linux else 0


def main(argv):
    p = argparse.ArgumentParser(prog="bench.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--arch", required=True, choices=sorted(qemu.ARCHES))
    p.add_argument("--build-dir", required=True, help="the arch's meson build directory")
    p.add_argument("--cache", help="where the Linux guest is kept (default: BUILD_DIR/../bench/cache)")
    p.add_argument("--out", help="where results.md/json go (default: BUILD_DIR/../bench)")
    p.add_argument("--runs", type=int)
    p.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs, coarser searches")
    p.add_argument("--smoke", action="store_true", help="one short run of each row (the test)")
    p.add_argument("--only", action="append", metavar="NAME",
                   help="only this measurement (repeatable): " + ", ".join(
                       m.__name__ for m in rows.MEASUREMENTS))
    a = p.parse_args(argv)
    top = os.path.join(a.build_dir, "..", "bench")
    if a.runs is not None and a.runs < 1:
        p.error("--runs must be at least 1")
    runs = a.runs or (1 if a.smoke else QUICK_RUNS if a.quick else DEFAULT_RUNS)
    return run({a.arch: a.build_dir}, a.out or top, a.cache or os.path.join(top, "cache"),
               runs, a.quick, a.smoke, a.only)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
