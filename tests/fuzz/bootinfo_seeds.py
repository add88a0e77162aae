#!/usr/bin/env python3
"""Seed inputs for fuzz_bootinfo: boot information shaped like QEMU's PVH
start info (version 1, with a command line and an E820-style memory map) and
GRUB's multiboot2 information (command line, boot loader name, memory map,
both ACPI RSDP copies, end tag), so the fuzzer starts past the magic numbers
and tag framing.

Input format (fuzz_bootinfo.c): 4 bytes little-endian = the physical address
of the structure; the rest is physical memory from address 0.

Usage: bootinfo_seeds.py OUTDIR   (writes OUTDIR/bootinfo-seed-{pvh,mb2}.bin)
"""

import os
import struct
import sys

INFO = 0x100
MIB = 1 << 20
RAM = [(0, 0x9FC00, 1), (0x9FC00, 0x400, 2), (0xF0000, 0x10000, 2), (MIB, 127 * MIB, 1)]
RSDP_V1 = b"RSD PTR " + bytes([0]) + b"BOCHS " + bytes([0]) + struct.pack("<I", 0x7FE0000)
RSDP_V2 = RSDP_V1[:15] + bytes([2]) + RSDP_V1[16:] + struct.pack("<IQ", 36, 0x7FE0100) + bytes(4)


def memory(at, blobs):
    """Memory from 0 holding each (address, bytes), prefixed by the structure's address."""
    mem = bytearray(max(a + len(b) for a, b in blobs))
    for a, b in blobs:
        mem[a:a + len(b)] = b
    return struct.pack("<I", at) + bytes(mem)


def pvh():
    cmdline, memmap = 0x200, 0x300
    si = struct.pack("<IIIIQQQQII", 0x336EC578, 1, 0, 0, 0, cmdline, 0xF5A40, memmap, len(RAM), 0)
    entries = b"".join(struct.pack("<QQII", a, s, t, 0) for a, s, t in RAM)
    return memory(INFO, [(INFO, si), (cmdline, b"console=ttyS0 noos.seed=1 hello\0"),
                         (memmap, entries)])


def tag(kind, body):
    t = struct.pack("<II", kind, 8 + len(body)) + body
    return t + bytes(-len(t) % 8)


def mb2():
    mmap = struct.pack("<II", 24, 0) + b"".join(struct.pack("<QQII", a, s, t, 0) for a, s, t in RAM)
    tags = (tag(1, b"hello world=1\0") + tag(2, b"GRUB 2.06\0") + tag(6, mmap) + tag(14, RSDP_V1) +
            tag(15, RSDP_V2) + tag(0, b""))
    return memory(INFO, [(INFO, struct.pack("<II", 8 + len(tags), 0) + tags)])


def main():
    out = sys.argv[1]
    for name, blob in (("pvh", pvh()), ("mb2", mb2())):
        with open(os.path.join(out, f"bootinfo-seed-{name}.bin"), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
