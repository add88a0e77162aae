"""Network plumbing of `./noos bench`: a guest serving through QEMU's user
network with a port forwarded from 127.0.0.1, wrk and iperf 2 against it.

booted() boots a subject in the background (guest.py's Background) and waits
for its ready line; serving() does so with a port forwarded and yields the
host port; the guest is killed on leaving. wrk() runs one bounded wrk (fixed
duration, threads and connections) and returns requests/s and the p99
latency from its --latency report. IperfServer is a host-side `iperf -s`
that tells what one connection delivered in its first seconds (guest ->
host); iperf_send() is a bounded `iperf -c` (host -> guest). Both read
iperf's CSV report (-y C), and take a prefix (`ip netns exec NS`) to run in
a network namespace.
"""

import contextlib
import dataclasses
import re
import shutil
import subprocess
import threading
import time

import guest

HTTP_PORT = 80


class NetFailed(Exception):
    pass


@contextlib.contextmanager
def serving(cfg, ready, port=HTTP_PORT, timeout=90.0):
    """Boot cfg with net user and guest port forwarded from a free port on
    127.0.0.1; yield that port once the serial output matches ready."""
    with serving_ports(cfg, ready, [port], timeout) as ports:
        yield ports[port]


@contextlib.contextmanager
def serving_ports(cfg, ready, guest_ports, timeout=90.0):
    """serving() for several guest TCP ports: yields {guest port: host port}."""
    fwd = {g: guest.free_port("tcp") for g in guest_ports}
    cfg = dataclasses.replace(cfg, net="user", fwd=[f"tcp:{h}:{g}" for g, h in fwd.items()])
    with booted(cfg, ready, timeout):
        yield fwd


@contextlib.contextmanager
def booted(cfg, ready, timeout=90.0):
    """Boot cfg in the background; yield once its serial output matches ready."""
    bg = guest.Background(cfg, timeout=timeout + 300)
    try:
        if not bg.wait_for(ready, time.monotonic() + timeout):
            tail = guest.plain(bg.text).strip().splitlines()[-1:] or [""]
            why = "exited" if not bg.thread.is_alive() else f"not within {timeout:.0f} s"
            raise NetFailed(f"no {ready!r} line ({why}); last output: {tail[0][:160]!r}")
        yield bg
    finally:
        bg.stop()


def wrk_seconds(text):
    """wrk's latency figure ("812.00us", "3.21ms", "1.02s", "2.00m") in seconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise NetFailed(f"wrk printed a latency of {text!r}")
    return float(m.group(1)) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[m.group(2)]


def parse_wrk(out):
    """(requests/s, p99 latency in s, non-2xx/socket errors) from wrk --latency's report."""
    rps = re.search(r"^Requests/sec:\s*([\d.]+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    if not rps or not p99:
        raise NetFailed(f"wrk's report has no Requests/sec or 99% line: {out.strip()[-300:]!r}")
    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    return float(rps.group(1)), wrk_seconds(p99.group(1)), int(bad.group(1)) if bad else 0


def bounded(argv, timeout, what):
    """Run argv for at most timeout seconds; its stdout, or NetFailed."""
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise NetFailed(f"{what} did not finish within {timeout} s") from None
    if p.returncode != 0:
        raise NetFailed(f"{what} failed ({p.returncode}): {(p.stderr or p.stdout).strip()[-300:]}")
    return p.stdout


def wrk(port, seconds, connections, close=False, path="/"):
    """One bounded wrk run (one thread) against 127.0.0.1:port; (req/s, p99 s)."""
    if not shutil.which("wrk"):
        raise NetFailed("wrk is not installed (./noos setup installs it)")
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency"]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append(f"http://127.0.0.1:{port}{path}")
    rps, p99, bad = parse_wrk(bounded(argv, seconds + 30, "wrk"))
    if bad or rps <= 0:
        raise NetFailed(f"wrk: {bad} non-2xx responses, {rps} req/s")
    return rps, p99


@dataclasses.dataclass
class IperfLine:
    """One line of iperf 2's CSV report (-y C): a connection's bytes over an interval."""

    conn: str  # local and remote address and port, and iperf's transfer id
    start: float  # s since the connection began
    end: float
    nbytes: int


def parse_iperf_csv(text):
    """[IperfLine] of the report lines in text (timestamp, local address,
    local port, remote address, remote port, id, "START-END", bytes, bits/s),
    skipping anything else iperf printed (warnings, a reset peer)."""
    out = []
    for line in text.splitlines():
        f = line.strip().split(",")
        if len(f) < 9:
            continue
        m = re.fullmatch(r"(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)", f[6])
        if not m or not f[7].isdigit():
            continue
        out.append(IperfLine(",".join(f[1:6]), float(m.group(1)), float(m.group(2)), int(f[7])))
    return out


def iperf_total(lines):
    """MB/s of a finished `iperf -c`: its summary line (the one spanning the most time)."""
    if not lines:
        raise NetFailed("iperf printed no report line")
    s = max(lines, key=lambda x: x.end - x.start)
    if s.end <= s.start or s.nbytes <= 0:
        raise NetFailed(f"iperf reported {s.nbytes} bytes in {s.start}-{s.end} s")
    return s.nbytes / (s.end - s.start) / 1e6


def iperf_first(lines, seconds, interval=1.0):
    """MB/s over the first `seconds` of the first connection, from the interval
    lines (-i interval) of a receiving `iperf -s`; None until they cover it.
    A summary line (longer than an interval) is not counted."""
    lines = [x for x in lines if x.conn == lines[0].conn] if lines else []
    steps = [x for x in lines if x.end - x.start <= interval * 1.5 and x.start < seconds]
    covered = sum(x.end - x.start for x in steps)
    if covered < seconds - interval / 2:
        return None
    return sum(x.nbytes for x in steps) / covered / 1e6


IPERF_INTERVAL = 1.0


def iperf_argv(prefix, *args):
    if not shutil.which("iperf"):
        raise NetFailed("iperf is not installed (./noos setup installs it)")
    return list(prefix) + ["iperf", "-y", "C"] + [str(a) for a in args]


class IperfServer:
    """`iperf -s` on addr:port for one connection from the guest, reporting
    every IPERF_INTERVAL s; stopped (and so the guest's connection cut) on
    leaving the with block or by stop()."""

    def __init__(self, addr, port, prefix=()):
        self.proc = subprocess.Popen(
            iperf_argv(prefix, "-s", "-B", addr, "-p", port, "-i", IPERF_INTERVAL),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.text = ""
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.text += line
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def rate(self, seconds, timeout):
        """MB/s over the first `seconds` of the guest's connection."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while (v := iperf_first(parse_iperf_csv(self.text), seconds, IPERF_INTERVAL)) is None:
                left = deadline - time.monotonic()
                if left <= 0 or not self.reader.is_alive():
                    why = "exited" if not self.reader.is_alive() else f"not within {timeout:.0f} s"
                    raise NetFailed(f"iperf -s: no {seconds} s of data from the guest ({why}); "
                                    f"it printed {self.text.strip()[-200:]!r}")
                self.cond.wait(min(left, 0.5))
        return v

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def iperf_send(addr, port, seconds, prefix=()):
    """MB/s host -> guest: one `iperf -c` for `seconds`, bounded; the rate
    its summary reports (bytes written over the test's time)."""
    argv = iperf_argv(prefix, "-c", addr, "-p", port, "-t", seconds)
    return iperf_total(parse_iperf_csv(bounded(argv, seconds + 30, "iperf -c")))


def answers(port, path="/", timeout=10.0):
    """True if one GET of path through port is answered 200."""
    import http.client
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", path, headers={"Connection": "close"})
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False

