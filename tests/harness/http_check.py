#!/usr/bin/env python3
"""Drive images/httpd from the host, through a port forwarded to it (guest.py
--host-check runs this once httpd says it listens):

  content     GET of every page, compared byte for byte with images/httpd/www
  methods     HEAD, 404, 405 (with Allow), 501, 400 for a malformed head
  keepalive   many requests on one connection, in turn
  pipeline    many requests sent at once (and split at odd places, and a batch
              whose responses fill every buffer on the way), answers checked
              in order and byte for byte
  bodies      chunked and Content-Length request bodies, Expect: 100-continue,
              then the next request on the same connection
  close       HTTP/1.0 and Connection: close end the connection after the answer
  curl        curl's own view: a page, and two URLs over one connection
  wrk         a bounded load (-c CONNECTIONS -d SECONDS): every connection reaches
              the server, every response 2xx, no read or write errors, and
              afterwards every connection closed again
  stats       /stats is JSON with the counters it promises

    http_check.py PORT [--host ADDR] [--wrk-connections N] [--wrk-seconds S] [--skip CHECK]...

Only 127.0.0.1 is contacted, or --host (http_tap.py: the guest's address in a
network namespace that test made). Exit status 0 when every check passed.
"""

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WWW = os.path.join(ROOT, "images", "httpd", "www")
HOST = "127.0.0.1"
TIMEOUT = 30


class CheckFailed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise CheckFailed(what)


def www(name):
    with open(os.path.join(WWW, name), "rb") as f:
        return f.read()


PAGES = {"/": ("text/html", lambda: www("index.html")),
         "/style.css": ("text/css", lambda: www("style.css")),
         "/hello": ("text/plain", lambda: b"Hello from noos!\n")}


# ---------------------------------------------------------------- a client

def url(port, path):
    return f"http://{'[' + HOST + ']' if ':' in HOST else HOST}:{port}{path}"


class Conn:
    """One TCP connection and a buffer of what it received."""

    def __init__(self, port):
        self.s = socket.create_connection((HOST, port), timeout=TIMEOUT)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def _more(self):
        chunk = self.s.recv(65536)
        if not chunk:
            raise CheckFailed(f"connection closed with {len(self.buf)} bytes unparsed")
        self.buf += chunk

    def response(self, head_only=False):
        """(status, headers dict, body) of the next response."""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        m = re.fullmatch(r"HTTP/1\.1 (\d{3}) .*", lines[0])
        expect(m, f"bad status line {lines[0]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(m.group(1))
        if status == 100:
            return status, headers, b""
        expect("content-length" in headers, f"no Content-Length in {lines}")
        n = 0 if head_only else int(headers["content-length"])
        while len(self.buf) < n:
            self._more()
        body, self.buf = self.buf[:n], self.buf[n:]
        return status, headers, body

    def closed_by_peer(self):
        """True if the server closes the connection (now or within TIMEOUT)."""
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.s.close()


def get(path, method="GET", host="noos"):
    return f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def check_page(resp, path, head_only=False):
    status, headers, body = resp
    ctype, content = PAGES[path]
    want = content()
    expect(status == 200, f"{path}: status {status}")
    expect(headers.get("content-type", "").startswith(ctype), f"{path}: {headers}")
    expect(int(headers["content-length"]) == len(want), f"{path}: Content-Length")
    expect(body == (b"" if head_only else want), f"{path}: body differs from images/httpd/www")


# ---------------------------------------------------------------- checks

def check_content(port):
    for path in PAGES:
        c = Conn(port)
        c.send(get(path))
        check_page(c.response(), path)
        c.close()


def check_methods(port):
    c = Conn(port)
    c.send(get("/", "HEAD"))
    check_page(c.response(head_only=True), "/", head_only=True)
    c.send(get("/no/such/page"))
    expect(c.response()[0] == 404, "404 for a page that is not there")
    c.send(b"POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    status, headers, _ = c.response()
    expect(status == 405 and headers.get("allow") == "GET, HEAD", f"405 with Allow: {headers}")
    c.send(get("/", "BREW"))
    expect(c.response()[0] == 501, "501 for an unknown method")
    c.send(get("/hello"))  # the connection still works after all that
    check_page(c.response(), "/hello")
    c.send(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n")  # whitespace before the colon
    status, headers, _ = c.response()
    expect(status == 400 and headers.get("connection") == "close", f"400, closing: {status}")
    expect(c.closed_by_peer(), "the server closes after a malformed request")
    c.close()


def check_keepalive(port):
    c = Conn(port)
    paths = list(PAGES) * 10
    random.Random(1).shuffle(paths)
    for p in paths:
        c.send(get(p))
        check_page(c.response(), p)
    c.close()


def pipeline(port, paths, split):
    """Send all requests for paths at once (in pieces if split), then check every answer in order."""
    c = Conn(port)
    data = b"".join(get(p[5:], "HEAD") if p.startswith("HEAD ") else get(p) for p in paths)
    if split:
        rng = random.Random(len(data))
        at = 0
        while at < len(data):
            n = rng.choice((1, 2, 3, 7, 31, 200))
            c.send(data[at:at + n])
            at += n
            if rng.random() < 0.2:
                time.sleep(0.005)
    else:
        c.send(data)
        time.sleep(1)  # not reading yet: the answers back up to the server
    for p in paths:
        if p.startswith("HEAD "):
            check_page(c.response(head_only=True), p[5:], head_only=True)
        elif p in PAGES:
            check_page(c.response(), p)
        else:
            expect(c.response()[0] == 404, f"pipelined 404 for {p}")
    expect(c.buf == b"", "bytes after the last response")
    c.close()


def check_pipeline(port):
    mix = ["/hello", "/", "HEAD /", "/missing", "/style.css", "/hello"] * 10
    pipeline(port, mix, split=False)
    pipeline(port, mix, split=True)
    # Responses (~2.3 KiB each) far beyond every buffer between here and the server:
    # the server must stop reading, send in pieces as room appears, and lose nothing.
    pipeline(port, ["/"] * 300, split=False)


def check_bodies(port):
    c = Conn(port)
    c.send(b"POST /hello HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5;ext=1\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: v\r\n\r\n" + get("/hello"))
    expect(c.response()[0] == 405, "405 for POST with a chunked body")
    check_page(c.response(), "/hello")
    c.send(b"POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
    expect(c.response()[0] == 100, "100 Continue before the body")
    c.send(b"0123456789" + get("/"))
    expect(c.response()[0] == 405, "405 after the body")
    check_page(c.response(), "/")
    c.close()


def check_close(port):
    c = Conn(port)
    c.send(b"GET /hello HTTP/1.0\r\n\r\n")
    status, headers, body = c.response()
    expect(status == 200 and body == PAGES["/hello"][1](), "HTTP/1.0 answer")
    expect(c.closed_by_peer(), "HTTP/1.0 without keep-alive: the server closes")
    c.close()
    c = Conn(port)
    c.send(b"GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" * 2)
    for _ in range(2):
        status, headers, _ = c.response()
        expect(headers.get("connection", "").lower() == "keep-alive", f"1.0 keep-alive: {headers}")
    c.close()
    c = Conn(port)
    c.send(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    expect(c.response()[2] == PAGES["/hello"][1](), "answer before closing")
    expect(c.closed_by_peer(), "Connection: close: the server closes")
    c.close()


def stats(port):
    c = Conn(port)
    c.send(get("/stats"))
    status, headers, body = c.response()
    c.close()
    expect(status == 200 and headers.get("content-type") == "application/json", "/stats")
    return json.loads(body)


def check_stats(port):
    s = stats(port)
    for key in ("uptime_ms", "cpus", "workers", "requests_per_worker", "connections", "requests",
                "memory", "sockets", "network"):
        expect(key in s, f"/stats has no {key!r}")
    for key in ("pbufs", "memp_used", "mem_used"):
        expect(key in s["network"]["lwip"], f"/stats network.lwip has no {key!r}")
    expect(len(s["requests_per_worker"]) == s["workers"], "a request count per worker")
    before = s["requests"]["total"]
    expect(stats(port)["requests"]["total"] > before, "/stats counts requests")


def check_curl(port):
    if not shutil.which("curl"):
        raise CheckFailed("curl is not installed (./noos setup installs it)")
    base = url(port, "")
    out = subprocess.run(["curl", "-sSfg", "--max-time", "30", base + "/"], capture_output=True)
    expect(out.returncode == 0 and out.stdout == www("index.html"), f"curl /: {out.stderr!r}")
    out = subprocess.run(["curl", "-sSfg", "-v", "--max-time", "30", base + "/hello", base + "/style.css"],
                         capture_output=True)
    expect(out.returncode == 0 and out.stdout == PAGES["/hello"][1]() + www("style.css"), "curl two URLs")
    expect(b"Re-using existing connection" in out.stderr, "curl kept the connection for the second URL")


def check_wrk(port, connections, seconds):
    if not shutil.which("wrk"):
        raise CheckFailed("wrk is not installed (./noos setup installs it)")
    accepted = stats(port)["connections"]["total"]
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                          url(port, "/hello")], capture_output=True, text=True,
                         timeout=seconds + 60)
    print(out.stdout.rstrip(), flush=True)
    expect(out.returncode == 0, f"wrk failed: {out.stderr}")
    m = re.search(r"(\d+) requests in", out.stdout)
    expect(m and int(m.group(1)) > 0, "wrk completed no request")
    expect("Non-2xx" not in out.stdout, "responses other than 2xx under load")
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out.stdout)
    # Timeouts are the host's business (TCG on a busy machine can be slow); a read or
    # write error is a connection the server broke.
    expect(not e or (e.group(2) == "0" and e.group(3) == "0"), f"wrk socket errors: {e and e.group(0)}")
    s = wait_idle(port, 60)
    # Every connection must reach the server, through QEMU's user network too: its forwarded
    # port's accept queue (a backlog of 1) is widened by guest.py (hostfwd.py); when it is
    # not, the host drops most of a burst's handshakes and only a fraction gets through.
    accepted = s["connections"]["total"] - accepted - 1
    print(f"http_check: the server accepted {accepted} of wrk's {connections} connections", flush=True)
    expect(accepted >= connections, "not every wrk connection was accepted")


def wait_idle(port, seconds):
    """Every connection but the one asking is closed again (wrk closed all of its own)."""
    deadline = time.monotonic() + seconds
    while True:
        s = stats(port)
        if s["connections"]["open"] <= 1:
            return s
        expect(time.monotonic() < deadline, f"connections still open: {s['connections']}")
        time.sleep(1)


CHECKS = [("content", check_content), ("methods", check_methods), ("keepalive", check_keepalive),
          ("pipeline", check_pipeline), ("bodies", check_bodies), ("close", check_close),
          ("curl", check_curl), ("stats", check_stats), ("wrk", None)]


def main(argv):
    global HOST
    p = argparse.ArgumentParser(prog="http_check.py", description=__doc__.split("\n\n")[0])
    p.add_argument("port", type=int)
    p.add_argument("--host", default=HOST, help="the server's address (default 127.0.0.1)")
    p.add_argument("--wrk-connections", type=int, default=100)
    p.add_argument("--wrk-seconds", type=int, default=3)
    p.add_argument("--skip", action="append", default=[], choices=[c[0] for c in CHECKS])
    args = p.parse_args(argv)
    HOST = args.host
    failed = []
    for name, fn in CHECKS:
        if name in args.skip:
            continue
        start = time.monotonic()
        try:
            if name == "wrk":
                check_wrk(args.port, args.wrk_connections, args.wrk_seconds)
            else:
                fn(args.port)
            print(f"http_check: {name} ok ({time.monotonic() - start:.2f} s)", flush=True)
        except (CheckFailed, OSError, ValueError, subprocess.TimeoutExpired) as e:
            print(f"http_check: {name} FAILED: {e}", flush=True)
            failed.append(name)
    print(f"http_check: {'FAILED ' + ', '.join(failed) if failed else 'all ok'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
