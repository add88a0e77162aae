"""QEMU for noos: the command line per arch and machine, running a guest with a
timeout, mapping QEMU's exit status back to the guest's, and symbolizing the
panic backtraces the guest prints. Shared by cli.py (`./noos run`) and
guest.py (the guest-test driver meson runs).

Standard library only: this runs right after `./noos setup` on a bare Debian.
"""

import dataclasses
import os
import re
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostfwd  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ARCHES = {
    # arch: (QEMU binary, default machine, machines noos supports)
    "x86_64": ("qemu-system-x86_64", "q35", ("q35", "pc", "microvm")),
    "aarch64": ("qemu-system-aarch64", "virt", ("virt",)),
}

# ELF e_machine values (System V ABI, "Machine" field).
ELF_MACHINES = {62: "x86_64", 183: "aarch64"}

# isa-debug-exit turns the guest's write of v into QEMU status (v << 1) | 1.
ISA_DEBUG_EXIT = "isa-debug-exit,iobase=0xf4,iosize=0x04"


class UsageError(Exception):
    """A request that cannot be turned into a QEMU command line."""


@dataclasses.dataclass
class Config:
    arch: str
    kernel: str  # what -kernel takes (None: boot from extra, e.g. -cdrom): the ELF on x86_64, the arm64 Image on aarch64
    elf: str = None  # the ELF with symbols, for the panic backtrace
    machine: str = None  # default per arch; may carry QEMU options ("virt,gic-version=3")
    cpu: str = "max"
    smp: int = 1
    mem: str = "128M"
    append: str = None
    net: str = "none"  # none | user | tap
    transport: str = None  # pci | mmio: how virtio devices attach (default: mmio on microvm)
    fwd: list = dataclasses.field(default_factory=list)  # ["[tcp:|udp:]HOSTPORT:GUESTPORT", ...]
    restrict: bool = False  # user network restrict=on: only forwarded ports (and no gateway in DHCP)
    tap: str = "noos0"
    prefix: list = dataclasses.field(default_factory=list)  # run QEMU under this (ip netns exec NS)
    kvm: bool = False
    extra: list = dataclasses.field(default_factory=list)  # more QEMU arguments, verbatim
    cdrom: str = None  # boot this ISO (GRUB, multiboot2) when there is no kernel
    disk: str = None  # boot this raw disk image (NAME-uefi.img) when there is no kernel
    uefi: bool = False  # UEFI firmware (OVMF) instead of QEMU's default BIOS; x86_64 only


def machine_base(machine):
    return machine.split(",", 1)[0]


def check_config(cfg):
    if cfg.arch not in ARCHES:
        raise UsageError(f"unknown arch {cfg.arch!r} (x86_64 or aarch64)")
    _, default, machines = ARCHES[cfg.arch]
    cfg.machine = cfg.machine or default
    if machine_base(cfg.machine) not in machines:
        raise UsageError(f"{cfg.arch} runs on {', '.join(machines)}, not {cfg.machine!r}")
    if cfg.net not in ("none", "user", "tap"):
        raise UsageError(f"--net is user, tap or none, not {cfg.net!r}")
    cfg.transport = cfg.transport or ("mmio" if machine_base(cfg.machine) == "microvm" else "pci")
    if cfg.transport not in ("pci", "mmio"):
        raise UsageError(f"--transport is pci or mmio, not {cfg.transport!r}")
    if cfg.net != "none" and cfg.transport == "mmio" and machine_base(cfg.machine) in ("q35", "pc"):
        raise UsageError(f"{cfg.machine} has no virtio-mmio slots: use --machine microvm")
    if cfg.net != "none" and cfg.transport == "pci" and machine_base(cfg.machine) == "microvm":
        raise UsageError("microvm is run without PCI here: use --transport mmio")
    for f in cfg.fwd:
        if not re.fullmatch(r"(tcp:|udp:)?\d{1,5}:\d{1,5}", f):
            raise UsageError(f"--fwd takes [tcp:|udp:]HOSTPORT:GUESTPORT, not {f!r}")
        if cfg.net != "user":
            raise UsageError("--fwd needs --net user")
    if int(cfg.smp) < 1:
        raise UsageError("--smp must be at least 1")
    if (cfg.cdrom or cfg.disk or cfg.uefi) and cfg.arch != "x86_64":
        raise UsageError("ISO, UEFI disk and UEFI firmware boots are x86_64 only")
    if (cfg.cdrom or cfg.disk) and machine_base(cfg.machine) == "microvm":
        raise UsageError("microvm has no disk or CD-ROM: boot the ELF (-kernel) there")


# OVMF (Debian package ovmf): the code read-only, the variable store as a
# snapshot so no run changes the installed file.
OVMF_DIRS = ("/usr/share/OVMF",)
OVMF_PAIRS = (("OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"), ("OVMF_CODE.fd", "OVMF_VARS.fd"))


def uefi_args():
    for d in OVMF_DIRS:
        for code, vars_ in OVMF_PAIRS:
            if os.path.isfile(os.path.join(d, code)) and os.path.isfile(os.path.join(d, vars_)):
                return ["-drive", f"if=pflash,format=raw,readonly=on,file={os.path.join(d, code)}",
                        "-drive", f"if=pflash,format=raw,snapshot=on,file={os.path.join(d, vars_)}"]
    raise UsageError("UEFI needs OVMF (/usr/share/OVMF/OVMF_CODE_4M.fd; ./noos setup installs ovmf)")


def boot_args(cfg):
    """What to boot: -kernel (the default), or firmware loading GRUB from an ISO or a disk."""
    args = uefi_args() if cfg.uefi else []
    if cfg.kernel:
        args += ["-kernel", cfg.kernel]
        if cfg.append:
            args += ["-append", cfg.append]
    elif cfg.cdrom:
        args += ["-drive", f"if=ide,media=cdrom,readonly=on,format=raw,file={cfg.cdrom}",
                 "-boot", "d"]
    elif cfg.disk:  # a snapshot: the image file is never written
        args += ["-drive", f"if=ide,format=raw,snapshot=on,file={cfg.disk}"]
    return args


def net_args(cfg):
    """Network backend and virtio-net device. Host forwards bind 127.0.0.1 only."""
    if cfg.net == "none":
        return []
    if cfg.net == "user":
        fwd = ""
        for f in cfg.fwd:
            proto, h, g = (f if f.count(":") == 2 else "tcp:" + f).split(":")
            fwd += f",hostfwd={proto}:127.0.0.1:{h}-:{g}"
        backend = f"user,id=net0,restrict={'on' if cfg.restrict else 'off'}" + fwd
    else:
        backend = f"tap,id=net0,ifname={cfg.tap},script=no,downscript=no"
    dev = "virtio-net-pci" if cfg.transport == "pci" else "virtio-net-device"
    return ["-netdev", backend, "-device", f"{dev},netdev=net0"]


def command(cfg):
    """The full QEMU command line for cfg (checked first)."""
    check_config(cfg)
    binary = ARCHES[cfg.arch][0]
    args = [binary, "-M", cfg.machine, "-cpu", cfg.cpu, "-m", str(cfg.mem), "-smp", str(cfg.smp)]
    args += ["-accel", "kvm" if cfg.kvm else "tcg"]
    args += ["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot", "-serial", "stdio"]
    if cfg.arch == "x86_64":
        args += ["-device", ISA_DEBUG_EXIT]
    else:
        args += ["-semihosting-config", "enable=on,target=native"]
    args += boot_args(cfg)  # or, with none of kernel, cdrom, disk: from the extra arguments
    return list(cfg.prefix) + args + net_args(cfg) + list(cfg.extra)


# ---------------------------------------------------------------- exit status

NO_STATUS = 125  # what `./noos run` exits with when the guest left no status


@dataclasses.dataclass
class Outcome:
    guest_status: int = None  # what the guest's main returned / passed to exit(); None if unknown
    qemu_status: int = None  # QEMU's own exit status (negative: killed by that signal)
    timed_out: bool = False
    qemu_failed: bool = False  # QEMU itself refused to start or crashed
    output: str = ""  # serial output, symbolized
    stderr: str = ""  # QEMU's own messages
    elapsed: float = 0.0

    def describe(self):
        if self.timed_out:
            return f"timed out after {self.elapsed:.1f}s: the guest hung (QEMU killed)"
        if self.qemu_failed:
            return f"QEMU failed (status {self.qemu_status}): {first_error(self.stderr) or 'no message'}"
        if self.qemu_status is not None and self.qemu_status < 0:
            return f"QEMU was killed by signal {-self.qemu_status}"
        if self.guest_status is None:
            return "the guest reset or powered off without an exit status"
        return f"guest exited with status {self.guest_status}"


def first_error(stderr):
    for line in stderr.splitlines():
        if line.startswith(("qemu-system-", "qemu:")) and "warning:" not in line:
            return line
    return ""


def map_status(arch, rc, stderr=""):
    """QEMU's exit status -> (guest status or None, QEMU failed?).

    x86_64: isa-debug-exit makes QEMU exit (v << 1) | 1 for the guest's v, so
    odd statuses carry v; 0 means the guest reset or powered off without
    writing it (QEMU exits 0 then). aarch64: semihosting SYS_EXIT makes QEMU
    exit with the status itself, and PSCI SYSTEM_OFF exits 0 (status 0).
    Status 1 is also what QEMU exits with when it fails to start; its message
    on stderr tells the two apart.
    """
    if rc < 0:
        return None, False
    if rc == 1 and first_error(stderr):
        return None, True
    if arch == "x86_64":
        if rc == 0:
            return None, False
        if rc & 1:
            return rc >> 1, False
        return None, True
    return rc, False


# ---------------------------------------------------------------- symbolization

PANIC_RE = re.compile(r"PANIC:")
FRAME_RE = re.compile(r"^(\s*#\d+\s+0x([0-9a-fA-F]+))(\s+\(pc\))?\s*$")


def elf_text_ranges(path):
    """Executable PT_LOAD ranges of a 64-bit little-endian ELF (ELF-64 spec, program header)."""
    try:
        with open(path, "rb") as f:
            ident = f.read(64)
            if len(ident) < 64 or ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
                return []
            phoff, = struct.unpack_from("<Q", ident, 32)
            phentsize, phnum = struct.unpack_from("<HH", ident, 54)
            ranges = []
            for i in range(phnum):
                f.seek(phoff + i * phentsize)
                p_type, p_flags, _, vaddr, _, _, memsz, _ = struct.unpack("<IIQQQQQQ", f.read(56))
                if p_type == 1 and p_flags & 1:  # PT_LOAD, PF_X
                    ranges.append((vaddr, vaddr + memsz))
            return ranges
    except OSError:
        return []


def elf_arch(path):
    """x86_64 / aarch64 from the ELF header's e_machine, or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    return ELF_MACHINES.get(struct.unpack_from("<H", head, 18)[0])


def find_symbolizer():
    for name in ("llvm-symbolizer", "llvm-symbolizer-14"):
        path = shutil.which(name)
        if path:
            return path
    return None


def short_path(path):
    path = os.path.normpath(path)
    if path.startswith(ROOT + os.sep):
        return os.path.relpath(path, ROOT)
    return path


class Symbolizer:
    """Turns code addresses of one ELF into 'FUNC at FILE:LINE' with a long-lived
    llvm-symbolizer (one address per line in, a blank-line-ended block out)."""

    def __init__(self, elf):
        self.elf = elf
        self.ranges = elf_text_ranges(elf) if elf else []
        self.proc = None
        self.cache = {}

    def _start(self):
        tool = find_symbolizer()
        if not tool or not self.ranges:
            return False
        self.proc = subprocess.Popen(
            [tool, "--obj=" + self.elf, "--functions=linkage", "--inlines", "--demangle"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1)
        return True

    def _query(self, addr):
        if self.proc is None and not self._start():
            return []
        try:
            self.proc.stdin.write(f"{addr:#x}\n")
            self.proc.stdin.flush()
            lines = []
            while True:
                line = self.proc.stdout.readline()
                if not line or not line.strip():
                    break
                lines.append(line.strip())
            return lines
        except (BrokenPipeError, OSError):
            return []

    def lookup(self, addr):
        """' in FUNC at FILE:LINE' (with any inlining chain), or '' if unknown."""
        if not any(lo <= addr < hi for lo, hi in self.ranges):
            return ""
        if addr not in self.cache:
            self.cache[addr] = self._format(self._query(addr))
        return self.cache[addr]

    @staticmethod
    def _format(lines):
        frames = []
        for func, loc in zip(lines[0::2], lines[1::2]):
            if func == "??":
                continue
            path, _, rest = loc.partition(":")
            where = f"{short_path(path)}:{rest.split(':')[0]}" if path != "??" else "??"
            frames.append(f"{func} at {where}")
        if not frames:
            return ""
        text = " in " + frames[0]
        for f in frames[1:]:
            text += f" (inlined into {f})"
        return text

    def annotate(self, line):
        """A backtrace line with its symbol appended; other lines unchanged."""
        m = FRAME_RE.match(line)
        if not m:
            return line
        addr = int(m.group(2), 16)
        exact = m.group(3) is not None
        where = self.lookup(addr if exact or addr == 0 else addr - 1)
        return line.rstrip() + where if where else line

    def close(self):
        if self.proc:
            self.proc.stdin.close()
            self.proc.wait()
            self.proc = None


class SerialFilter:
    """Streams serial output through, appending symbols to the '  #N 0xADDR'
    lines that follow a 'PANIC:' line. Bytes pass through as they arrive (so
    prompts without a newline show up at once); the symbol is written just
    before the line's end."""

    def __init__(self, symbolizer, write):
        self.sym = symbolizer
        self.write = write
        self.line = ""
        self.held_cr = False
        self.panicking = False

    def feed(self, text):
        out = []
        for ch in text:
            if ch == "\n":
                out.append(self._end_of_line())
                out.append("\r\n" if self.held_cr else "\n")
                self.held_cr = False
                self.line = ""
            elif ch == "\r":
                if self.held_cr:
                    out.append("\r")
                self.held_cr = True
            else:
                if self.held_cr:
                    out.append("\r")
                    self.held_cr = False
                out.append(ch)
                self.line += ch
        if out:
            self.write("".join(out))

    def _end_of_line(self):
        line = self.line
        if PANIC_RE.search(line):
            self.panicking = True
            return ""
        if not self.panicking or self.sym is None:
            return ""
        return self.sym.annotate(line)[len(line.rstrip()):] if FRAME_RE.match(line) else ""

    def finish(self):
        if self.held_cr:
            self.write("\r")
            self.held_cr = False


def symbolize_text(text, elf):
    """Symbolize every panic backtrace in a whole captured output."""
    out = []
    sym = Symbolizer(elf) if elf else None
    f = SerialFilter(sym, out.append)
    f.feed(text)
    f.finish()
    if sym:
        sym.close()
    return "".join(out)


# ---------------------------------------------------------------- running

def _die_with_parent():
    """In the QEMU child: get SIGKILL if the runner dies, however it dies
    (prctl PR_SET_PDEATHSIG), so no QEMU outlives its test."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except Exception:
        pass


class Capture:
    """What a stream said, kept whole up to `limit` characters; past that the
    first and last halves, so a guest printing in a loop until the timeout
    cannot fill the memory and the log."""

    def __init__(self, limit=4 << 20):
        self.half = limit // 2
        self.head, self.tail = [], []
        self.head_len = self.tail_len = self.dropped = 0

    def append(self, s):
        if self.head_len < self.half:
            s_head, s = s[:self.half - self.head_len], s[self.half - self.head_len:]
            self.head.append(s_head)
            self.head_len += len(s_head)
        if s:
            self.tail.append(s)
            self.tail_len += len(s)
            while self.tail_len - len(self.tail[0]) >= self.half:
                self.tail_len -= len(self.tail[0])
                self.dropped += len(self.tail.pop(0))

    def text(self):
        mid = f"\n[... {self.dropped} characters dropped ...]\n" if self.dropped else ""
        return "".join(self.head) + mid + "".join(self.tail)


class Runner:
    """One QEMU process, killed on a timeout, on SIGTERM/SIGINT to the runner,
    and (PR_SET_PDEATHSIG) when the runner dies. With own_group (tests) QEMU
    gets its own process group and is killed as a group; without it
    (interactive runs) it stays in the terminal's group so Ctrl-C reaches it
    and it restores the terminal itself."""

    def __init__(self, cfg, timeout=None, echo=None, stdin=subprocess.DEVNULL, own_group=True,
                 echo_err=None):
        self.cfg = cfg
        self.timeout = timeout
        self.echo = echo  # called with each piece of (symbolized) serial output
        self.echo_err = echo_err  # called with each piece of QEMU's stderr
        self.stdin = stdin
        self.own_group = own_group
        self.proc = None
        self.fwd_problems = None  # what _widen_forwards could not do (a list, once QEMU runs)

    def _signal(self, signum):
        try:
            if self.own_group:
                os.killpg(self.proc.pid, signum)
            else:
                self.proc.send_signal(signum)
        except ProcessLookupError:
            pass

    def kill(self, grace=0.0):
        """Stop QEMU: SIGTERM first when grace > 0 (it then restores the
        terminal and exits), SIGKILL after that or at once."""
        if not self.proc or self.proc.poll() is not None:
            return
        if grace > 0:
            self._signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                pass
        self._signal(signal.SIGKILL)
        self.proc.wait()

    def _on_signal(self, signum, _frame):
        self.kill(grace=2.0)
        raise SystemExit(128 + signum)

    def run(self):
        argv = command(self.cfg)
        if not shutil.which(argv[0]):
            raise FileNotFoundError(f"{argv[0]} is not installed (./noos setup installs it)")
        out, err = Capture(), Capture()
        sym = Symbolizer(self.cfg.elf) if self.cfg.elf else None
        sink = out.append if self.echo is None else (lambda s: (out.append(s), self.echo(s)))
        filt = SerialFilter(sym, sink)
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)
               if _main_thread()}
        start = time.monotonic()
        outcome = Outcome()
        try:
            self.proc = subprocess.Popen(argv, stdin=self.stdin, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=self.own_group,
                                         preexec_fn=_die_with_parent)
            outcome.timed_out = not self._pump(filt, err, start)
            filt.finish()
        finally:
            self.kill(grace=0.0 if self.own_group else 2.0)
            for pipe in (self.proc.stdout, self.proc.stderr) if self.proc else ():
                pipe.close()
            for s, h in old.items():
                signal.signal(s, h)
            if sym:
                sym.close()
        outcome.elapsed = time.monotonic() - start
        outcome.qemu_status = self.proc.returncode
        outcome.output, outcome.stderr = out.text(), err.text()
        if not outcome.timed_out:
            outcome.guest_status, outcome.qemu_failed = map_status(
                self.cfg.arch, outcome.qemu_status, outcome.stderr)
        return outcome

    def _pump(self, filt, err, start):
        """Read QEMU's stdout (serial) and stderr until both close; False on timeout."""
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ, filt.feed)
        err_sink = err.append if self.echo_err is None else (
            lambda s: (err.append(s), self.echo_err(s)))
        sel.register(self.proc.stderr, selectors.EVENT_READ, err_sink)
        decoders = {}
        open_streams = 2
        while open_streams:
            wait = None
            if self.timeout is not None:
                wait = self.timeout - (time.monotonic() - start)
                if wait <= 0:
                    return False
            for key, _ in sel.select(wait):
                data = os.read(key.fd, 65536)
                if not data:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if self.fwd_problems is None and key.fileobj is self.proc.stdout:
                    self.fwd_problems = self._widen_forwards()  # before the guest is heard
                dec = decoders.setdefault(key.fd, _decoder())
                key.data(dec.decode(data))
        sel.close()
        try:
            self.proc.wait(timeout=None if self.timeout is None else
                           max(0.1, self.timeout - (time.monotonic() - start)))
        except subprocess.TimeoutExpired:
            return False
        return True

    def _widen_forwards(self):
        """Room in the accept queues of QEMU's forwarded TCP ports for a burst
        of connections (hostfwd.py says why). Called at the guest's first serial
        output, when QEMU has made its netdevs; returns the problems."""
        ports = hostfwd.tcp_ports(self.cfg.fwd) if self.cfg.net == "user" else []
        return hostfwd.widen(self.proc.pid, ports) if ports else []


def _decoder():
    import codecs
    return codecs.getincrementaldecoder("utf-8")(errors="replace")


def _main_thread():
    import threading
    return threading.current_thread() is threading.main_thread()


def run(cfg, timeout=None, echo=None, stdin=subprocess.DEVNULL, own_group=True, echo_err=None):
    return Runner(cfg, timeout, echo, stdin, own_group, echo_err).run()


def stderr_write(text):
    sys.stderr.write(text)
    sys.stderr.flush()
