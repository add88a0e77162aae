"""The rows of `./noos bench`: what each one measures, and how.

Each measurement is a function ctx -> [Result] listed in MEASUREMENTS. The
network rows boot a guest that serves through QEMU's user network with
hostfwd on 127.0.0.1 (net.py), or through a tap in a network namespace,
and drive it from the host: wrk against images/httpd and the Linux guest's
busybox httpd, iperf 2 against lwIP's lwiperf (tests/bench/iperf.c) and the
Linux guest's iperf. A row whose image is not built, or that cannot run here
(a tap without root), returns a not-available result that says so.
"""

import contextlib
import ctypes
import dataclasses
import mmap
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
import time

import guest
import linux
import net
import net_tap
import qemu
from report import Result, not_available

# Targets from DESIGN.md (Performance).
BOOT_OVER_FLOOR = 0.020  # s: boot within 20 ms of the floor, every machine type
Q35_SPEEDUP = 15  # on q35, at least 15x faster than the Linux guest
HTTPD_MAX_BYTES = 512 * 1024
HTTPD_MEM = "8M"


@dataclasses.dataclass
class Subject:
    """One thing the bench boots: a noos image, the Linux guest or the floor."""

    name: str  # noos | linux | floor
    kernel: str  # what -kernel takes
    marker: str  # its first line of application output
    expect_rc: int  # QEMU's exit status when it ran to the end
    initrd: str = None
    append: str = None
    size: int = None  # bytes of what boots (see image_bytes)
    size_note: str = ""
    timeout: float = 30.0  # a run taking longer has hung


@dataclasses.dataclass
class Ctx:
    arch: str
    machines: list  # QEMU machines the boot rows run on; the first is the default
    runs: int
    smoke: bool
    quick: bool
    images: dict  # image name -> (elf, bootable), from the build dir
    noos: Subject  # tests/bench/boot.c: print a line, exit
    floor: Subject
    linux: Subject = None  # None: not available, linux_reason says why
    linux_reason: str = ""
    linux_guest: object = None  # linux.Guest, for other kernel command lines
    typical: dict = dataclasses.field(default_factory=dict)  # subject -> median boot (s), default machine

    def subjects(self):
        return [s for s in (self.noos, self.linux, self.floor) if s]

    def linux_error(self):
        return {} if self.linux else {"linux": self.linux_reason}


class BootFailed(Exception):
    pass


def config(ctx, subject, machine, mem="128M", smp=1):
    """The same QEMU command line for every subject (tests/harness/qemu.py), plus its initrd."""
    extra = ["-initrd", subject.initrd] if subject.initrd else []
    return qemu.Config(arch=ctx.arch, kernel=subject.kernel, machine=machine, mem=mem, smp=smp,
                       append=subject.append, extra=extra)


def boot_once(ctx, subject, machine, mem="128M"):
    """Boot once; (seconds to the marker line, seconds to QEMU's exit).
    Raises BootFailed unless the marker appeared and QEMU exited as expected."""
    seen = {"tail": "", "at": None}
    keep = len(subject.marker)

    def echo(text):  # serial output, as it arrives
        if seen["at"] is None:
            buf = seen["tail"] + text
            if subject.marker in buf:
                seen["at"] = time.monotonic()
            seen["tail"] = buf[-keep:]

    t0 = time.monotonic()
    run_checked(ctx, subject, machine, mem, echo)
    t_exit = time.monotonic() - t0
    return seen["at"] - t0, t_exit


def run_checked(ctx, subject, machine, mem="128M", echo=None):
    """One boot that must print the marker and exit as expected; its Outcome."""
    out = qemu.run(config(ctx, subject, machine, mem), timeout=subject.timeout, echo=echo)
    if out.timed_out or out.qemu_failed or out.qemu_status != subject.expect_rc:
        why = out.describe() if out.timed_out or out.qemu_failed else \
            f"QEMU exited {out.qemu_status}, not {subject.expect_rc}"
        raise BootFailed(f"{why}; last output: {last_line(out.output)!r}")
    if subject.marker not in out.output:
        raise BootFailed(f"no {subject.marker!r} line; last output: {last_line(out.output)!r}")
    return out


def last_line(text):
    lines = [ln.strip() for ln in text.replace("\r", "").splitlines() if ln.strip()]
    return lines[-1][:160] if lines else ""


# ---------------------------------------------------------------- boot

def host_tsc_khz():
    """The host's TSC rate in kHz, or None. Under TCG on an x86_64 host, a
    guest's RDTSC counts the host's TSC (QEMU's cpu_get_host_ticks), so this
    is the guest's TSC rate on every machine. Read with RDTSC itself (Intel
    SDM vol. 2B, RDTSC: EDX:EAX), from a few bytes of code on an executable
    page, against the monotonic clock over 20 ms, median of five."""
    if platform.machine() != "x86_64":
        return None
    code = bytes([0x0f, 0x31,  # rdtsc
                  0x48, 0xc1, 0xe2, 0x20,  # shl $32, %rdx
                  0x48, 0x09, 0xd0,  # or %rdx, %rax
                  0xc3])  # ret
    try:
        page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except OSError:
        return None  # no executable mappings allowed here
    page.write(code)
    rdtsc = ctypes.CFUNCTYPE(ctypes.c_uint64)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
    rates = []
    for _ in range(5):
        t0, c0 = time.perf_counter_ns(), rdtsc()
        time.sleep(0.02)
        c1, t1 = rdtsc(), time.perf_counter_ns()
        rates.append((c1 - c0) * 1e6 / (t1 - t0))
    return round(statistics.median(rates))


def linux_on(ctx, machine):
    """(the Linux subject for machine, a note). Under TCG, Linux on microvm
    cannot always calibrate its TSC: there is no HPET or ACPI PM timer to check
    the PIT against, and when the host is busy it gives up, marks the TSC
    unstable and hangs with no clock. There it is told the TSC rate with
    tsc_early_khz= (Documentation/admin-guide/kernel-parameters.txt), as a
    hypervisor's paravirtual clock would tell it."""
    if not ctx.linux or machine != "microvm" or ctx.arch != "x86_64":
        return ctx.linux, ""
    khz = host_tsc_khz()
    if not khz:
        return ctx.linux, "Linux: the host's TSC rate is unknown, so it calibrates its own"
    extra = f"tsc_early_khz={khz}"
    return (dataclasses.replace(ctx.linux, append=ctx.linux_guest.append("boot", extra)),
            f"Linux: {extra}, the host's TSC rate (its own calibration fails under TCG here)")


def boot_target(r):
    """Within 20 ms of the floor; on q35 also >= 15x faster than Linux (medians)."""
    over, ratio = r.over_floor(), r.ratio()
    if over is None:
        return None
    met = over <= BOOT_OVER_FLOOR
    if r.machine == "q35":
        if ratio is None:
            return None if met else False  # without Linux only half of it can be told
        met = met and ratio <= 1 / Q35_SPEEDUP
    return met


def boot(ctx):
    """Boot to the first line of application output and to QEMU's exit, for
    an image that prints and powers off at once: noos (boot.c prints, returns
    3), the Linux guest (/init prints, poweroff -f) and the floor. The subjects
    take turns, the order rotating each round, so that a change in the
    machine's load falls on all of them alike."""
    results = []
    for machine in ctx.machines:
        target = f"≤ floor + {BOOT_OVER_FLOOR * 1000:.0f} ms"
        if machine == "q35":
            target += f"; ≥ {Q35_SPEEDUP}× faster than Linux"
        first = Result("boot-first-line", "boot to first line of output", ctx.arch, machine,
                       "s", target=target, errors=ctx.linux_error())
        done = Result("boot-exit", "boot to QEMU exit (powers off at once)", ctx.arch, machine,
                      "s", target=target, errors=dict(ctx.linux_error()))
        linux, note = linux_on(ctx, machine)
        subjects = [s for s in (ctx.noos, linux, ctx.floor) if s]
        for i in range(ctx.runs):
            k = i % len(subjects)
            for s in subjects[k:] + subjects[:k]:
                if s.name in done.errors:
                    continue  # it failed once here: the row says why
                try:
                    t_first, t_exit = boot_once(ctx, s, machine)
                except BootFailed as e:
                    first.errors[s.name] = done.errors[s.name] = str(e)
                    continue
                first.samples.setdefault(s.name, []).append(t_first)
                done.samples.setdefault(s.name, []).append(t_exit)
        if machine == ctx.machines[0]:
            ctx.typical = {s: done.median(s) for s in done.samples}
        for r in (first, done):
            r.met = boot_target(r)
            r.note = f"{ctx.runs} run{'s' if ctx.runs > 1 else ''} each" + (f"; {note}" if note else "")
        results += [first, done]
    return results


# ---------------------------------------------------------------- image size

def image_bytes(arch, elf, bootable):
    """(bytes, what was counted): the arm64 Image as QEMU loads it; on x86_64
    the ELF QEMU loads, without its symbols and debug sections."""
    if arch == "aarch64":
        return os.path.getsize(bootable), "arm64 Image"
    strip = shutil.which("llvm-strip") or shutil.which("llvm-strip-14")
    if not strip:
        return os.path.getsize(elf), "ELF with symbols (llvm-strip not found)"
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "stripped.elf")
        subprocess.run([strip, "--strip-all", "-o", out, elf], check=True)
        return os.path.getsize(out), "stripped ELF"


def image_size(ctx):
    """Bytes of the bootable image: hello (and httpd) against the Linux
    guest's kernel + initramfs and the floor."""
    r = Result("size-hello", "image size: hello", ctx.arch, unit="bytes", errors=ctx.linux_error())
    size, what = image_bytes(ctx.arch, *ctx.images["hello"])
    r.samples["noos"] = [size]
    notes = [f"noos: {what}"]
    for s in (ctx.linux, ctx.floor):
        if s:
            r.samples[s.name] = [s.size]
            notes.append(s.size_note)
    r.note = "; ".join(notes)
    results = [r]
    if "httpd" in ctx.images:
        h = Result("size-httpd", "image size: httpd", ctx.arch, unit="bytes",
                   target=f"< {HTTPD_MAX_BYTES // 1024} KiB", expect=("noos", "linux"),
                   errors=ctx.linux_error())
        size, what = image_bytes(ctx.arch, *ctx.images["httpd"])
        h.samples["noos"] = [size]
        if ctx.linux:  # one initramfs serves every /init mode, httpd's modules included
            h.samples["linux"] = [ctx.linux.size]
        h.met = size < HTTPD_MAX_BYTES
        h.note = f"noos: {what}; Linux: kernel + initramfs (busybox, virtio_net modules)"
        results.append(h)
    else:
        results.append(not_available("size-httpd", "image size: httpd", ctx.arch,
                                     "needs images/httpd", unit="bytes",
                                     target=f"< {HTTPD_MAX_BYTES // 1024} KiB"))
    return results


# ---------------------------------------------------------------- memory

def smallest(boots, lo, hi, step):
    """The smallest m in [lo, hi] with boots(m), to within step, assuming
    that more memory never hurts; None if it does not boot even with hi."""
    if not boots(hi):
        return None
    if boots(lo):
        return lo
    while hi - lo > step:  # boots(hi), not boots(lo)
        mid = (lo + hi) // 2
        if boots(mid):
            hi = mid
        else:
            lo = mid
    return hi


def memory_search(ctx, machine, subject, lo, hi, step):
    # Too little memory can also hang (an image loaded past the end of RAM):
    # a probe that takes several times a normal boot has failed.
    typical = ctx.typical.get(subject.name)
    if typical:
        subject = dataclasses.replace(subject, timeout=min(subject.timeout, max(5.0, 5 * typical)))

    def boots(mib):
        try:
            boot_once(ctx, subject, machine, mem=f"{mib}M")
            return True
        except BootFailed:
            return False
    return smallest(boots, lo, hi, step)


def smallest_memory(ctx):
    """The smallest -m (MiB) with which noos still boots, prints its line
    and exits, against the Linux guest doing the same. The floor needs none
    to speak of. A binary search: each probe is one boot."""
    machine = ctx.machines[0]
    r = Result("mem-boot", "smallest -m to boot and print", ctx.arch, machine, "MiB",
               errors=ctx.linux_error(), expect=("noos", "linux"))
    # The Linux guest's search is coarser where time is short (one probe is a
    # Linux boot); the step is in the note, and the number is the least -m seen to work.
    linux_step = 64 if ctx.smoke else 8 if ctx.quick else 1
    plan = [(ctx.noos, 1, 128, 1)]
    if ctx.linux:
        plan.append((ctx.linux, 64, 128, linux_step) if ctx.smoke else (ctx.linux, 16, 512, linux_step))
    for s, lo, hi, step in plan:
        v = memory_search(ctx, machine, s, lo, hi, step)
        if v is None:
            r.errors[s.name] = f"does not boot even with -m {hi}M"
        else:
            r.samples[s.name] = [v]
    r.note = f"noos to 1 MiB, Linux to {linux_step} MiB"
    return [r] + smallest_httpd_memory(ctx)


# ---------------------------------------------------------------- network

HTTPD_READY = "^httpd: listening"
WRK_CONNECTIONS = 8


def pending(ctx, id, title, unit, needs, reason, target="—"):
    """A row that waits for images: what it waits for while they are missing,
    and, once they exist, that its function is still to be written."""
    missing = [n for n in needs if n not in ctx.images]
    if not missing:
        reason = f"images/{needs[0]} exists, but this row is not written yet (tests/bench/rows.py)"
    return not_available(id, title, ctx.arch, reason, ctx.machines[0], unit, target)


def servers(ctx):
    """[(name, Subject, ready regex)]: noos's images/httpd and the Linux
    guest's busybox httpd (its /init in httpd mode)."""
    elf, boot_ = ctx.images["httpd"]
    out = [("noos", Subject("noos", boot_, HTTPD_READY, 0), HTTPD_READY)]
    if ctx.linux:
        lx = dataclasses.replace(ctx.linux, append=ctx.linux_guest.append("httpd"))
        out.append(("linux", lx, "^" + linux.HTTPD_READY))
    return out


def wrk_seconds(ctx):
    return 1 if ctx.smoke else 3 if ctx.quick else 5


def serve_and(ctx, subject, ready, smp, mem, work, timeout=90.0):
    """Boot subject serving HTTP under ctx's machine; work(host port) once ready."""
    cfg = config(ctx, subject, ctx.machines[0], mem=mem, smp=smp)
    with net.serving(cfg, ready, timeout=timeout) as port:
        return work(port)


def http_rows(ctx, smp_list, close=True, with_linux=True):
    """{(mode, smp): (rps Result, p99 Result)} measured in turns, noos and Linux;
    keep-alive, and `Connection: close` unless close is False."""
    modes = (("keepalive", "keep-alive", False), ("close", "Connection: close", True))
    modes = modes if close else modes[:1]
    expect = ("noos", "linux") if with_linux else ("noos",)
    errors = ctx.linux_error() if with_linux else {}
    rows = {}
    for mode, label, _ in modes:
        for smp in smp_list:
            sfx = "" if smp == 1 else f"-smp{smp}"
            t = f" -smp {smp}" if smp != 1 else ""
            rows[(mode, smp)] = (
                Result(f"http-rps-{mode}{sfx}", f"HTTP req/s, {label}{t} (wrk)", ctx.arch,
                       ctx.machines[0], "req/s", target="≥ Linux", errors=dict(errors),
                       expect=expect),
                Result(f"http-p99-{mode}{sfx}", f"HTTP p99 latency, {label}{t} (wrk)", ctx.arch,
                       ctx.machines[0], "s", errors=dict(errors), expect=expect))
    secs = wrk_seconds(ctx)
    subjects = servers(ctx) if with_linux else servers(ctx)[:1]
    for i in range(ctx.runs):
        k = i % len(subjects)
        for name, subject, ready in subjects[k:] + subjects[:k]:
            for smp in smp_list:
                def work(port, smp=smp):
                    for mode, _, close in modes:
                        rps, p99 = net.wrk(port, secs, WRK_CONNECTIONS, close)
                        rows[(mode, smp)][0].samples.setdefault(name, []).append(rps)
                        rows[(mode, smp)][1].samples.setdefault(name, []).append(p99)
                try:
                    serve_and(ctx, subject, ready, smp, "128M", work)
                except (net.NetFailed, BootFailed) as e:
                    for r in rows.values():
                        for x in r:
                            if smp_of(x) == smp:
                                x.errors.setdefault(name, str(e))
    note = (f"{ctx.runs} run{'s' if ctx.runs > 1 else ''} each, wrk -t1 -c{WRK_CONNECTIONS} "
            f"-d{secs}s through hostfwd 127.0.0.1; Linux: busybox httpd"
            + ("" if with_linux else ", not run in the smoke test"))
    for rps, p99 in rows.values():
        rps.note = p99.note = note
        r = rps.ratio()
        rps.met = None if r is None else r >= 1
    return rows


def smp_of(result):
    m = re.search(r"-smp(\d+)$", result.id)
    return int(m.group(1)) if m else 1


def http(ctx):
    """HTTP requests/s and p99 latency: wrk, bounded (fixed duration and
    connection count), against noos's httpd and the Linux guest's busybox
    httpd through hostfwd on 127.0.0.1, keep-alive and `Connection: close`."""
    if "httpd" not in ctx.images:
        return [pending(ctx, "http-rps-keepalive", "HTTP req/s (wrk)", "req/s", ("httpd",),
                        "needs images/httpd", "≥ Linux")]
    got = http_rows(ctx, [1])
    return [x for pair in got.values() for x in pair]


IPERF_READY = "^bench-iperf: ready"  # tests/bench/iperf.c, once lwiperf's server listens
WAYS = (("tx", "guest → host"), ("rx", "host → guest"))
LINKS = ("hostfwd", "tap")
# The tap rows: the namespace's side and the guest's static address on it.
TAP_PEER, TAP_GUEST = net_tap.PEER4, net_tap.GUEST4


def iperf_seconds(ctx):
    """How long each way is measured; under the guests' 10 s client (linux.py)."""
    return 2 if ctx.smoke else 3 if ctx.quick else 5


def iperf_subjects(ctx):
    """[(name, fn(link, peer) -> Subject)]: noos's bench-iperf (lwiperf) and
    Debian's iperf in the Linux guest (its /init in iperf mode), each with
    an iperf 2 server on port 5001 and a client to peer (ADDR:PORT)."""
    elf, boot_ = ctx.images["bench-iperf"]

    def noos(link, peer):
        addr = f" ip={TAP_GUEST}/24 gw={TAP_PEER}" if link == "tap" else ""
        return Subject("noos", boot_, IPERF_READY, 0, append=f"iperf_client={peer}{addr}")
    out = [("noos", noos)]
    if ctx.linux:
        g = ctx.linux_guest

        def lx(link, peer):
            addr = f" bench_ip={TAP_GUEST}/24" if link == "tap" else ""
            return dataclasses.replace(ctx.linux, marker="^" + linux.IPERF_READY,
                                       initrd=g.iperf_initrd,
                                       append=g.append("iperf", f"iperf_client={peer}{addr}"))
        out.append(("linux", lx))
    return out


def tap_unavailable():
    """Why the tap rows cannot run here, or ''."""
    if os.geteuid() != 0:
        return "needs root (a tap device in a network namespace); not run"
    if not shutil.which("ip") or not os.path.exists("/dev/net/tun"):
        return "needs iproute2 and /dev/net/tun"
    return ""


def iperf_boot(ctx, subject, link, seconds, ns=None):
    """Boot subject with its iperf client pointed at a host `iperf -s`; (tx, rx)
    MB/s: what that server got in its first seconds, then one `iperf -c` to
    the guest's server. link: hostfwd (QEMU's user network: the host is the
    guest's 10.0.2.2, the guest's port 5001 is forwarded from 127.0.0.1) or
    tap (QEMU, both iperfs in the namespace ns)."""
    prefix = ["ip", "netns", "exec", ns.name] if link == "tap" else []
    here = TAP_PEER if link == "tap" else "127.0.0.1"
    port = guest.free_port("tcp")
    with net.IperfServer(here, port, prefix) as srv:
        s = subject(link, f"{TAP_PEER if link == 'tap' else '10.0.2.2'}:{port}")
        cfg = config(ctx, s, ctx.machines[0])
        if link == "tap":
            cfg = dataclasses.replace(cfg, net="tap", tap="tap0", prefix=prefix)
            up = net.booted(cfg, s.marker)
        else:
            up = net.serving_ports(cfg, s.marker, [linux.IPERF_PORT])
        with up as fwd:
            tx = srv.rate(seconds, timeout=seconds + 30)
            srv.stop()  # cuts the guest's client short: it would send for 10 s
            if link == "tap":
                return tx, net.iperf_send(TAP_GUEST, linux.IPERF_PORT, seconds, prefix)
            return tx, net.iperf_send(here, fwd[linux.IPERF_PORT], seconds)


@contextlib.contextmanager
def namespace():
    """A network namespace with tap0 (tests/harness/net_tap.py), deleted on leaving."""
    ns = net_tap.Namespace()
    ns.name = f"noos-bench-{os.getpid()}"
    try:
        ns.create()
        yield ns
    finally:
        ns.delete()


def tcp_bulk(ctx):
    """TCP bulk MB/s each way, through hostfwd on 127.0.0.1 and through a tap
    in a network namespace (as root): iperf 2 on the host against lwIP's
    lwiperf in noos (tests/bench/iperf.c) and against Debian's iperf in the
    Linux guest. guest → host: the guest's client sends to a host `iperf
    -s`, which reports each second; host → guest: `iperf -c` for the same
    time. Each boot measures both ways; the subjects take turns."""
    results, live = [], {}
    no_tap = tap_unavailable()
    for link in LINKS:
        for w, label in WAYS:
            id_, title = f"tcp-{link}-{w}", f"TCP bulk {label}, {link} (iperf 2)"
            if "bench-iperf" not in ctx.images:
                results.append(pending(ctx, id_, title, "MB/s", ("bench-iperf",),
                                       "needs tests/bench/bench-iperf (build it)", "≥ Linux"))
            elif link == "tap" and no_tap:
                results.append(not_available(id_, title, ctx.arch, no_tap, ctx.machines[0],
                                             "MB/s", "≥ Linux"))
            else:
                live[(link, w)] = Result(id_, title, ctx.arch, ctx.machines[0], "MB/s",
                                         target="≥ Linux", errors=ctx.linux_error(),
                                         expect=("noos", "linux"))
                results.append(live[(link, w)])
    links = sorted({link for link, _ in live}, key=LINKS.index)
    if links:
        measure_bulk(ctx, links, live)
    return results


def measure_bulk(ctx, links, rows):
    seconds = iperf_seconds(ctx)
    subjects = iperf_subjects(ctx)
    with contextlib.ExitStack() as stack:
        ns = None
        if "tap" in links:
            try:
                ns = stack.enter_context(namespace())
            except (OSError, subprocess.CalledProcessError) as e:
                for (link, _), r in rows.items():
                    if link == "tap":
                        r.errors.update({n: f"no network namespace with a tap: {e}"
                                         for n, _ in subjects})
                links = [x for x in links if x != "tap"]
        for i in range(ctx.runs):
            k = i % len(subjects)
            for name, subject in subjects[k:] + subjects[:k]:
                for link in links:
                    try:
                        got = iperf_boot(ctx, subject, link, seconds, ns)
                    except (net.NetFailed, OSError, subprocess.CalledProcessError) as e:
                        for w, _ in WAYS:
                            rows[(link, w)].errors.setdefault(name, str(e))
                        continue
                    for (w, _), v in zip(WAYS, got):
                        rows[(link, w)].samples.setdefault(name, []).append(v)
    for (link, w), r in rows.items():
        ratio = r.ratio()
        r.met = None if ratio is None else ratio >= 1
        way = ("the guest's client to a host iperf -s, its first "
               f"{seconds} s" if w == "tx" else f"iperf -c for {seconds} s to the guest's server")
        where = ("hostfwd 127.0.0.1, QEMU's user network" if link == "hostfwd" else
                 "a tap in a network namespace, static addresses")
        r.note = (f"{ctx.runs} run{'s' if ctx.runs > 1 else ''} each, {way}; through {where}; "
                  "noos: lwIP's lwiperf; Linux: Debian's iperf 2")


def smp_scaling(ctx):
    """httpd requests/s (keep-alive) at -smp 2 and 4, beside -smp 1 in the HTTP row."""
    if "httpd" not in ctx.images:
        return [pending(ctx, f"smp-{n}", f"HTTP req/s, keep-alive, -smp {n}", "req/s",
                        ("httpd",), "needs images/httpd") for n in (2, 4)]
    # The smoke test keeps to keep-alive and noos here (each mode at each
    # -smp is a boot; the HTTP row already shows the Linux guest serving).
    got = http_rows(ctx, [2, 4], close=not ctx.smoke, with_linux=not ctx.smoke)
    return [got[(m, n)][0] for m in ("keepalive", "close") for n in (2, 4) if (m, n) in got]


def httpd_serves(ctx, subject, ready, mib):
    try:
        # Too little memory may hang rather than fail: a probe is bounded.
        return serve_and(ctx, subject, ready, 1, f"{mib}M", net.answers,
                         timeout=20.0 if subject.name == "noos" else 60.0)
    except (net.NetFailed, BootFailed):
        return False


def smallest_httpd_memory(ctx):
    """The smallest -m (MiB) with which httpd boots and answers a GET through
    hostfwd, noos against the Linux guest's busybox httpd."""
    machine = ctx.machines[0]
    target = f"≤ {HTTPD_MEM[:-1]} MiB"
    if "httpd" not in ctx.images:
        return not_available("mem-httpd", "smallest -m where httpd serves", ctx.arch,
                             "needs images/httpd", machine, "MiB", target=target)
    r = Result("mem-httpd", "smallest -m where httpd serves", ctx.arch, machine, "MiB",
               target=target, errors=ctx.linux_error(), expect=("noos", "linux"))
    linux_step = 8 if ctx.quick else 2
    noos_plan = (8, 128, 120) if ctx.smoke else (2, 128, 1)
    # The smoke test probes the Linux guest at most once: its boots are slow,
    # and the HTTP row already shows it serving.
    for name, subject, ready in servers(ctx):
        if name == "linux" and ctx.smoke:
            r.expect = ("noos",)
            r.errors.pop("linux", None)
            continue
        lo, hi, step = noos_plan if name == "noos" else \
            (16, 512, linux_step)
        v = smallest(lambda m: httpd_serves(ctx, subject, ready, m), lo, hi, step)
        if v is None:
            r.errors[name] = f"does not serve even with -m {hi}M"
        else:
            r.samples[name] = [v]
    n = r.median("noos")
    r.met = None if n is None else n <= int(HTTPD_MEM[:-1])
    r.note = (f"noos searched {noos_plan[0]}–{noos_plan[1]} MiB to {noos_plan[2]} MiB, "
              + ("Linux not searched in the smoke test" if ctx.smoke else
                 f"Linux to {linux_step} MiB") + "; serving = a GET / through hostfwd answered 200")
    return [r]


# In table order. Each returns a list of Results.
MEASUREMENTS = [boot, image_size, smallest_memory, http, tcp_bulk, smp_scaling]
