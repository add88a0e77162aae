#!/usr/bin/env python3
"""Host test: lwIP reaches the build the way subprojects/lwip.wrap says.

1. The orig tarball `./noos setup` fetched with apt-get source is in
   subprojects/packagecache/ and matches the sha256 the wrap pins.
2. In a scratch project (never the source tree), meson extracts it through the
   wrap with downloads off, lays our overlay (packagefiles/lwip) over it, and
   the overlay's file lists compile natively with a minimal NO_SYS lwipopts.h.
3. The pin is enforced: a tarball differing in one byte is refused.

Usage: check_lwip_wrap.py SOURCE_ROOT
"""

import configparser
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

SCRATCH_MESON = """project('lwip-wrap-check', 'c', meson_version : '>=1.0')
lwip = subproject('lwip')
sources = []
foreach group : ['core_sources', 'ipv4_sources', 'ipv6_sources', 'api_sources',
                 'netif_sources', 'lwiperf_sources']
  sources += lwip.get_variable(group)
endforeach
static_library('lwipcheck', sources,
  include_directories : [lwip.get_variable('inc'), include_directories('port')])
"""

# The smallest configuration that builds lwIP's core, IPv4 and IPv6, TCP, UDP,
# Ethernet and lwiperf without an OS (lwIP 2.1's opt.h documents each option).
LWIPOPTS = """#define NO_SYS 1
#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_ETHERNET 1
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define SYS_LIGHTWEIGHT_PROT 0
#define MEM_ALIGNMENT 8
"""

CC_H = """#include <stdio.h>
#include <stdlib.h>
#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { printf("%s\\n", x); abort(); } while (0)
"""


def wrap_file(root):
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(os.path.join(root, "subprojects", "lwip.wrap"))
    return cp["wrap-file"]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def scratch_project(root, wrap, tarball_bytes, top):
    """A project in `top` whose subprojects/ holds the wrap, the overlay and a cache."""
    sub = os.path.join(top, "subprojects")
    os.makedirs(os.path.join(sub, "packagecache"))
    shutil.copy(os.path.join(root, "subprojects", "lwip.wrap"), sub)
    shutil.copytree(os.path.join(root, "subprojects", "packagefiles"),
                    os.path.join(sub, "packagefiles"))
    with open(os.path.join(sub, "packagecache", wrap["source_filename"]), "wb") as f:
        f.write(tarball_bytes)
    os.makedirs(os.path.join(top, "port", "arch"))
    for name, text in (("meson.build", SCRATCH_MESON), ("port/lwipopts.h", LWIPOPTS),
                       ("port/arch/cc.h", CC_H)):
        with open(os.path.join(top, name), "w") as f:
            f.write(text)


def meson_setup(top):
    return subprocess.run(["meson", "setup", "--wrap-mode=nodownload", os.path.join(top, "b"), top],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def main(root):
    wrap = wrap_file(root)
    cached = os.path.join(root, "subprojects", "packagecache", wrap["source_filename"])
    if not os.path.isfile(cached):
        print(f"FAIL: {cached} is missing: ./noos setup fetches it (apt-get source lwip)")
        return 1
    got = sha256(cached)
    if got != wrap["source_hash"]:
        print(f"FAIL: {cached} has sha256 {got}, lwip.wrap pins {wrap['source_hash']}")
        return 1
    print(f"ok: {wrap['source_filename']} matches the pinned sha256")
    with open(cached, "rb") as f:
        data = f.read()
    with tempfile.TemporaryDirectory(prefix="noos-lwip-") as tmp:
        good, bad = os.path.join(tmp, "good"), os.path.join(tmp, "bad")
        scratch_project(root, wrap, data, good)
        p = meson_setup(good)
        if p.returncode != 0:
            print(p.stdout + "\nFAIL: meson could not configure lwIP through the wrap")
            return 1
        p = subprocess.run(["ninja", "-C", os.path.join(good, "b")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            print(p.stdout + "\nFAIL: the overlay's lwIP file lists do not compile")
            return 1
        print("ok: extracted through the wrap, overlay applied, lwIP's sources compile")
        tampered = bytearray(data)
        tampered[len(tampered) // 2] ^= 1
        scratch_project(root, wrap, bytes(tampered), bad)
        p = meson_setup(bad)
        if p.returncode == 0 or "Incorrect hash" not in p.stdout:
            print(p.stdout + "\nFAIL: a tarball that differs from the pin was not refused")
            return 1
        print("ok: a tarball differing in one byte is refused (Incorrect hash)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else
                  os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
