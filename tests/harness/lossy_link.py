"""A lossy, slow Ethernet link between a QEMU guest and a Linux stack in a
test namespace, for when the kernel has no sch_netem (tc qdisc netem): QEMU's
socket backend sends the guest's frames as UDP datagrams on 127.0.0.1 to
this relay, which forwards them to a tap device it creates inside the
namespace (where Linux answers), and back, dropping each frame with
probability `loss` and holding every frame `delay` seconds, both ways.

Only loopback and the namespace's tap are used. Needs root (/dev/net/tun).
"""

import fcntl
import heapq
import os
import random
import select
import socket
import struct
import threading
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name):
    """A tap device named name, in the calling thread's network namespace."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


class LossyLink:
    def __init__(self, tap_fd, qemu_port, loss, delay, seed=1):
        self.tap = tap_fd
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.port = self.udp.getsockname()[1]  # QEMU's udp= points here
        self.qemu = ("127.0.0.1", qemu_port)   # and its localaddr= is this
        self.loss, self.delay = loss, delay
        self.rng = random.Random(seed)
        self.queue = []  # (due, seq, direction, frame)
        self.seq = 0
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stop = False
        self.dropped = self.passed = 0

    def _enqueue(self, to_tap, frame):
        with self.lock:
            if self.rng.random() < self.loss:
                self.dropped += 1
                return
            self.passed += 1
            self.seq += 1
            heapq.heappush(self.queue, (time.monotonic() + self.delay, self.seq, to_tap, frame))
        self.wake.set()

    def _receive(self):
        while not self.stop:
            r, _, _ = select.select([self.udp, self.tap], [], [], 0.2)
            if self.udp in r:
                frame, _ = self.udp.recvfrom(65536)
                self._enqueue(True, frame)
            if self.tap in r:
                self._enqueue(False, os.read(self.tap, 65536))

    def _send(self):
        while not self.stop:
            with self.lock:
                due = self.queue[0][0] if self.queue else None
                ready = []
                while self.queue and self.queue[0][0] <= time.monotonic():
                    ready.append(heapq.heappop(self.queue))
            for _, _, to_tap, frame in ready:
                try:
                    if to_tap:
                        os.write(self.tap, frame)
                    else:
                        self.udp.sendto(frame, self.qemu)
                except OSError:
                    pass
            self.wake.wait(0.2 if due is None else max(0.0, due - time.monotonic()))
            self.wake.clear()

    def start(self):
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self._receive, self._send)]
        for t in self.threads:
            t.start()

    def close(self):
        self.stop = True
        self.wake.set()
        for t in self.threads:
            t.join(2)
        self.udp.close()
        os.close(self.tap)
