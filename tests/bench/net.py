"""Network plumbing of `./noos bench`: a guest serving through QEMU's user
network with a port forwarded from 127.0.0.1, and wrk against it.

serving() boots a subject in the background (guest.py's Background), waits
for its ready line and yields the host port; the guest is killed on leaving.
wrk() runs one bounded wrk (fixed duration, threads and connections) and
returns requests/s and the p99 latency from its --latency report.
"""

import contextlib
import dataclasses
import re
import shutil
import socket
import subprocess
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
    bg = guest.Background(cfg, timeout=timeout + 300)
    try:
        if not bg.wait_for(ready, time.monotonic() + timeout):
            tail = guest.plain(bg.text).strip().splitlines()[-1:] or [""]
            why = "exited" if not bg.thread.is_alive() else f"not within {timeout:.0f} s"
            raise NetFailed(f"no {ready!r} line ({why}); last output: {tail[0][:160]!r}")
        yield fwd
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


def wrk(port, seconds, connections, close=False, path="/"):
    """One bounded wrk run (one thread) against 127.0.0.1:port; (req/s, p99 s)."""
    if not shutil.which("wrk"):
        raise NetFailed("wrk is not installed (./noos setup installs it)")
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency"]
    if close:
        argv += ["-H", "Connection: close"]
    argv.append(f"http://127.0.0.1:{port}{path}")
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        raise NetFailed(f"wrk did not finish within {seconds + 30} s") from None
    if p.returncode != 0:
        raise NetFailed(f"wrk failed ({p.returncode}): {p.stderr.strip()[-300:]}")
    rps, p99, bad = parse_wrk(p.stdout)
    if bad or rps <= 0:
        raise NetFailed(f"wrk: {bad} non-2xx responses, {rps} req/s")
    return rps, p99


MIB = 1 << 20


def connect(port, hello=b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    if hello:
        s.sendall(hello)
    return s


def send_bulk(port, nbytes, hello=b""):
    """MB/s host -> guest: send nbytes, half-close, and wait until the guest
    has taken them all (it answers or closes only after reading to the end)."""
    block = bytes(1 << 16)
    start = time.monotonic()
    with connect(port, hello) as s:
        left = nbytes
        while left:
            left -= s.send(block[:min(left, len(block))])
        s.shutdown(socket.SHUT_WR)
        while s.recv(1 << 12):
            pass
        seconds = time.monotonic() - start
    return nbytes / seconds / 1e6


def receive_bulk(port, nbytes, hello=b""):
    """MB/s guest -> host: read nbytes from a guest that sends at least that many."""
    start = time.monotonic()
    with connect(port, hello) as s:
        got = 0
        while got < nbytes:
            chunk = s.recv(1 << 16)
            if not chunk:
                raise NetFailed(f"the guest sent {got} of {nbytes} bytes")
            got += len(chunk)
        seconds = time.monotonic() - start
    return nbytes / seconds / 1e6


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

