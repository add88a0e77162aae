#!/usr/bin/env python3
"""Host-side peer of tests/guest/sockpeer.c, run by guest.py --host-check once
the guest prints READY (QEMU user network; only 127.0.0.1 is used):

  1. An echo server on 127.0.0.1:L (the guest reaches it as 10.0.2.2:L
     through slirp) and a port C with nothing listening.
  2. Connect to the guest's TCP port (forwarded from --tcp) and send
     "PORTS L C\\n": the guest connects to C without blocking (refused, seen
     through SO_ERROR) and to L, sends 1 MiB of a known pattern through the
     echo server, checks it, and shuts its side down; the echo server checks
     the pattern too.
  3. UDP datagrams to the guest's port (forwarded from --udp), each echoed.
  4. Read the guest's verdict line on the control connection: "OK" passes.

    sock_peer.py --tcp HOSTPORT --udp HOSTPORT [--timeout S]

Exit status 0 when everything held, 1 otherwise (the reason is printed).
"""

import argparse
import socket
import sys
import threading
import time

BULK = 1 << 20
DATAGRAMS = 10


def pattern(n):
    """The bytes the guest sends: byte i is (i * 7 + i // 251) mod 256."""
    return bytes((i * 7 + i // 251) & 0xFF for i in range(n))


class EchoServer:
    """Accept one connection, echo it until EOF, record what came."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.sock.settimeout(60)
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(60)
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    self.received += data
                    conn.sendall(data)
        except OSError as e:
            self.error = e
        finally:
            self.sock.close()


def closed_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_echo(port, deadline):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(2)
        for i in range(DATAGRAMS):
            msg = f"UDP {i} ".encode() + bytes(range(i * 10 % 200, i * 10 % 200 + 50))
            for _ in range(5):  # slirp may drop; the guest echoes each it gets
                u.sendto(msg, ("127.0.0.1", port))
                try:
                    data, _ = u.recvfrom(2048)
                except socket.timeout:
                    if time.monotonic() > deadline:
                        raise
                    continue
                if data != msg:
                    raise AssertionError(f"UDP echo {i}: {data[:20]!r}... differs")
                break
            else:
                raise AssertionError(f"UDP datagram {i}: no echo")


def run(args):
    deadline = time.monotonic() + args.timeout
    echo = EchoServer()
    ctl = socket.create_connection(("127.0.0.1", args.tcp), timeout=args.timeout)
    ctl.sendall(f"PORTS {echo.port} {closed_port()}\n".encode())
    udp_echo(args.udp, deadline)
    print(f"sock_peer: {DATAGRAMS} datagrams echoed")
    verdict = b""
    while not verdict.endswith(b"\n"):
        data = ctl.recv(256)
        if not data:
            break
        verdict += data
    ctl.close()
    echo.thread.join(max(1, deadline - time.monotonic()))
    if echo.error:
        raise AssertionError(f"echo server: {echo.error}")
    if bytes(echo.received) != pattern(BULK):
        raise AssertionError(f"echo server got {len(echo.received)} bytes, not the 1 MiB pattern")
    print(f"sock_peer: echo server saw the 1 MiB pattern; guest says {verdict.strip()!r}")
    if verdict.strip() != b"OK":
        raise AssertionError(f"guest verdict {verdict!r}")


def main(argv):
    p = argparse.ArgumentParser(prog="sock_peer.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--tcp", type=int, required=True)
    p.add_argument("--udp", type=int, required=True)
    p.add_argument("--timeout", type=float, default=120)
    args = p.parse_args(argv)
    try:
        run(args)
    except (AssertionError, OSError) as e:
        print(f"sock_peer: FAIL {e}")
        return 1
    print("sock_peer: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
