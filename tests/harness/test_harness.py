#!/usr/bin/env python3
"""Host tests of the harness itself: QEMU command lines, exit-status mapping,
panic symbolization, the runner's timeout and cleanup (against a fake QEMU on
PATH, so no VM is needed), guest.py's verdicts and ./noos test's counting."""

import io
import json
import os
import stat
import subprocess
import sys
import tempfile
import time
import unittest
from contextlib import redirect_stdout

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cli  # noqa: E402
import guest  # noqa: E402
import hostfwd  # noqa: E402
import qemu  # noqa: E402


class Command(unittest.TestCase):
    def test_x86_defaults(self):
        argv = qemu.command(qemu.Config(arch="x86_64", kernel="k.elf", append="a b"))
        self.assertEqual(argv[:3], ["qemu-system-x86_64", "-M", "q35"])
        for flag in (["-cpu", "max"], ["-m", "128M"], ["-smp", "1"], ["-accel", "tcg"],
                     ["-device", qemu.ISA_DEBUG_EXIT], ["-kernel", "k.elf"], ["-append", "a b"]):
            self.assertIn(flag, [argv[i:i + len(flag)] for i in range(len(argv))])
        for flag in ("-nodefaults", "-no-user-config", "-no-reboot"):
            self.assertIn(flag, argv)
        self.assertNotIn("-semihosting-config", argv)

    def test_aarch64_defaults(self):
        argv = qemu.command(qemu.Config(arch="aarch64", kernel="k.img"))
        self.assertEqual(argv[:3], ["qemu-system-aarch64", "-M", "virt"])
        self.assertIn("-semihosting-config", argv)
        self.assertNotIn(qemu.ISA_DEBUG_EXIT, argv)
        self.assertNotIn("-append", argv)

    def test_kvm_only_when_asked(self):
        self.assertIn("kvm", qemu.command(qemu.Config(arch="x86_64", kernel="k", kvm=True)))
        self.assertNotIn("kvm", qemu.command(qemu.Config(arch="x86_64", kernel="k")))

    def test_bad_requests(self):
        bad = [dict(arch="riscv64"), dict(arch="x86_64", machine="virt"),
               dict(arch="aarch64", machine="q35"), dict(arch="x86_64", net="bridge"),
               dict(arch="x86_64", fwd=["8080:80"]), dict(arch="x86_64", net="user", fwd=["x:80"]),
               dict(arch="x86_64", net="user", transport="mmio"), dict(arch="x86_64", smp=0)]
        for kw in bad:
            with self.subTest(kw=kw), self.assertRaises(qemu.UsageError):
                qemu.command(qemu.Config(kernel="k", **kw))

    def test_iso_and_uefi_disk(self):
        argv = qemu.command(qemu.Config(arch="x86_64", kernel=None, cdrom="h.iso"))
        self.assertIn("if=ide,media=cdrom,readonly=on,format=raw,file=h.iso", argv)
        self.assertNotIn("-kernel", argv)
        if os.path.isfile("/usr/share/OVMF/OVMF_CODE_4M.fd"):
            argv = qemu.command(qemu.Config(arch="x86_64", kernel=None, disk="h.img", uefi=True))
            self.assertIn("if=ide,format=raw,snapshot=on,file=h.img", argv)
            flash = [a for a in argv if a.startswith("if=pflash")]
            self.assertEqual(len(flash), 2)
            self.assertIn("readonly=on", flash[0])
            self.assertIn("snapshot=on", flash[1])  # the installed variable store stays as it is
        for kw in (dict(arch="aarch64", disk="h.img", uefi=True), dict(arch="aarch64", cdrom="h.iso"),
                   dict(arch="x86_64", machine="microvm", cdrom="h.iso")):
            with self.subTest(kw=kw), self.assertRaises(qemu.UsageError):
                qemu.command(qemu.Config(kernel=None, **kw))

    def test_machine_options_pass(self):
        argv = qemu.command(qemu.Config(arch="aarch64", kernel="k", machine="virt,gic-version=3"))
        self.assertIn("virt,gic-version=3", argv)

    def test_network_loopback_only(self):
        argv = qemu.command(qemu.Config(arch="x86_64", kernel="k", net="user", fwd=["8080:80"]))
        netdev = argv[argv.index("-netdev") + 1]
        self.assertIn("hostfwd=tcp:127.0.0.1:8080-:80", netdev)
        self.assertIn("virtio-net-pci,netdev=net0", argv)
        argv = qemu.command(qemu.Config(arch="x86_64", kernel="k", machine="microvm", net="user"))
        self.assertIn("virtio-net-device,netdev=net0", argv)


class Status(unittest.TestCase):
    def test_x86_isa_debug_exit(self):
        self.assertEqual(qemu.map_status("x86_64", 7), (3, False))
        self.assertEqual(qemu.map_status("x86_64", 1), (0, False))
        self.assertEqual(qemu.map_status("x86_64", 203), (101, False))
        self.assertEqual(qemu.map_status("x86_64", 0), (None, False))  # reset / power-off
        self.assertEqual(qemu.map_status("x86_64", 2), (None, True))

    def test_aarch64_semihosting(self):
        self.assertEqual(qemu.map_status("aarch64", 3), (3, False))
        self.assertEqual(qemu.map_status("aarch64", 0), (0, False))

    def test_qemu_failure_is_not_status_0(self):
        err = "qemu-system-x86_64: -bogus: invalid option\n"
        self.assertEqual(qemu.map_status("x86_64", 1, err), (None, True))
        self.assertEqual(qemu.map_status("aarch64", 1, err), (None, True))
        warn = "qemu-system-x86_64: warning: host doesn't support requested feature\n"
        self.assertEqual(qemu.map_status("x86_64", 1, warn), (0, False))
        # The x86 -kernel loader says "qemu: ..." and exits 1, which would read as status 0.
        self.assertEqual(qemu.map_status("x86_64", 1, "qemu: invalid kernel header\n"), (None, True))


class Captured(unittest.TestCase):
    def test_bounded(self):
        c = qemu.Capture(limit=10)
        for piece in ("abc", "defgh", "ijklmnop", "qrstuvwxyz"):
            c.append(piece)
        text = c.text()
        self.assertTrue(text.startswith("abcde"))
        self.assertTrue(text.endswith("vwxyz"))
        self.assertIn("characters dropped", text)
        small = qemu.Capture(limit=100)
        small.append("hello")
        self.assertEqual(small.text(), "hello")


class FakeSymbolizer:
    def annotate(self, line):
        m = qemu.FRAME_RE.match(line)
        return line.rstrip() + f" in f{m.group(2)}" if m else line


class Symbols(unittest.TestCase):
    def filtered(self, chunks):
        out = []
        f = qemu.SerialFilter(FakeSymbolizer(), out.append)
        for c in chunks:
            f.feed(c)
        f.finish()
        return "".join(out)

    def test_only_after_panic(self):
        text = "  #0 0x10\nPANIC: boom\nbacktrace:\n  #0 0x20 (pc)\n  #1 0x30\nbye\n"
        self.assertEqual(self.filtered([text]),
                         "  #0 0x10\nPANIC: boom\nbacktrace:\n  #0 0x20 (pc) in f20\n"
                         "  #1 0x30 in f30\nbye\n")

    def test_split_chunks_and_crlf(self):
        text = "PANIC: x\r\n  #0 0x20\r\n"
        for cut in range(1, len(text)):
            with self.subTest(cut=cut):
                self.assertEqual(self.filtered([text[:cut], text[cut:]]),
                                 "PANIC: x\r\n  #0 0x20 in f20\r\n")

    def test_partial_line_passes_at_once(self):
        out = []
        qemu.SerialFilter(FakeSymbolizer(), out.append).feed("login: ")
        self.assertEqual(out, ["login: "])

    def test_llvm_symbolizer_format(self):
        lines = ["inner", "/x/rt/a.c:10:3", "outer", "/x/rt/b.c:20:0"]
        self.assertEqual(qemu.Symbolizer._format(lines),
                         " in inner at /x/rt/a.c:10 (inlined into outer at /x/rt/b.c:20)")
        self.assertEqual(qemu.Symbolizer._format(["??", "??:0:0"]), "")

    def test_return_address_looks_up_the_call(self):
        class Probe(qemu.Symbolizer):
            def __init__(self):
                super().__init__(None)
                self.ranges = [(0x1000, 0x2000)]
                self.asked = []

            def _query(self, addr):
                self.asked.append(addr)
                return ["f", "/x/f.c:1:0"]

        s = Probe()
        s.annotate("  #1 0x1100")
        s.annotate("  #0 0x1200 (pc)")
        s.annotate("  #2 0x9000")  # outside the image's code: not looked up
        self.assertEqual(s.asked, [0x10ff, 0x1200])

    def test_elf_without_symbols_is_harmless(self):
        self.assertEqual(qemu.symbolize_text("PANIC: x\n  #0 0x10\n", "/nonexistent"),
                         "PANIC: x\n  #0 0x10\n")


FAKE_QEMU = """#!/bin/sh
# A stand-in for qemu-system-*: behaviour chosen by the -append argument.
while [ $# -gt 1 ]; do
    [ "$1" = -append ] && mode=$2
    [ "$1" = -netdev ] && netdev=$2
    shift
done
case "$mode" in
exit3) echo "Hello from noos!"; exit 7 ;;
hang) sleep 300 & echo $! > "$PIDFILE"; echo booting; wait ;;
reset) echo rebooting; exit 0 ;;
serve) echo READY; sleep 300 & echo $! > "$PIDFILE"; wait ;;
listen) exec python3 "$(dirname "$0")/listen.py" "$netdev" ;;
esac
"""

# The fake's "listen": a forwarded port listened on as QEMU's user network does.
FAKE_LISTEN = """import re, socket, sys, time
port = int(re.search(r"hostfwd=tcp:127.0.0.1:(\\d+)-", sys.argv[1]).group(1))
s = socket.socket()
s.bind(("127.0.0.1", port))
s.listen(1)
print("READY", flush=True)
time.sleep(300)
"""


class FakeQemu(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        for name in ("qemu-system-x86_64", "qemu-system-aarch64"):
            path = os.path.join(self.dir.name, name)
            with open(path, "w") as f:
                f.write(FAKE_QEMU)
            os.chmod(path, stat.S_IRWXU)
        with open(os.path.join(self.dir.name, "listen.py"), "w") as f:
            f.write(FAKE_LISTEN)
        self.pidfile = os.path.join(self.dir.name, "child.pid")
        self.env = {"PATH": os.environ["PATH"], "PIDFILE": os.environ.get("PIDFILE")}
        os.environ["PATH"] = self.dir.name + os.pathsep + os.environ["PATH"]
        os.environ["PIDFILE"] = self.pidfile

    def tearDown(self):
        for k, v in self.env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self.dir.cleanup()

    def cfg(self, mode):
        return qemu.Config(arch="x86_64", kernel="k", append=mode)

    def test_status_mapped(self):
        o = qemu.run(self.cfg("exit3"), timeout=20)
        self.assertEqual((o.guest_status, o.timed_out), (3, False))
        self.assertIn("Hello from noos!", o.output)

    def test_reset_has_no_status(self):
        o = qemu.run(self.cfg("reset"), timeout=20)
        self.assertIsNone(o.guest_status)
        self.assertIn("without an exit status", o.describe())

    def test_hang_kills_the_whole_group(self):
        start = time.monotonic()
        o = qemu.run(self.cfg("hang"), timeout=1.0)
        self.assertTrue(o.timed_out)
        self.assertLess(time.monotonic() - start, 10)
        self.assertIn("booting", o.output)
        with open(self.pidfile) as f:
            child = int(f.read())
        for _ in range(50):  # the group was SIGKILLed; give the kernel a moment to reap
            if not os.path.exists(f"/proc/{child}") or _zombie(child):
                break
            time.sleep(0.1)
        self.assertTrue(not os.path.exists(f"/proc/{child}") or _zombie(child),
                        "QEMU's child survived the timeout")

    def guest(self, *extra):
        buf = io.StringIO()
        with redirect_stdout(buf):
            rc = guest.main(["--arch", "x86_64", "--kernel", __file__, "--elf", __file__] + list(extra))
        return rc, buf.getvalue()

    def test_guest_verdicts(self):
        self.assertEqual(self.guest("--append", "exit3", "--status", "3",
                                    "--expect", "^Hello from")[0], guest.PASS)
        rc, out = self.guest("--append", "exit3", "--status", "0")
        self.assertEqual(rc, guest.FAIL)
        self.assertIn("guest exited with status 3, expected 0", out)
        rc, out = self.guest("--append", "exit3", "--status", "3", "--expect", "nowhere")
        self.assertEqual(rc, guest.FAIL)
        rc, out = self.guest("--append", "exit3", "--status", "3", "--reject", "Hello")
        self.assertEqual(rc, guest.FAIL)
        rc, out = self.guest("--append", "hang", "--timeout", "1")
        self.assertEqual(rc, guest.FAIL)
        self.assertIn("timed out", out)
        rc, out = self.guest("--append", "reset")
        self.assertEqual(rc, guest.FAIL)

    def test_host_check(self):
        net = ["--append", "serve", "--net", "user", "--forward", "80", "--forward", "udp:7"]
        rc, out = self.guest(*net, "--host-check", "sh -c 'test {tcp:80} -gt 1023 -a {udp:7} -gt 1023'")
        self.assertEqual(rc, guest.PASS, out)
        self.assertIn("killed by signal", out)  # a serving guest is stopped after its check
        rc, out = self.guest(*net, "--host-check", "sh -c 'exit 4'")
        self.assertEqual(rc, guest.FAIL)
        self.assertIn("host check exited with status 4", out)
        rc, out = self.guest(*net, "--host-check", "true", "--expect", "nowhere")
        self.assertEqual(rc, guest.FAIL)
        rc, out = self.guest("--append", "exit3", "--net", "user", "--host-check", "true",
                             "--timeout", "5")
        self.assertEqual(rc, guest.FAIL)
        self.assertIn("never printed", out)

    def test_forwards_widened(self):
        ss = f"ss -Hltn 'sport = :{{tcp:80}}' | grep -q ' {hostfwd.BACKLOG} '"
        rc, out = self.guest("--append", "listen", "--net", "user", "--forward", "80",
                             "--ready", "READY", "--timeout", "20", "--host-check", f"sh -c \"{ss}\"")
        self.assertEqual(rc, guest.PASS, out)
        self.assertNotIn("not widened", out)

    def test_plain_output_for_regexes(self):
        self.assertEqual(guest.plain("\x1b[H\x1b[J\x1b[1;1H  Booting\n\rnoos 0.1\r\nok\r\n"),
                         "  Booting\nnoos 0.1\nok\n")

    def test_guest_skips_without_qemu(self):
        os.environ["PATH"] = self.dir.name  # no qemu-system-aarch64 there either
        os.remove(os.path.join(self.dir.name, "qemu-system-aarch64"))
        buf = io.StringIO()
        with redirect_stdout(buf):
            rc = guest.main(["--arch", "aarch64", "--kernel", __file__])
        self.assertEqual(rc, guest.SKIP)


LISTENER = """import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)  # what QEMU's user network does for a forwarded port
print(s.getsockname()[1], flush=True)
sys.stdin.read()  # never accepts; exits when the test closes its stdin
"""


class HostForward(unittest.TestCase):
    """hostfwd.widen: another process's listener (as QEMU's would be) gets
    room for a burst of connections."""

    def queue(self, port):
        """(connections waiting in the accept queue, backlog) as ss reports them."""
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True,
                             text=True, check=True).stdout.split()
        return int(out[1]), int(out[2])

    def burst(self, port, n):
        """n connections at once; how many the listener queued, polled until it stops changing."""
        import socket
        conns = []
        for _ in range(n):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            conns.append(c)
        last, same = -1, 0
        while same < 10:  # ten looks in a row (1 s) without a new connection
            time.sleep(0.1)
            waiting = self.queue(port)[0]
            same = same + 1 if waiting == last else 0
            last = waiting
        for c in conns:
            c.close()
        return last

    def test_ports_of_forwards(self):
        self.assertEqual(hostfwd.tcp_ports(["tcp:5000:80", "5001:7", "udp:5002:7"]), [5000, 5001])

    def test_widen_another_process(self):
        import shutil
        if not shutil.which("ss"):
            self.skipTest("no ss (iproute2)")
        child = subprocess.Popen([sys.executable, "-c", LISTENER], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        try:
            port = int(child.stdout.readline())
            self.assertEqual(self.queue(port), (0, 1))
            self.assertEqual(hostfwd.widen(child.pid, [port]), [])
            self.assertEqual(self.queue(port), (0, hostfwd.BACKLOG))
            self.assertEqual(self.burst(port, 8), 8)  # a backlog of 1 queues 2, drops the rest
            self.assertEqual(len(hostfwd.widen(child.pid, [port + 1 if port < 65535 else 1])), 1)
        finally:
            child.stdin.close()
            child.stdout.close()
            child.wait()


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1].startswith("Z")
    except OSError:
        return True


class Counting(unittest.TestCase):
    def test_testlog(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "testlog.json")
            with open(log, "w") as f:
                for r in ("OK", "OK", "FAIL", "SKIP", "TIMEOUT", "EXPECTEDFAIL", "ERROR"):
                    f.write(json.dumps({"name": "t", "result": r}) + "\n")
            counts = cli.count_results(log)
        self.assertEqual(counts, {"passed": 3, "failed": 3, "skipped": 1})
        self.assertEqual(cli.summary(counts), "3 passed, 3 failed, 1 skipped")
        self.assertEqual(cli.summary({"passed": 2, "failed": 0, "skipped": 0}), "2 passed, 0 failed")
        self.assertEqual(cli.count_results("/nonexistent"), {"passed": 0, "failed": 0, "skipped": 0})


class Script(unittest.TestCase):
    """The ./noos verbs that must refuse, refuse clearly and non-zero."""

    def noos(self, *args):
        return subprocess.run([sys.executable, os.path.join(qemu.ROOT, "tests/harness/cli.py")]
                              + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def test_refusals(self):
        for args, words in ((["run", __file__, "--arch", "x86_64", "--fwd", "8080:80"], "--fwd needs --net user"),
                            (["run", __file__, "--arch", "x86_64", "--boot", "iso"], "--boot is for"),):
            with self.subTest(args=args):
                p = self.noos(*args)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn(words, p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
