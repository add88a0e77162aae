#!/usr/bin/env python3
"""Soak images/httpd: load for a long while, then check that it left nothing
behind. guest.py --host-check runs this (`./noos test soak`, not part of CI).

  1. warm up (a short load, so caches and pools that grow once have grown),
     wait until only our own connection is open, and read /stats: the baseline
  2. rounds of wrk until --minutes have passed: keep-alive rounds and rounds
     of one connection per request (Connection: close: accept and close churn,
     the server closing first), over /hello, / and /stats, with pipelined
     batches from a Python client beside them; every response must be 2xx and
     no connection may break
  3. wait until the connections are closed and TIME_WAIT is over (lwIP keeps
     the control block of a connection the server closed first for 2 MSL = 2
     minutes), then until what noos and lwIP hold comes back to the baseline:
     heap objects and bytes, lwIP's pbufs, pool elements and heap bytes, open
     sockets

    http_soak.py PORT [--minutes M] [--connections N]

Only 127.0.0.1 is contacted. Exit status 0 when nothing grew.
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import http_check  # noqa: E402

TIME_WAIT_S = 125  # lwIP keeps a connection the server closed first for 2 MSL = 120 s
SETTLE_S = 90     # and then, at most this long for the counters to come back
# What may differ from the baseline at rest: a few pool elements and heap blocks belong
# to timers and ARP/ND state that come and go; growth with load is far beyond these.
SLACK = {"heap_objects": 8, "heap_bytes": 32768, "pbufs": 2, "memp_used": 8, "mem_used": 4096,
         "sockets": 0}


def measure(port):
    s = http_check.stats(port)
    return {"heap_objects": s["memory"]["heap_objects"], "heap_bytes": s["memory"]["heap_bytes"],
            "pbufs": s["network"]["lwip"]["pbufs"], "memp_used": s["network"]["lwip"]["memp_used"],
            "mem_used": s["network"]["lwip"]["mem_used"], "sockets": s["sockets"]["open"],
            "requests": s["requests"]["total"], "bad": s["requests"]["bad"],
            "mem_errors": s["network"]["lwip"]["mem_errors"]}


def wrk(port, path, seconds, connections, close):
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    if close:
        argv += ["-H", "Connection: close"]
    out = subprocess.run(argv + [f"http://127.0.0.1:{port}{path}"], capture_output=True,
                         text=True, timeout=seconds + 120)
    m = re.search(r"(\d+) requests in", out.stdout)
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out.stdout)
    problems = []
    if out.returncode != 0 or not m:
        problems.append(f"wrk failed: {out.stderr.strip()}")
    if "Non-2xx" in out.stdout:
        problems.append("responses other than 2xx")
    # With Connection: close, wrk counts the server's FIN after each answer as a read
    # "error" on some versions; only keep-alive rounds must be free of them.
    if e and not close and (e.group(2) != "0" or e.group(3) != "0"):
        problems.append(e.group(0))
    return (int(m.group(1)) if m else 0), problems


def pipeliner(port, stop, errors):
    """Batches of pipelined requests on fresh connections, checked byte for byte."""
    mix = ["/hello", "/", "HEAD /", "/missing", "/style.css"] * 8
    while not stop.is_set():
        try:
            http_check.pipeline(port, mix, split=False)
        except (http_check.CheckFailed, OSError) as e:
            errors.append(f"pipelined batch: {e}")
            return
        time.sleep(0.2)


def load(port, minutes, connections):
    end = time.monotonic() + minutes * 60
    stop, errors = threading.Event(), []
    side = threading.Thread(target=pipeliner, args=(port, stop, errors), daemon=True)
    side.start()
    rounds = [("/hello", False), ("/", True), ("/stats", False), ("/hello", True), ("/", False)]
    total, i = 0, 0
    while time.monotonic() < end and not errors:
        path, close = rounds[i % len(rounds)]
        seconds = int(max(1, min(60, end - time.monotonic())))
        n, problems = wrk(port, path, seconds, connections, close)
        total += n
        print(f"http_soak: round {i + 1}: {path} {'close' if close else 'keep-alive'} "
              f"{n} requests in {seconds} s{'; ' + '; '.join(problems) if problems else ''}",
              flush=True)
        errors += problems
        i += 1
    stop.set()
    side.join(60)
    return total, errors


def steady(port):
    """The counters once lwIP's pool use has not changed for 30 s (or after SETTLE_S)."""
    deadline = time.monotonic() + SETTLE_S
    last, since = measure(port), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < 30:
        time.sleep(5)
        now = measure(port)
        if now["memp_used"] != last["memp_used"]:
            since = time.monotonic()
        last = now
    return last


def settled(port, base):
    """Wait until every counter is back within its slack of the baseline; the last reading."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        now = measure(port)
        over = {k: (base[k], now[k]) for k in SLACK if now[k] > base[k] + SLACK[k]}
        if not over or time.monotonic() > deadline:
            return now, over
        time.sleep(5)


def main(argv):
    p = argparse.ArgumentParser(prog="http_soak.py", description=__doc__.split("\n\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--connections", type=int, default=50)
    args = p.parse_args(argv)
    wrk(args.port, "/hello", 5, args.connections, False)  # warm up (the client closes first:
    http_check.wait_idle(args.port, 120)                  # no TIME_WAIT is left in the guest)
    base = steady(args.port)
    print(f"http_soak: baseline {base}", flush=True)
    total, errors = load(args.port, args.minutes, args.connections)
    http_check.wait_idle(args.port, 120)
    time.sleep(TIME_WAIT_S)  # the server closed first in the close rounds: TIME_WAIT
    after, over = settled(args.port, base)
    print(f"http_soak: {total} requests; after settling {after}", flush=True)
    for k, (was, now) in over.items():
        errors.append(f"{k} grew from {was} to {now}")
    if after["bad"] > base["bad"]:
        errors.append(f"{after['bad'] - base['bad']} requests were answered as malformed")
    for e in errors:
        print(f"http_soak: FAIL: {e}", flush=True)
    print("http_soak: " + ("FAILED" if errors else "ok: nothing grew"), flush=True)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
