#!/usr/bin/env python3
"""Drive images/echo from the host through forwarded ports (guest.py
--host-check runs this once echo says it listens):

  socat-tcp   1 MiB of random bytes through socat's TCP client, back byte for byte,
              and the connection closed after our end shut down its side
  socat-udp   datagrams through socat's UDP client
  parallel    several TCP connections at once, each echoing its own bytes
  udp         datagrams of many sizes, each answered with itself

    echo_check.py TCPPORT UDPPORT

Only 127.0.0.1 is contacted. Exit status 0 when every check passed.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"


class CheckFailed(Exception):
    pass


def socat_tcp(port):
    if not shutil.which("socat"):
        raise CheckFailed("socat is not installed (./noos setup installs it)")
    data = os.urandom(1 << 20)
    with tempfile.TemporaryFile() as src:
        src.write(data)
        src.seek(0)
        out = subprocess.run(["socat", "-t", "30", "-", f"TCP:{HOST}:{port}"], stdin=src,
                             capture_output=True, timeout=120)
    if out.returncode != 0 or out.stdout != data:
        raise CheckFailed(f"socat TCP: {len(out.stdout)} of {len(data)} bytes came back "
                          f"{'intact' if data.startswith(out.stdout) else 'different'}; "
                          f"{out.stderr.decode(errors='replace')}")


def socat_udp(port):
    for i in range(5):
        msg = f"datagram {i} through socat\n".encode()
        for wait in (0.5, 2, 5):  # UDP may drop one; that is UDP
            out = subprocess.run(["socat", "-t", str(wait), "-", f"UDP:{HOST}:{port}"], input=msg,
                                 capture_output=True, timeout=30)
            if out.stdout == msg:
                break
        else:
            raise CheckFailed(f"socat UDP: datagram {i} never came back")


def echo_conn(port, size, errors):
    data = os.urandom(size)
    try:
        s = socket.create_connection((HOST, port), timeout=60)
        sender = threading.Thread(target=lambda: (s.sendall(data), s.shutdown(socket.SHUT_WR)))
        sender.start()
        got = bytearray()
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        sender.join()
        s.close()
        if bytes(got) != data:
            errors.append(f"{len(got)} of {size} bytes back, {'intact' if data.startswith(got) else 'different'}")
    except OSError as e:
        errors.append(str(e))


def parallel(port, k=8, size=256 << 10):
    errors = []
    threads = [threading.Thread(target=echo_conn, args=(port, size, errors)) for _ in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise CheckFailed("; ".join(errors))


def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    for size in (1, 100, 512, 1400, 1472, 4000, 9000, 30000):
        msg = os.urandom(size)
        for _ in range(3):
            s.sendto(msg, (HOST, port))
            try:
                got, _ = s.recvfrom(65536)
            except socket.timeout:
                continue
            if got != msg:
                raise CheckFailed(f"udp: a {size}-byte datagram came back different")
            break
        else:
            raise CheckFailed(f"udp: a {size}-byte datagram never came back")
    s.close()


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    tcp, udp_port = int(argv[0]), int(argv[1])
    failed = []
    for name, fn, port in (("socat-tcp", socat_tcp, tcp), ("socat-udp", socat_udp, udp_port),
                           ("parallel", parallel, tcp), ("udp", udp, udp_port)):
        start = time.monotonic()
        try:
            fn(port)
            print(f"echo_check: {name} ok ({time.monotonic() - start:.2f} s)", flush=True)
        except (CheckFailed, OSError, subprocess.TimeoutExpired) as e:
            print(f"echo_check: {name} FAILED: {e}", flush=True)
            failed.append(name)
    print(f"echo_check: {'FAILED ' + ', '.join(failed) if failed else 'all ok'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
