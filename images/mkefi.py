#!/usr/bin/env python3
"""Make a UEFI-bootable disk image that boots a noos ELF through GRUB's multiboot2 loader.

usage: mkefi.py KERNEL.elf OUTPUT.img [KERNEL ARGUMENTS...]

The disk has a GPT (UEFI 2.10 §5.3) with one EFI system partition, FAT,
holding GRUB for x86_64 UEFI at the removable-media path EFI/BOOT/BOOTX64.EFI
(UEFI 2.10 §3.5.1.1) and the kernel at /boot/noos.elf. GRUB is made with
grub-mkimage (Debian's grub-efi-amd64-bin) with its configuration built in:
it talks on the first serial port, loads the ELF with multiboot2 (which
noos's x86_64 entry speaks) and boots it at once, so the image boots
unattended under QEMU with OVMF:

    qemu-system-x86_64 -M q35 -m 128M -serial stdio -display none \\
      -drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \\
      -drive if=pflash,format=raw,snapshot=on,file=/usr/share/OVMF/OVMF_VARS_4M.fd \\
      -drive format=raw,snapshot=on,file=OUTPUT.img

The same bytes written to a disk boot a UEFI PC. The partition is built by
mtools in a file of its own, then placed; nothing needs root or loop devices.
The GUIDs are derived from the output's name, so a rebuild is byte-identical
when its inputs are.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import uuid
import zlib

GRUB_CFG = """serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
multiboot2 /boot/noos.elf {args}
boot
"""
GRUB_MODULES = ["fat", "part_gpt", "part_msdos", "multiboot2", "serial", "terminal", "boot"]
GRUB_DIR = "/usr/lib/grub/x86_64-efi"

SECTOR = 512
PART_START = 2048  # LBA: partitions 1 MiB aligned, as partitioning tools do
ENTRIES = 128      # partition entries, 128 bytes each: 32 sectors (§5.3.2 minimum 16 KiB)
ESP_TYPE = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")  # EFI System Partition (§5.3.3)


def run(argv):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        sys.exit(f"mkefi: {' '.join(argv)} failed:\n{p.stdout}")


def make_esp(kernel, args, tmp):
    """The FAT file system of the EFI system partition, as a file."""
    cfg = os.path.join(tmp, "grub.cfg")
    with open(cfg, "w") as f:
        f.write(GRUB_CFG.format(args=" ".join(args)))
    efi = os.path.join(tmp, "BOOTX64.EFI")
    run(["grub-mkimage", "-O", "x86_64-efi", "-d", GRUB_DIR, "-p", "/boot/grub", "-c", cfg,
         "-o", efi] + GRUB_MODULES)
    need = os.path.getsize(efi) + os.path.getsize(kernel)
    mib = (need + need // 4 + (1 << 20)) // (1 << 20) + 1  # room for FAT metadata
    part = os.path.join(tmp, "esp.fat")
    with open(part, "wb") as f:
        f.truncate(mib << 20)
    run(["mformat", "-i", part, "-v", "NOOS", "::"])
    run(["mmd", "-i", part, "::/EFI", "::/EFI/BOOT", "::/boot"])
    run(["mcopy", "-i", part, efi, "::/EFI/BOOT/BOOTX64.EFI"])
    run(["mcopy", "-i", part, kernel, "::/boot/noos.elf"])
    with open(part, "rb") as f:
        return f.read()


def protective_mbr(sectors):
    """LBA 0: one partition of type 0xEE over the whole disk (§5.2.3)."""
    mbr = bytearray(SECTOR)
    size = min(sectors - 1, 0xFFFFFFFF)
    mbr[446:462] = struct.pack("<B3sB3sII", 0, b"\x00\x02\x00", 0xEE, b"\xff\xff\xff", 1, size)
    mbr[510:512] = b"\x55\xaa"
    return bytes(mbr)


def gpt_header(my_lba, alt_lba, entries_lba, last_usable, disk_guid, entries_crc):
    """A GPT header (§5.3.2), its CRC32 computed over the 92 bytes with the field zero."""
    def pack(crc):
        return struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x00010000, 92, crc, 0, my_lba,
                           alt_lba, 34, last_usable, disk_guid.bytes_le, entries_lba, ENTRIES,
                           128, entries_crc)
    header = pack(zlib.crc32(pack(0)))
    return header + bytes(SECTOR - len(header))


def partition_entries(first, last, part_guid):
    entry = struct.pack("<16s16sQQQ72s", ESP_TYPE.bytes_le, part_guid.bytes_le, first, last, 0,
                        "EFI system partition".encode("utf-16-le"))
    return entry + bytes(128 * (ENTRIES - 1))


def make_disk(esp, name):
    part_sectors = len(esp) // SECTOR
    # The backup entries (32 sectors) and header (1) after the partition, 1 MiB aligned in all.
    sectors = PART_START + part_sectors + PART_START
    last = sectors - 1
    disk_guid = uuid.uuid5(uuid.NAMESPACE_URL, "noos-disk:" + name)
    part_guid = uuid.uuid5(uuid.NAMESPACE_URL, "noos-esp:" + name)
    entries = partition_entries(PART_START, PART_START + part_sectors - 1, part_guid)
    crc = zlib.crc32(entries)
    last_usable = last - 33
    disk = bytearray(sectors * SECTOR)
    disk[0:SECTOR] = protective_mbr(sectors)
    disk[SECTOR:2 * SECTOR] = gpt_header(1, last, 2, last_usable, disk_guid, crc)
    disk[2 * SECTOR:2 * SECTOR + len(entries)] = entries
    disk[PART_START * SECTOR:PART_START * SECTOR + len(esp)] = esp
    backup_entries = last - 32
    disk[backup_entries * SECTOR:backup_entries * SECTOR + len(entries)] = entries
    disk[last * SECTOR:] = gpt_header(last, 1, backup_entries, last_usable, disk_guid, crc)
    return bytes(disk)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    kernel, output, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    for tool in ("grub-mkimage", "mformat", "mmd", "mcopy"):
        if not shutil.which(tool):
            sys.exit(f"mkefi: {tool} not found (./noos setup installs grub-efi-amd64-bin and mtools)")
    if not os.path.isdir(GRUB_DIR):
        sys.exit(f"mkefi: {GRUB_DIR} is missing (./noos setup installs grub-efi-amd64-bin)")
    with tempfile.TemporaryDirectory() as tmp:
        disk = make_disk(make_esp(kernel, args, tmp), os.path.basename(output))
    with open(output + ".tmp", "wb") as f:
        f.write(disk)
    os.replace(output + ".tmp", output)


if __name__ == "__main__":
    main()
