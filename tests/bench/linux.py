"""The Linux reference guest of `./noos bench`, built from Debian packages at run time.

Debian's cloud kernel (linux-image-cloud-amd64, linux-image-cloud-arm64) booted
with -kernel, and an initramfs of busybox-static with a small /init that does
the same job as the noos image it is compared with. Nothing is installed on the
host: `apt-get download` fetches the .debs into the cache directory (under
build/, never committed), `dpkg-deb --fsys-tarfile` gives the files we
need (the kernel from /boot, /bin/busybox), and the initramfs is written here
as a plain newc cpio archive (the kernel's "initramfs buffer format",
Documentation/driver-api/early-userspace/buffer-format.rst), uncompressed, so
that the guest spends no time decompressing it.

The kernel command line's unknown key=value words reach /init as environment
(Documentation/admin-guide/kernel-parameters.rst): bench=MODE selects what
/init does: boot (print a line, power off), httpd (busybox httpd on port 80
serving /www) or iperf (Debian's iperf 2: a server on port 5001 and, with
iperf_client=ADDR:PORT, a client to an `iperf -s` there; the TCP bulk rows).
iperf is dynamically linked, so the iperf mode boots a second initramfs
(initramfs-iperf.cpio): the first one plus iperf, the loader and the shared
libraries it needs (ldd: libstdc++, libm, libgcc_s, libc) from the .debs of
the same arch. The boot and size rows keep to the first one. virtio_net and the virtio transports are
modules in Debian's cloud kernels (CONFIG_VIRTIO_NET=m, CONFIG_VIRTIO_PCI=m),
so their .ko files are copied from the same .deb into /lib/modules, named so
that a sorted glob loads each after what it depends on, and loaded with
busybox insmod.

Standard library only, like the rest of the harness.
"""

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

DEB_ARCH = {"x86_64": "amd64", "aarch64": "arm64"}
KERNEL_META = {"x86_64": "linux-image-cloud-amd64", "aarch64": "linux-image-cloud-arm64"}
BUSYBOX = "busybox-static"
CONSOLE = {"x86_64": "ttyS0", "aarch64": "ttyAMA0"}

# What /init prints in boot mode: the Linux guest's "first line of application output".
MARKER = "Hello from Linux!"
# What /init prints in httpd mode once the server's socket is bound.
HTTPD_READY = "bench: httpd listening"
# ... in iperf mode, once `iperf -s` listens on IPERF_PORT.
IPERF_READY = "bench: iperf listening"
IPERF_PORT = 5001
# How long the guest's iperf client sends: lwiperf's client on the noos side
# always sends for 10 s, and the host measures both over the same first seconds.
IPERF_CLIENT_SECONDS = 10

# iperf and what its ELF needs (ldd), per Debian arch: the packages, the
# multiarch triplet of the libraries' directory and the dynamic loader's path.
IPERF_PACKAGES = ["iperf", "libstdc++6", "libgcc-s1", "libc6"]
TRIPLET = {"x86_64": "x86_64-linux-gnu", "aarch64": "aarch64-linux-gnu"}
LOADER = {"x86_64": "lib64/ld-linux-x86-64.so.2", "aarch64": "lib/ld-linux-aarch64.so.1"}
IPERF_LIBS = ["libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libc.so.6"]

# The network driver's modules in load order (modinfo depends=): the virtio
# ring (virtio.ko uses its virtio_break_device), the core, the PCI and MMIO
# transports, failover, then virtio_net.
MODULES = ["drivers/virtio/virtio_ring.ko", "drivers/virtio/virtio.ko",
           "drivers/virtio/virtio_pci_legacy_dev.ko", "drivers/virtio/virtio_pci_modern_dev.ko",
           "drivers/virtio/virtio_pci.ko", "drivers/virtio/virtio_mmio.ko",
           "net/core/failover.ko", "drivers/net/net_failover.ko", "drivers/net/virtio_net.ko"]

INIT = """#!/bin/sh
# /init of the Linux reference guest of ./noos bench (tests/bench/linux.py).
# bench=MODE from the kernel command line arrives as an environment variable.
case "$bench" in
boot)
	/bin/busybox echo "%s"
	;;
httpd)
	# QEMU's user network: the guest is 10.0.2.15/24, the gateway 10.0.2.2.
	/bin/busybox mount -t devtmpfs dev /dev
	for m in /lib/modules/*.ko; do /bin/busybox insmod "$m" 2>/dev/null; done
	/bin/busybox ip link set lo up
	/bin/busybox mkdir -p /www
	/bin/busybox echo "<!doctype html><title>bench</title><p>Hello from Linux!" >/www/index.html
	/bin/busybox ip addr add 10.0.2.15/24 dev eth0 &&
	/bin/busybox ip link set eth0 up &&
	/bin/busybox ip route add default via 10.0.2.2 &&
	/bin/busybox httpd -p 80 -h /www && /bin/busybox echo "%s" && /bin/busybox sleep 100000
	;;
iperf)
	# TCP bulk (initramfs-iperf.cpio): iperf -s on 5001, ready once it
	# listens; with iperf_client=ADDR:PORT also a client sending there.
	# bench_ip= is the address (default: QEMU's user network's 10.0.2.15).
	/bin/busybox mount -t devtmpfs dev /dev
	/bin/busybox mount -t proc proc /proc # netstat reads /proc/net/tcp
	for m in /lib/modules/*.ko; do /bin/busybox insmod "$m" 2>/dev/null; done
	/bin/busybox ip link set lo up
	/bin/busybox ip addr add "${bench_ip:-10.0.2.15/24}" dev eth0 &&
	/bin/busybox ip link set eth0 up &&
	{ /usr/bin/iperf -s -p %d >/dev/null 2>&1 &
	  n=0; until /bin/busybox netstat -ltn | /bin/busybox grep -q ':%d '; do
		n=$((n + 1)); [ $n -lt 300 ] || break; /bin/busybox sleep 0.1; done
	  [ $n -lt 300 ] && /bin/busybox echo "%s" || /bin/busybox echo "bench: iperf -s did not start"
	  [ -z "$iperf_client" ] || /usr/bin/iperf -c "${iperf_client%%:*}" -p "${iperf_client##*:}" \
		-t %d >/dev/null 2>&1
	  /bin/busybox sleep 100000; }
	;;
*)
	/bin/busybox echo "bench init: unknown mode '$bench'"
	;;
esac
/bin/busybox poweroff -f
""" % (MARKER, HTTPD_READY, IPERF_PORT, IPERF_PORT, IPERF_READY, IPERF_CLIENT_SECONDS)

# The initramfs of every mode but iperf, and the iperf mode's (the first plus iperf).
INITRDS = ("initramfs.cpio", "initramfs-iperf.cpio")

# Guards the cache against two bench runs (x86_64 and aarch64 smoke tests, or
# two engineers) filling it at once.
LOCK_NAME = ".lock"


class Unavailable(Exception):
    """The Linux guest cannot be had (no apt, no network, a package missing)."""


@dataclasses.dataclass
class Guest:
    arch: str
    kernel: str  # what -kernel takes: bzImage (x86_64) or the arm64 Image
    initrd: str
    iperf_initrd: str  # initrd plus iperf and its libraries (the iperf mode)
    versions: dict  # package -> version
    note: str = ""  # e.g. "offline: using the cached guest"

    def append(self, mode="boot", extra=""):
        """The kernel command line: serial console, no chatter, a panic
        resets at once (with -no-reboot QEMU then exits), and the /init mode."""
        words = [f"console={CONSOLE[self.arch]}", "quiet", "panic=-1", f"bench={mode}"]
        return " ".join(words + ([extra] if extra else []))

    def size(self):
        return os.path.getsize(self.kernel) + os.path.getsize(self.initrd)


def log(msg):
    print(f"noos bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- apt

def qualified(name, arch):
    """name, or name:arm64 when the package is of a foreign dpkg architecture."""
    native = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                            text=True).stdout.strip()
    return name if DEB_ARCH[arch] == native else f"{name}:{DEB_ARCH[arch]}"


def apt_query(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Unavailable(f"{argv[0]} failed: {e}") from e
    if p.returncode != 0:
        raise Unavailable(f"{' '.join(argv)} failed: {p.stderr.strip() or p.returncode}")
    return p.stdout


def candidate(pkg):
    """The version apt would fetch for pkg, from apt-cache policy."""
    m = re.search(r"^\s*Candidate:\s*(\S+)", apt_query(["apt-cache", "policy", pkg]), re.M)
    if not m or m.group(1) == "(none)":
        raise Unavailable(f"apt knows no version of {pkg} (are the apt lists there? "
                          "`apt-get update`; for arm64: `dpkg --add-architecture arm64`)")
    return m.group(1)


def kernel_package(arch):
    """The versioned image package the cloud metapackage depends on."""
    meta = qualified(KERNEL_META[arch], arch)
    out = apt_query(["apt-cache", "depends", "--important", meta])
    m = re.search(r"Depends:\s*(linux-image-\S+)", out)
    if not m:
        raise Unavailable(f"{meta} depends on no linux-image package (apt-cache depends)")
    return m.group(1).split(":")[0]


def resolve(arch):
    """{qualified package: version} of what the guest is made of, from apt's
    lists: the kernel, busybox, then IPERF_PACKAGES in order."""
    pkgs = [qualified(kernel_package(arch), arch), qualified(BUSYBOX, arch)]
    pkgs += [qualified(p, arch) for p in IPERF_PACKAGES]
    return {p: candidate(p) for p in pkgs}


def download(pkgs, dest):
    """apt-get download pkg=version... into dest; the .deb paths in that order."""
    argv = ["apt-get", "-q", "download"]
    if os.geteuid() == 0:
        # As root apt drops to the _apt user, which cannot write into a build dir.
        argv += ["-o", "APT::Sandbox::User=root"]
    argv += [f"{p}={v}" for p, v in pkgs.items()]
    try:
        p = subprocess.run(argv, cwd=dest, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        raise Unavailable("apt-get download took over 10 minutes") from None
    if p.returncode != 0:
        lines = [ln for ln in p.stderr.splitlines() if ln.startswith("E:")] or [p.stderr.strip()]
        raise Unavailable("apt-get download failed: " + " ".join(lines)[:400])
    return [find_deb(dest, p, v) for p, v in pkgs.items()]


def find_deb(dest, pkg, version):
    """apt-get download's file name: NAME_VERSION_ARCH.deb, ':' in VERSION as %3a."""
    name = pkg.split(":")[0]
    want = f"{name}_{version.replace(':', '%3a')}_"
    for f in os.listdir(dest):
        if f.startswith(want) and f.endswith(".deb"):
            return os.path.join(dest, f)
    raise Unavailable(f"apt-get download left no {want}*.deb")


def fetch_debs(pkgs, dest):
    """Download what is not in dest yet."""
    missing = {p: v for p, v in pkgs.items() if not _has_deb(dest, p, v)}
    if missing:
        log("fetching the Linux reference guest's Debian packages into "
            f"{os.path.relpath(dest)}: {', '.join(f'{p} {v}' for p, v in missing.items())}")
        download(missing, dest)
    return [find_deb(dest, p, v) for p, v in pkgs.items()]


def _has_deb(dest, pkg, version):
    try:
        find_deb(dest, pkg, version)
        return True
    except Unavailable:
        return False


# ---------------------------------------------------------------- extract

@contextlib.contextmanager
def deb_data(deb):
    """deb's data archive, streamed (dpkg-deb --fsys-tarfile, tarfile)."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            yield tar
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()


def extract_member(deb, pattern, out):
    """Copy the one file of deb's data whose path matches pattern to out."""
    found = None
    with deb_data(deb) as tar:
        for m in tar:
            if m.isfile() and re.fullmatch(pattern, m.name):
                with tar.extractfile(m) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                found = m.name
                break
    if not found:
        raise Unavailable(f"{os.path.basename(deb)} has no file matching {pattern}")
    return found


def extract_modules(deb):
    """[(file name, bytes)] of MODULES that deb has, in MODULES' order (one
    that is built into the kernel is simply absent)."""
    want = {m: None for m in MODULES}
    with deb_data(deb) as tar:
        for m in tar:
            rel = re.sub(r"^\./lib/modules/[^/]+/kernel/", "", m.name)
            if m.isfile() and rel in want:
                with tar.extractfile(m) as f:
                    want[rel] = f.read()
    if not want["drivers/net/virtio_net.ko"]:
        raise Unavailable(f"{os.path.basename(deb)} has no virtio_net.ko")
    return [(os.path.basename(m), d) for m, d in want.items() if d]


def deb_files(deb, names):
    """{base name: bytes} of the files of deb's data named in names, in /bin,
    /lib, /lib64 or /usr's, or a multiarch directory right under them; a
    symlink (Debian's libraries are links to versioned files) is followed
    within the package."""
    links, data = {}, {}
    with deb_data(deb) as tar:
        for m in tar:
            path = os.path.normpath(m.name.lstrip("."))
            if not re.fullmatch(r"(/usr)?/(s?bin|lib|lib64)(/[^/]+)?/[^/]+", path):
                continue
            if m.issym():
                links[path] = os.path.normpath(os.path.join(os.path.dirname(path), m.linkname))
            elif m.isfile():
                with tar.extractfile(m) as f:
                    data[path] = f.read()
    out = {}
    for path in list(links) + list(data):
        if os.path.basename(path) in names and os.path.basename(path) not in out:
            target = path
            for _ in range(8):
                target = links.get(target, target)
            if target in data:
                out[os.path.basename(path)] = data[target]
    return out


def iperf_files(arch, debs):
    """[(path in the initramfs, bytes)]: iperf, the dynamic loader and the
    libraries it needs, from the .debs of IPERF_PACKAGES."""
    loader = os.path.basename(LOADER[arch])
    want = {"iperf": "usr/bin/iperf", loader: LOADER[arch]}
    want.update({lib: f"lib/{TRIPLET[arch]}/{lib}" for lib in IPERF_LIBS})
    found = {}
    for deb in debs:
        found.update(deb_files(deb, set(want) - set(found)))
    missing = sorted(set(want) - set(found))
    if missing:
        raise Unavailable(f"the iperf packages have no {', '.join(missing)}")
    return [(want[n], found[n]) for n in want]


def with_files(files):
    """cpio entries for files ((path, bytes)) and the directories above them."""
    dirs = sorted(({os.path.dirname(p) for p, _ in files} |
                   {os.path.dirname(os.path.dirname(p)) for p, _ in files}) - {"", "lib", "bin"})
    return ([(d, S_IFDIR | 0o755, b"") for d in dirs] +
            [(p, S_IFREG | 0o755, d) for p, d in files])


# ---------------------------------------------------------------- initramfs (newc cpio)

S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR = 0o040000, 0o100000, 0o120000, 0o020000


def cpio_entry(ino, name, mode, data=b"", rdev=(0, 0)):
    """One newc record: "070701", 13 8-digit hex fields, the name with its NUL,
    padded to 4 bytes, then the data, padded to 4 bytes (buffer-format.rst)."""
    nameb = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 2 if mode & S_IFDIR else 1, 0, len(data), 0, 0,
              rdev[0], rdev[1], len(nameb), 0]
    head = b"070701" + b"".join(b"%08x" % f for f in fields) + nameb
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def initramfs(busybox, init=INIT, modules=(), files=()):
    """The archive: /init, /bin/busybox (+ sh), /dev/console, the mount points
    and the modules ((file name, bytes), in load order) in /lib/modules; then
    files ((path, bytes), executable) with their directories."""
    entries = [("bin", S_IFDIR | 0o755, b""), ("dev", S_IFDIR | 0o755, b""),
               ("proc", S_IFDIR | 0o755, b""), ("sys", S_IFDIR | 0o755, b""),
               ("tmp", S_IFDIR | 0o1777, b""),
               ("bin/busybox", S_IFREG | 0o755, busybox),
               ("bin/sh", S_IFLNK | 0o777, b"busybox"),
               ("init", S_IFREG | 0o755, init.encode()),
               ("lib", S_IFDIR | 0o755, b""), ("lib/modules", S_IFDIR | 0o755, b"")]
    entries += [(f"lib/modules/{i:02d}-{n}", S_IFREG | 0o644, d) for i, (n, d) in enumerate(modules)]
    entries += with_files(files)
    out = [cpio_entry(i + 1, n, m, d) for i, (n, m, d) in enumerate(entries)]
    out.append(cpio_entry(len(entries) + 1, "dev/console", S_IFCHR | 0o600, rdev=(5, 1)))
    out.append(cpio_entry(0, "TRAILER!!!", 0))
    blob = b"".join(out)
    return blob + b"\0" * (-len(blob) % 512)


# ---------------------------------------------------------------- the cache

@contextlib.contextmanager
def locked(directory):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, LOCK_NAME), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def manifest_for(versions):
    return {"versions": versions, "init_sha256": hashlib.sha256(INIT.encode()).hexdigest(),
            "modules": MODULES, "iperf": [LOADER, IPERF_LIBS]}


def read_manifest(d):
    try:
        with open(os.path.join(d, "manifest.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def cached_guest(arch, d, note=""):
    m = read_manifest(d)
    files = [os.path.join(d, f) for f in ("vmlinuz",) + INITRDS]
    if not m or not all(os.path.isfile(f) for f in files):
        return None
    return Guest(arch, *files, m["versions"], note)


def build_guest(arch, d, versions):
    """Fetch the .debs and write vmlinuz, initramfs.cpio and manifest.json in d."""
    debs_dir = os.path.join(d, "debs")
    os.makedirs(debs_dir, exist_ok=True)
    debs = fetch_debs(versions, debs_dir)
    kernel_deb, busybox_deb = debs[:2]
    with tempfile.TemporaryDirectory(dir=d) as tmp:
        extract_member(kernel_deb, r"\./boot/vmlinuz-.*", os.path.join(tmp, "vmlinuz"))
        extract_member(busybox_deb, r"\./bin/busybox", os.path.join(tmp, "busybox"))
        with open(os.path.join(tmp, "busybox"), "rb") as f:
            busybox = f.read()
        modules = extract_modules(kernel_deb)
        for name, files in zip(INITRDS, ((), iperf_files(arch, debs[2:]))):
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(initramfs(busybox, modules=modules, files=files))
        with open(os.path.join(tmp, "manifest.json"), "w") as f:
            json.dump(manifest_for(versions), f, indent=1)
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(d, "manifest.json"))  # no stale manifest over new files
        for name in ("vmlinuz",) + INITRDS + ("manifest.json",):  # manifest last
            os.replace(os.path.join(tmp, name), os.path.join(d, name))
    keep = {os.path.basename(p) for p in debs}
    for f in os.listdir(debs_dir):
        if f.endswith(".deb") and f not in keep:
            os.remove(os.path.join(debs_dir, f))  # an older kernel's .deb
    return cached_guest(arch, d)


def apt_update():
    """Refresh apt's lists (as root only: the bench never asks for a password)."""
    if os.geteuid() != 0:
        return False
    log("apt-get update, then once more (the lists may name a kernel the archive no longer has)")
    try:
        return subprocess.run(["apt-get", "-q", "update"], capture_output=True,
                              timeout=300).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def guest(arch, cache):
    """The Linux guest for arch, from the cache when it matches apt's current
    candidates, else built anew. Raises Unavailable with the reason."""
    d = os.path.join(cache, arch)
    with locked(cache):
        for attempt in (1, 2):
            try:
                versions = resolve(arch)
                m = read_manifest(d)
                g = cached_guest(arch, d) if m == manifest_for(versions) else None
                return g or build_guest(arch, d, versions)
            except Unavailable as e:
                if attempt == 1 and apt_update():
                    continue
                g = cached_guest(arch, d, note=f"using the cached guest: {e}")
                if g:
                    return g
                raise
