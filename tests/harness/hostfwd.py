"""Deepen the accept queue of QEMU's forwarded ports (hostfwd=tcp:...).

QEMU's user network (libslirp) listens on each forwarded TCP port with a
backlog of 1, and takes one connection off the queue per turn of its main
loop. A client that opens several connections at once (wrk -c8, the echo
check's parallel connections) overflows that queue, and the host kernel
then drops handshakes (TcpExtListenOverflows) and answers with SYN cookies
("Possible SYN flooding on port 127.0.0.1:N" in the kernel log). Clients
recover only through their retransmission timers: a dropped SYN costs 1 s,
a dropped handshake ACK or request 200 ms, 400 ms, 800 ms ... with backoff.
wrk measures those as request latencies, and its coordinated-omission
correction multiplies each into a tail of samples, so the p99 of a server
that answers every request in milliseconds came out at 0.3-2.6 s.

listen() on a socket that is already listening sets its backlog anew
(Linux inet_listen), so a duplicate of QEMU's descriptor, taken with
pidfd_getfd(2) (Linux 5.6; the caller must be allowed to ptrace QEMU, as
its parent or root is), is enough to give the queue room for a burst.
qemu.Runner does so at the guest's first serial output, for every run with
forwarded ports (guest.py's tests, ./noos run and demo, the bench).
"""

import ctypes
import os
import socket

BACKLOG = 256  # more than any client of the tests opens at once (http_check's wrk: 100)
SYS_PIDFD_GETFD = 438  # the same number on x86_64 and aarch64 (asm-generic table)
TCP_LISTEN = "0A"  # include/net/tcp_states.h, as /proc/net/tcp shows it


def listening_inodes(pid, port):
    """Socket inodes of TCP listeners on port, from pid's view of /proc/net/tcp{,6}."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == TCP_LISTEN and int(local.rsplit(":", 1)[1], 16) == port:
                inodes.add(inode)
    return inodes


def socket_fds(pid, inodes):
    """pid's descriptors that are the sockets with these inodes."""
    fds = []
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue  # closed meanwhile
        if link.startswith("socket:[") and link[8:-1] in inodes:
            fds.append(int(name))
    return fds


def relisten(pidfd, target_fd, backlog):
    """listen(backlog) on a duplicate of the target's descriptor."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fd = libc.syscall(ctypes.c_long(SYS_PIDFD_GETFD), ctypes.c_long(pidfd),
                      ctypes.c_long(target_fd), ctypes.c_long(0))
    if fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"pidfd_getfd: {os.strerror(err)}")
    s = socket.socket(fileno=fd)
    try:
        s.listen(backlog)
    finally:
        s.close()  # the duplicate only: QEMU's descriptor stays open and listening


def widen(pid, ports, backlog=BACKLOG):
    """Give the listeners of process pid on these TCP ports a backlog of
    backlog. Returns a list of problems (empty: every port was widened)."""
    problems = []
    try:
        pidfd = os.pidfd_open(pid)
    except (OSError, AttributeError) as e:
        return [f"pidfd_open({pid}): {e}"]
    try:
        for port in ports:
            fds = socket_fds(pid, listening_inodes(pid, port))
            if not fds:
                problems.append(f"no listening socket of process {pid} on port {port}")
            for fd in fds:
                try:
                    relisten(pidfd, fd, backlog)
                except OSError as e:
                    problems.append(f"port {port}: {e}")
    finally:
        os.close(pidfd)
    return problems


def tcp_ports(fwd):
    """Host TCP ports of qemu.Config.fwd entries ("tcp:HOST:GUEST", "HOST:GUEST", "udp:...")."""
    ports = []
    for f in fwd:
        proto, host, _ = (f if f.count(":") == 2 else "tcp:" + f).split(":")
        if proto == "tcp":
            ports.append(int(host))
    return ports
