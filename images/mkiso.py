#!/usr/bin/env python3
"""Make a BIOS-bootable ISO that boots a noos ELF through GRUB's multiboot2 loader.

usage: mkiso.py KERNEL.elf OUTPUT.iso [KERNEL ARGUMENTS...]

GRUB talks on the first serial port too, with no menu delay, so the image
boots unattended under `qemu -cdrom` and its console stays on the serial line.
"""
import os
import shutil
import subprocess
import sys
import tempfile

GRUB_CFG = """serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=0
set default=0
menuentry "noos" {{
    multiboot2 /boot/noos.elf {args}
    boot
}}
"""


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    kernel, output, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    mkrescue = shutil.which("grub-mkrescue")
    if not mkrescue:
        sys.exit("mkiso: grub-mkrescue not found (./noos setup installs grub-pc-bin, grub-common, xorriso, mtools)")
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "boot", "grub"))
        shutil.copy(kernel, os.path.join(root, "boot", "noos.elf"))
        with open(os.path.join(root, "boot", "grub", "grub.cfg"), "w") as f:
            f.write(GRUB_CFG.format(args=" ".join(args)))
        # Only the BIOS platform: keeps the image small and the build independent of EFI packages.
        result = subprocess.run([mkrescue, "-o", output, "-d", "/usr/lib/grub/i386-pc", root],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            sys.exit("mkiso: grub-mkrescue failed:\n" + result.stdout)


if __name__ == "__main__":
    main()
