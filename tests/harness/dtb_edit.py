#!/usr/bin/env python3
"""Write QEMU's own device tree for a machine, with properties changed.

    dtb_edit.py --out x.dtb --set /timer:clock-frequency=7 [--machine virt,...] [--smp N]

For guest tests of what noos does with a device tree that is wrong in one
place (a hostile or broken VMM): QEMU writes the tree it would give the
guest (`-machine dumpdtb=`, with the same flags tests/harness/qemu.py uses),
fdtput (Debian's device-tree-compiler) changes it, and the test boots with
`-dtb` that file. QEMU still fills in /chosen and the memory nodes.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402


def dump(cfg, path):
    """QEMU's device tree for cfg into path (QEMU exits after writing it)."""
    argv = qemu.command(cfg) + ["-machine", f"dumpdtb={path}"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        raise SystemExit(f"dtb_edit: QEMU wrote no device tree ({p.returncode}): {p.stderr[-300:]}")


def set_property(path, spec):
    """spec 'NODE:PROPERTY=U32' -> fdtput -t u."""
    node, _, rest = spec.partition(":")
    prop, _, value = rest.partition("=")
    if not node.startswith("/") or not prop or not value.isdigit():
        raise SystemExit(f"dtb_edit: --set wants /NODE:PROPERTY=NUMBER, not {spec!r}")
    subprocess.run(["fdtput", "-t", "u", path, node, prop, value], check=True)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--set", action="append", default=[], metavar="/NODE:PROPERTY=NUMBER")
    p.add_argument("--machine", default="virt")
    p.add_argument("--smp", type=int, default=1)
    p.add_argument("--mem", default="128M")
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        # Any kernel will do: QEMU writes the tree and exits before running it.
        kernel = os.path.join(d, "none")
        open(kernel, "wb").write(bytes(64))
        cfg = qemu.Config(arch="aarch64", kernel=kernel, machine=a.machine, smp=a.smp, mem=a.mem)
        tmp = os.path.join(d, "out.dtb")
        dump(cfg, tmp)
        for spec in a.set:
            set_property(tmp, spec)
        shutil.copyfile(tmp, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
