#!/usr/bin/env python3
"""Install noos into a scratch prefix and build an application against it the
way a language runtime's own build would: pkg-config for the flags, clang and
lld for the link, no help from noos's meson files. Then boot the result.

usage: install_check.py BUILD_DIR ARCH APP_SOURCE [guest.py arguments...]
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd, **kw):
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if result.returncode != 0:
        print("$ " + " ".join(cmd) + "\n" + result.stdout)
        sys.exit(1)
    return result.stdout


def pkg_config(prefix, arch, what):
    pcdir = os.path.join(prefix, "lib", "noos", arch, "pkgconfig")
    env = dict(os.environ, PKG_CONFIG_PATH=pcdir, PKG_CONFIG_LIBDIR=pcdir)
    out = run(["pkg-config", "--define-variable=prefix=" + prefix, what, "noos"], env=env)
    return out.split()


def main():
    build, arch, source = sys.argv[1:4]
    guest_args = sys.argv[4:]
    if not shutil.which("pkg-config"):
        print("pkg-config is missing (./noos setup installs it)")
        sys.exit(1)
    with tempfile.TemporaryDirectory() as tmp:
        destdir = os.path.join(tmp, "dest")
        run(["meson", "install", "-C", build, "--no-rebuild", "--quiet", "--destdir", destdir])
        prefixes = [os.path.join(root) for root, dirs, _ in os.walk(destdir) if "noos" in dirs and root.endswith("lib")]
        if not prefixes:
            print("install_check: no lib/noos under " + destdir)
            sys.exit(1)
        prefix = os.path.dirname(prefixes[0])
        elf = os.path.join(tmp, "app.elf")
        cflags = pkg_config(prefix, arch, "--cflags")
        libs = pkg_config(prefix, arch, "--libs")
        run(["clang"] + cflags + ["-O2", "-o", elf, source] + libs)
        kernel = elf
        if arch == "aarch64":
            kernel = os.path.join(tmp, "app.img")
            run(["llvm-objcopy", "-O", "binary", elf, kernel])
        cmd = [sys.executable, os.path.join(HERE, "harness", "guest.py"), "--arch", arch,
               "--kernel", kernel, "--elf", elf] + guest_args
        sys.exit(subprocess.run(cmd).returncode)


if __name__ == "__main__":
    main()
