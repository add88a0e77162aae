#!/usr/bin/env python3
"""Host tests of the bench's own logic: the initramfs writer, the memory
search, the statistics and targets, the table, and which rows count as broken.
No QEMU and no apt here; the smoke test in the cross builds boots for real."""

import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "harness"))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import linux  # noqa: E402
import net  # noqa: E402
import report  # noqa: E402
import rows  # noqa: E402


def read_cpio(blob):
    """Parse a newc archive independently of the writer: [(name, mode, data, rdev)]."""
    out, off = [], 0
    while True:
        assert blob[off:off + 6] == b"070701", f"bad magic at {off}"
        f = [int(blob[off + 6 + 8 * i:off + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize = f[11], f[6]
        name = blob[off + 110:off + 110 + namesize - 1].decode()
        assert blob[off + 110 + namesize - 1] == 0
        off = (off + 110 + namesize + 3) & ~3
        data = blob[off:off + filesize]
        off = (off + filesize + 3) & ~3
        if name == "TRAILER!!!":
            return out, off
        out.append((name, f[1], data, (f[9], f[10])))


class Initramfs(unittest.TestCase):
    def test_round_trip(self):
        blob = linux.initramfs(b"\x7fELF-busybox", init="#!/bin/sh\necho hi\n")
        self.assertEqual(len(blob) % 512, 0)
        entries, end = read_cpio(blob)
        self.assertTrue(all(b == 0 for b in blob[end:]))
        by_name = {e[0]: e for e in entries}
        self.assertEqual(by_name["bin/busybox"][2], b"\x7fELF-busybox")
        self.assertEqual(by_name["bin/busybox"][1], linux.S_IFREG | 0o755)
        self.assertEqual(by_name["bin/sh"][1] & 0o170000, linux.S_IFLNK)
        self.assertEqual(by_name["bin/sh"][2], b"busybox")
        self.assertEqual(by_name["init"][2], b"#!/bin/sh\necho hi\n")
        self.assertEqual(by_name["dev/console"][3], (5, 1))
        # A directory comes before what is in it (the kernel creates paths in order).
        names = [e[0] for e in entries]
        self.assertLess(names.index("bin"), names.index("bin/busybox"))

    def test_padding_for_every_name_length(self):
        for n in range(1, 9):
            entry = linux.cpio_entry(1, "x" * n, linux.S_IFREG | 0o644, b"abc")
            self.assertEqual(len(entry) % 4, 0)
            entries, _ = read_cpio(entry + linux.cpio_entry(0, "TRAILER!!!", 0))
            self.assertEqual(entries[0][0], "x" * n)
            self.assertEqual(entries[0][2], b"abc")

    def test_init_prints_the_marker_and_powers_off(self):
        self.assertIn(linux.MARKER, linux.INIT)
        self.assertIn("poweroff -f", linux.INIT)

    def test_append(self):
        g = linux.Guest("aarch64", "k", "i", "ii", {})
        self.assertEqual(g.append("boot"), "console=ttyAMA0 quiet panic=-1 bench=boot")
        self.assertTrue(g.append("boot", "x=1").endswith(" x=1"))

    def test_find_deb(self):
        with tempfile.TemporaryDirectory() as d:
            name = "busybox-static_1%3a1.35.0-4_arm64.deb"
            open(os.path.join(d, name), "w").close()
            self.assertEqual(linux.find_deb(d, "busybox-static:arm64", "1:1.35.0-4"),
                             os.path.join(d, name))
            with self.assertRaises(linux.Unavailable):
                linux.find_deb(d, "busybox-static:arm64", "1:1.36")


class HostTsc(unittest.TestCase):
    @unittest.skipUnless(os.uname().machine == "x86_64", "RDTSC is x86_64's")
    def test_plausible_rate(self):
        khz = rows.host_tsc_khz()
        self.assertIsNotNone(khz)
        self.assertTrue(100_000 < khz < 10_000_000, khz)  # 100 MHz .. 10 GHz


class Search(unittest.TestCase):
    def probe(self, threshold):
        seen = []

        def boots(m):
            seen.append(m)
            return m >= threshold
        return boots, seen

    def test_exact(self):
        for t in (2, 3, 37, 127, 128):
            boots, _ = self.probe(t)
            self.assertEqual(rows.smallest(boots, 1, 128, 1), t)

    def test_coarse_step_gives_an_upper_bound_within_the_step(self):
        for t in (17, 64, 65, 100):
            boots, seen = self.probe(t)
            v = rows.smallest(boots, 16, 512, 8)
            self.assertTrue(t <= v < t + 8, (t, v))
            self.assertLessEqual(len(seen), 2 + 6)

    def test_ends(self):
        boots, seen = self.probe(1)
        self.assertEqual(rows.smallest(boots, 1, 128, 1), 1)
        self.assertEqual(seen, [128, 1])
        boots, _ = self.probe(200)
        self.assertIsNone(rows.smallest(boots, 1, 128, 1))


def result(machine="q35", noos=(), linux_=(), floor=(), **kw):
    r = report.Result("boot-exit", "boot", "x86_64", machine, "s", **kw)
    for name, s in (("noos", noos), ("linux", linux_), ("floor", floor)):
        if s:
            r.samples[name] = list(s)
    return r


class Stats(unittest.TestCase):
    def test_min_median_ratio_difference(self):
        r = result(noos=[0.3, 0.1, 0.2], linux_=[2.0, 4.0], floor=[0.05, 0.15])
        self.assertEqual(r.minimum("noos"), 0.1)
        self.assertAlmostEqual(r.median("noos"), 0.2)
        self.assertAlmostEqual(r.median("linux"), 3.0)
        self.assertAlmostEqual(r.ratio(), 0.2 / 3.0)
        self.assertAlmostEqual(r.over_floor(), 0.1)
        self.assertIsNone(result(noos=[1.0]).ratio())
        self.assertEqual(r.missing(), [])
        self.assertEqual(result(noos=[1.0]).missing(), ["linux", "floor"])

    def test_boot_target(self):
        fast = result(noos=[0.110], linux_=[3.0], floor=[0.100])
        self.assertTrue(rows.boot_target(fast))
        self.assertFalse(rows.boot_target(result(noos=[0.2], linux_=[3.0], floor=[0.1])))
        # Within the floor's 20 ms but not 15x faster than Linux on q35.
        self.assertFalse(rows.boot_target(result(noos=[0.110], linux_=[1.0], floor=[0.100])))
        # Elsewhere only the floor counts; without Linux, q35 cannot be told.
        self.assertTrue(rows.boot_target(result("microvm", noos=[0.110], linux_=[0.5], floor=[0.1])))
        self.assertIsNone(rows.boot_target(result(noos=[0.110], floor=[0.1])))
        self.assertFalse(rows.boot_target(result(noos=[0.5], floor=[0.1])))
        self.assertIsNone(rows.boot_target(result(noos=[0.1])))


class Table(unittest.TestCase):
    def test_format(self):
        self.assertEqual(report.fmt(0.1234, "s"), "123 ms")
        self.assertEqual(report.fmt(0.02, "s", signed=True), "+20 ms")
        self.assertEqual(report.fmt(-0.02, "s", signed=True), "-20 ms")
        self.assertEqual(report.fmt(704, "bytes"), "704 B")
        self.assertEqual(report.fmt(2048, "bytes"), "2.0 KiB")
        self.assertEqual(report.fmt(None, "s"), "—")
        self.assertEqual(report.fmt_ratio(0.5), "0.50×")

    def test_markdown_and_json(self):
        ok = result(noos=[0.1], linux_=[2.0], floor=[0.05], note="a|b")
        na = report.not_available("http-rps-keepalive", "HTTP", "x86_64", "needs images/httpd")
        info = report.machine_info(3)
        info["qemu"] = {"x86_64": "7.2"}
        info["linux"] = {"x86_64": "linux-image-x 1"}
        info["load_average"]["after"] = 1.0
        with tempfile.TemporaryDirectory() as d:
            md = report.write(d, info, [ok, na])
            with open(os.path.join(d, "results.json")) as f:
                data = json.load(f)
        lines = [ln for ln in md.splitlines() if ln.startswith("|")]
        self.assertEqual(len(lines), 4)
        width = lines[0].count(" | ")
        self.assertTrue(all(ln.count(" | ") == width for ln in lines[2:]), lines)
        self.assertIn("not available yet (needs images/httpd)", lines[3])
        self.assertIn("a\\|b", lines[2])
        self.assertIn("linux-image-x 1", md)
        self.assertEqual(data["rows"][0]["stats"]["noos"]["min"], 0.1)
        self.assertAlmostEqual(data["rows"][0]["ratio_noos_linux"], 0.05)
        self.assertEqual(data["rows"][1]["status"], "not available")
        self.assertEqual(data["machine"]["runs"], 3)


def ctx(linux_ok=True, images=("hello",)):
    noos = rows.Subject("noos", "k", "m", 7, size=100)
    floor = rows.Subject("floor", "f", "m", 1, size=10)
    lx = rows.Subject("linux", "l", "m", 0, size=1000) if linux_ok else None
    return rows.Ctx("x86_64", ["q35"], 1, True, False, {i: ("e", "b") for i in images},
                    noos, floor, lx, "" if linux_ok else "not available: offline")


class Broken(unittest.TestCase):
    def test_missing_linux_is_a_skip_not_a_failure(self):
        c = ctx(linux_ok=False)
        r = result(noos=[0.1], floor=[0.05], errors=c.linux_error())
        self.assertEqual(bench.problems(c, [r]), [])

    def test_a_failed_boot_is_a_failure(self):
        c = ctx()
        r = result(noos=[0.1], floor=[0.05], errors={"linux": "timed out"})
        self.assertEqual(len(bench.problems(c, [r])), 1)
        r = result(linux_=[2.0], floor=[0.05], errors={"noos": "no marker"})
        self.assertEqual(len(bench.problems(ctx(linux_ok=False), [r])), 1)
        self.assertEqual(len(bench.problems(c, [result()])), 3)  # a row with no number
        # A subject that silently has no number is caught too.
        self.assertEqual(len(bench.problems(c, [result(noos=[0.1], linux_=[2.0])])), 1)

    def test_rows_that_wait_are_not_failures(self):
        na = rows.http(ctx()) + rows.tcp_bulk(ctx()) + rows.smp_scaling(ctx())
        self.assertTrue(all(r.status == report.NOT_AVAILABLE for r in na))
        self.assertTrue(all("not available yet" in r.note for r in na))
        self.assertEqual(bench.problems(ctx(), na), [])
        ids = [r.id for r in na]
        self.assertEqual(len(ids), len(set(ids)))

    def test_a_waiting_row_says_when_only_its_code_is_missing(self):
        r = rows.pending(ctx(images=("hello", "httpd")), "x", "x", "s", ("httpd",), "needs httpd")
        self.assertIn("not written yet", r.note)


class Only(unittest.TestCase):
    def test_only_keeps_table_order_and_refuses_unknown_names(self):
        self.assertEqual([m.__name__ for m in bench.measurements(["http", "boot"])],
                         ["boot", "http"])
        self.assertEqual(bench.measurements(None), rows.MEASUREMENTS)
        with self.assertRaises(bench.SetupError):
            bench.measurements(["boot", "tcp"])


WRK_REPORT = """Running 1s test @ http://127.0.0.1:4000/
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    29.59ms   51.88ms 461.42ms   96.16%%
  Latency Distribution
     50%%   19.83ms
     99%%  346.13ms
  675 requests in 3.00s, 174.68KB read
%sRequests/sec:    224.76
"""


class Wrk(unittest.TestCase):
    def test_report(self):
        rps, p99, bad = net.parse_wrk(WRK_REPORT % "")
        self.assertEqual((rps, bad), (224.76, 0))
        self.assertAlmostEqual(p99, 0.34613)
        _, _, bad = net.parse_wrk(WRK_REPORT % "  Non-2xx or 3xx responses: 12\n")
        self.assertEqual(bad, 12)

    def test_units(self):
        self.assertAlmostEqual(net.wrk_seconds("812.00us"), 812e-6)
        self.assertAlmostEqual(net.wrk_seconds("1.50s"), 1.5)
        self.assertAlmostEqual(net.wrk_seconds("2.00m"), 120.0)
        with self.assertRaises(net.NetFailed):
            net.wrk_seconds("3h")

    def test_no_numbers_is_an_error(self):
        with self.assertRaises(net.NetFailed):
            net.parse_wrk("unable to connect to 127.0.0.1:4000 Connection refused")

    def test_smp_of_row(self):
        self.assertEqual(rows.smp_of(report.Result("http-rps-close-smp4", "t", "x86_64")), 4)
        self.assertEqual(rows.smp_of(report.Result("http-rps-close", "t", "x86_64")), 1)


# What iperf 2.1.8 printed here: a server with -i 1 (two intervals of one
# connection, then its summary), and a client's summary after a reset peer.
IPERF_SERVER = """20261123193325,127.0.0.1,44284,127.0.0.1,48375,1,0.0-1.0,13210100,105680800
20261123193326,127.0.0.1,44284,127.0.0.1,48375,1,1.0-2.0,11236160,89889280
20261123193327,127.0.0.1,44284,127.0.0.1,48375,1,0.0-2.1,25000000,95238095
"""
IPERF_CLIENT = """tcp write failed: Connection reset by peer
19700101000000,127.0.0.1,52284,127.0.0.1,47687,1,0.0-3.1,90177596,232216063
"""


class Iperf(unittest.TestCase):
    def test_csv(self):
        lines = net.parse_iperf_csv(IPERF_SERVER + "WARNING: ack of last datagram failed\n")
        self.assertEqual(len(lines), 3)
        self.assertEqual((lines[1].start, lines[1].end, lines[1].nbytes), (1.0, 2.0, 11236160))
        self.assertEqual(len({x.conn for x in lines}), 1)
        self.assertEqual(net.parse_iperf_csv("1,2,3\nx,a,b,c,d,e,0.0-x,1,2\n"), [])

    def test_client_summary(self):
        self.assertAlmostEqual(net.iperf_total(net.parse_iperf_csv(IPERF_CLIENT)),
                               90177596 / 3.1 / 1e6)
        with self.assertRaises(net.NetFailed):
            net.iperf_total(net.parse_iperf_csv("tcp connect failed: Connection refused\n"))
        with self.assertRaises(net.NetFailed):
            net.iperf_total(net.parse_iperf_csv("0,a,1,b,2,3,0.0-0.0,0,0\n"))

    def test_first_seconds_of_a_server(self):
        lines = net.parse_iperf_csv(IPERF_SERVER)
        self.assertAlmostEqual(net.iperf_first(lines, 2), (13210100 + 11236160) / 2 / 1e6)
        self.assertAlmostEqual(net.iperf_first(lines, 1), 13.2101)
        self.assertIsNone(net.iperf_first(lines, 3))  # not yet: the summary is not an interval
        self.assertIsNone(net.iperf_first([], 1))
        other = net.parse_iperf_csv(IPERF_SERVER.replace("44284", "50000"))
        self.assertAlmostEqual(net.iperf_first(lines[:1] + other, 2), None)

    def test_iperf_initramfs(self):
        files = [("usr/bin/iperf", b"i"), ("lib64/ld-linux-x86-64.so.2", b"l"),
                 ("lib/x86_64-linux-gnu/libc.so.6", b"c")]
        entries, _ = read_cpio(linux.initramfs(b"bb", files=files))
        names = [e[0] for e in entries]
        self.assertEqual(len(names), len(set(names)))
        for path, data in files:
            self.assertEqual(entries[names.index(path)][2], data)
            self.assertLess(names.index(os.path.dirname(path)), names.index(path))
        self.assertLess(names.index("usr"), names.index("usr/bin"))
        # Without files it is the archive the boot and size rows use, unchanged.
        self.assertEqual(linux.initramfs(b"bb"), linux.initramfs(b"bb", files=()))

    def test_tap_rows_without_root_say_so(self):
        from unittest import mock
        links = []
        with mock.patch.object(rows.os, "geteuid", return_value=1000), \
                mock.patch.object(rows, "measure_bulk", lambda c, ls, r: links.extend(ls)):
            got = rows.tcp_bulk(ctx(images=("hello", "bench-iperf")))
        self.assertEqual(links, ["hostfwd"])
        by_id = {r.id: r for r in got}
        self.assertEqual(sorted(by_id), ["tcp-hostfwd-rx", "tcp-hostfwd-tx",
                                         "tcp-tap-rx", "tcp-tap-tx"])
        for w in ("tx", "rx"):
            self.assertEqual(by_id[f"tcp-tap-{w}"].status, report.NOT_AVAILABLE)
            self.assertIn("needs root", by_id[f"tcp-tap-{w}"].note)
            self.assertEqual(by_id[f"tcp-hostfwd-{w}"].status, report.OK)
        self.assertEqual(bench.problems(ctx(), [by_id["tcp-tap-tx"]]), [])

    def test_a_namespace_that_cannot_be_made_fails_the_tap_rows_only(self):
        from unittest import mock

        def refuse():
            raise OSError(1, "Operation not permitted")
        c = ctx(images=("hello", "bench-iperf"))
        live = {(link, w): report.Result(f"tcp-{link}-{w}", "t", "x86_64", expect=("noos", "linux"))
                for link in ("hostfwd", "tap") for w in ("tx", "rx")}
        with mock.patch.object(rows, "namespace", mock.MagicMock(side_effect=refuse)), \
                mock.patch.object(rows, "iperf_boot", return_value=(1.0, 2.0)):
            rows.measure_bulk(c, ["hostfwd", "tap"], live)
        self.assertEqual(live[("hostfwd", "rx")].samples, {"noos": [2.0], "linux": [2.0]})
        self.assertIn("namespace", live[("tap", "tx")].errors["noos"])
        self.assertEqual(len(bench.problems(c, list(live.values()))), 4)  # 2 rows x 2 subjects

    def test_init_has_an_iperf_mode(self):
        self.assertIn("iperf)", linux.INIT)
        self.assertIn(linux.IPERF_READY, linux.INIT)
        self.assertIn("${iperf_client%:*}", linux.INIT)
        self.assertIn(f"-t {linux.IPERF_CLIENT_SECONDS}", linux.INIT)

    def test_seconds_fit_the_guests_client(self):
        for smoke, quick in ((True, False), (False, True), (False, False)):
            c = ctx()
            c.smoke, c.quick = smoke, quick
            self.assertLess(rows.iperf_seconds(c), linux.IPERF_CLIENT_SECONDS - 1)


class LinuxHttpd(unittest.TestCase):
    def test_modules_load_in_order(self):
        blob = linux.initramfs(b"bb", modules=[("virtio_ring.ko", b"r"), ("virtio_net.ko", b"n")])
        self.assertLess(blob.index(b"lib/modules/00-virtio_ring.ko"),
                        blob.index(b"lib/modules/01-virtio_net.ko"))
        self.assertLess(linux.MODULES.index("drivers/virtio/virtio_ring.ko"),
                        linux.MODULES.index("drivers/virtio/virtio.ko"))
        self.assertEqual(linux.MODULES[-1], "drivers/net/virtio_net.ko")

    def test_init_has_an_httpd_mode_that_prints_ready(self):
        self.assertIn("httpd)", linux.INIT)
        self.assertIn(linux.HTTPD_READY, linux.INIT)

    def test_image_size_row(self):
        with tempfile.TemporaryDirectory() as d:
            img = os.path.join(d, "hello.img")
            with open(img, "wb") as f:
                f.write(b"x" * 300)
            c = ctx()
            c.arch, c.images = "aarch64", {"hello": (img[:-4] + ".elf", img)}
            rs = rows.image_size(c)
        self.assertEqual(rs[0].samples, {"noos": [300], "linux": [1000], "floor": [10]})
        self.assertEqual(rs[1].status, report.NOT_AVAILABLE)

    def test_qemu_status(self):
        self.assertEqual(bench.qemu_rc("x86_64", 3), 7)
        self.assertEqual(bench.qemu_rc("x86_64", 0), 1)
        self.assertEqual(bench.qemu_rc("aarch64", 3), 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
