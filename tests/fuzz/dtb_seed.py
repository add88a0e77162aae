#!/usr/bin/env python3
"""A synthetic device tree seed for fuzz_dtb_boot with what QEMU's virt trees
lack: reservation block entries, /reserved-memory (static, size-only and
malformed regions), a second and a disabled memory node, devices and a GICv3
with an ITS behind a simple-bus whose "ranges" translate their addresses,
interrupts-extended, and a PCI host with interrupt-map and msi-map.

Flattened format: Devicetree Specification v0.4 chapter 5 (version 17).

Usage: dtb_seed.py OUTFILE
"""

import struct
import sys

FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_END = 1, 2, 3, 9


def cells(*v):
    return b"".join(struct.pack(">I", x) for x in v)


def strs(*s):
    return b"".join(x.encode() + b"\0" for x in s)


def node(name, props, children=()):
    return (name, props, children)


class Writer:
    def __init__(self):
        self.struct = bytearray()
        self.strings = bytearray()
        self.names = {}

    def pad(self):
        self.struct += bytes(-len(self.struct) % 4)

    def name_off(self, name):
        if name not in self.names:
            self.names[name] = len(self.strings)
            self.strings += name.encode() + b"\0"
        return self.names[name]

    def emit(self, n):
        name, props, children = n
        self.struct += cells(FDT_BEGIN_NODE) + name.encode() + b"\0"
        self.pad()
        for key, value in props:
            self.struct += cells(FDT_PROP, len(value), self.name_off(key)) + value
            self.pad()
        for c in children:
            self.emit(c)
        self.struct += cells(FDT_END_NODE)


def blob(root, reservations):
    w = Writer()
    w.emit(root)
    w.struct += cells(FDT_END)
    rsv = b"".join(struct.pack(">QQ", a, s) for a, s in reservations + [(0, 0)])
    off_rsv = 40
    off_struct = off_rsv + len(rsv)
    off_strings = off_struct + len(w.struct)
    total = off_strings + len(w.strings)
    total += -total % 8
    header = cells(0xD00DFEED, total, off_struct, off_strings, off_rsv, 17, 16, 0,
                   len(w.strings), len(w.struct))
    out = header + rsv + bytes(w.struct) + bytes(w.strings)
    return out + bytes(total - len(out))


def tree():
    gic, its = 1, 2
    reserved = node("reserved-memory", [("#address-cells", cells(2)), ("#size-cells", cells(2)),
                                        ("ranges", b"")], [
        node("fw@48000000", [("reg", cells(0, 0x48000000, 0, 0x100000)), ("no-map", b"")]),
        node("pool", [("size", cells(0, 0x100000))]),
        node("off@49000000", [("reg", cells(0, 0x49000000, 0, 0x1000)), ("status", strs("disabled"))]),
        node("bad@1", [("reg", cells(0, 1, 0))]),
    ])
    soc = node("soc", [("compatible", strs("simple-bus")), ("#address-cells", cells(1)),
                       ("#size-cells", cells(1)), ("ranges", cells(0, 0, 0x8000000, 0x2000000))], [
        node("intc@0", [("compatible", strs("arm,gic-v3")), ("interrupt-controller", b""),
                        ("#interrupt-cells", cells(3)), ("#address-cells", cells(1)),
                        ("#size-cells", cells(1)), ("ranges", b""), ("phandle", cells(gic)),
                        ("#redistributor-regions", cells(1)),
                        ("reg", cells(0, 0x10000, 0xA0000, 0xF60000))], [
            node("its@20000", [("compatible", strs("arm,gic-v3-its")), ("msi-controller", b""),
                               ("phandle", cells(its)), ("reg", cells(0x20000, 0x20000))]),
        ]),
        node("pl011@1000000", [("compatible", strs("arm,pl011", "arm,primecell")),
                               ("reg", cells(0x1000000, 0x1000)), ("interrupts", cells(0, 1, 4))]),
        node("pl031@1010000", [("compatible", strs("arm,pl031", "arm,primecell")),
                               ("reg", cells(0x1010000, 0x1000)), ("interrupts", cells(0, 2, 4))]),
        node("dev@1020000", [("reg", cells(0x1020000, 0x1000)),
                             ("interrupts-extended", cells(gic, 0, 3, 1))]),
    ])
    imap = b"".join(cells(dev << 11, 0, 0, pin, gic, 0, 0, 3 + (dev + pin) % 4, 4)
                    for dev in range(2) for pin in range(1, 5))
    pcie = node("pcie@10000000", [
        ("compatible", strs("pci-host-ecam-generic")), ("device_type", strs("pci")),
        ("#address-cells", cells(3)), ("#size-cells", cells(2)), ("#interrupt-cells", cells(1)),
        ("reg", cells(0, 0x10000000, 0, 0x1000000)), ("msi-map", cells(0, its, 0, 0x10000)),
        ("msi-map-mask", cells(0xFF)), ("interrupt-map-mask", cells(0x1800, 0, 0, 7)),
        ("interrupt-map", imap)])
    return node("", [("#address-cells", cells(2)), ("#size-cells", cells(2)),
                     ("compatible", strs("linux,dummy-virt")), ("interrupt-parent", cells(gic))], [
        node("chosen", [("bootargs", strs("console=ttyAMA0 noos.x=1")),
                        ("rng-seed", bytes(range(32))), ("kaslr-seed", bytes(8)),
                        ("stdout-path", strs("/soc/pl011@1000000"))]),
        node("memory@40000000", [("device_type", strs("memory")),
                                 ("reg", cells(0, 0x40000000, 0, 0x10000000, 0, 0x60000000, 0, 0x1000000))]),
        node("memory@80000000", [("device_type", strs("memory")), ("status", strs("disabled")),
                                 ("reg", cells(0, 0x80000000, 0, 0x1000000))]),
        reserved,
        node("psci", [("compatible", strs("arm,psci-1.0", "arm,psci-0.2")), ("method", strs("hvc"))]),
        node("timer", [("compatible", strs("arm,armv8-timer")),
                       ("interrupts", cells(1, 13, 0x104, 1, 14, 0x104, 1, 11, 0x104, 1, 10, 0x104))]),
        soc, pcie,
        node("cpus", [("#address-cells", cells(1)), ("#size-cells", cells(0))], [
            node("cpu@0", [("device_type", strs("cpu")), ("compatible", strs("arm,cortex-a57")),
                           ("reg", cells(0)), ("enable-method", strs("psci"))]),
        ]),
    ])


def main():
    with open(sys.argv[1], "wb") as f:
        f.write(blob(tree(), [(0x40000000, 0x1000), (0x41000000, 0x2000)]))


if __name__ == "__main__":
    main()
