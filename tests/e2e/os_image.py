"""The operating-system install of the booted hosts: a Debian 12 root made once and cached.

`debootstrap --variant=minbase` with systemd, then the packages a city's IT team installs
from Debian before the bundle arrives (PostgreSQL 15, nginx, OpenSSH, python3-venv,
nftables ...) with `apt-get` inside a chroot. This is the only step that uses the network;
the result is cached under build/hosts/<hash of the recipe>/root, so later runs start here.
Hosts never write into the cache: each boots an overlay of it (see hosts.py).

Run it alone (e.g. to measure it): `python -m tests.e2e.os_image`.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e import documented

SUITE = "bookworm"
# The mirror the machine's own apt uses (/etc/apt/sources.list.d/debian.sources).
MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
BOOT_PACKAGES = ("systemd", "systemd-sysv", "dbus")
# The install guide's §0 blocks: what it asks the city to install from Debian before the
# bundle. Every host gets both lists, read from the guide, so a package the guide forgets is
# one the hosts lack (the steps run those blocks too: with the package lists kept in the
# image, an `apt install` of what is there already needs no network).
GUIDE_BLOCKS = ("os-packages-intranet", "os-packages-public", "os-packages-balancer")
# What a Debian 12 installation has anyway (minbase has less), and the tests' own tools
# (libfaketime: the kill drill gives one public host's app a clock days ahead, so that its
# snapshot is expired for it alone — the machine's clock is every host's).
OS_PACKAGES = (
    "openssh-sftp-server", "python3", "iproute2", "ca-certificates", "openssl", "logrotate",
    "procps", "curl", "locales", "libfaketime",
)
# Installed on every host but run on the balancer only (its installer enables it there).
NOT_STARTED_AT_BOOT = ("haproxy.service",)
# Bumped when the steps below change in a way the package list does not show.
RECIPE_VERSION = "3"
CACHE = Path(__file__).parents[2] / "build" / "hosts"


class OsImageError(AssertionError):
    """A step of the operating-system install failed; the message says which and why."""


def _run(step, command, timeout=1800):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL,
                                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8",
                                     "DEBIAN_FRONTEND": "noninteractive"})
    except FileNotFoundError as error:
        raise OsImageError(f"{step}: {error.filename} is not installed "
                           "(`make system-deps` installs debootstrap and systemd-container)") from None
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-3000:]
        raise OsImageError(f"{step} failed (exit {result.returncode}): {' '.join(command)}\n{tail}")
    return result


def guide_packages() -> list[str]:
    """The packages the guide's §0 blocks name (``apt install NAME …``)."""
    commands = documented.blocks("install")
    names: set[str] = set()
    for tag in GUIDE_BLOCKS:
        for line in commands[tag].splitlines():
            words = line.split()
            if words[:2] != ["apt", "install"]:
                raise OsImageError(f"install guide, block {tag}: expected `apt install …`, "
                                   f"found {line!r}")
            names.update(word for word in words[2:] if not word.startswith("-"))
    return sorted(names)


def packages() -> list[str]:
    return sorted({*OS_PACKAGES, *guide_packages()})


def recipe_key():
    recipe = "\n".join([RECIPE_VERSION, SUITE, MIRROR, SECURITY_MIRROR, *BOOT_PACKAGES,
                        *packages()])
    return hashlib.sha256(recipe.encode()).hexdigest()[:16]


def image_root():
    """The cached root, built first if this recipe has none yet (one builder at a time: the
    suite's workers may ask together)."""
    folder = CACHE / recipe_key()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "complete").exists():
            _build(folder)
    return folder / "root"


def _build(folder):
    root = folder / "root"
    if os.geteuid() != 0:
        raise OsImageError("building the hosts' operating system needs root (debootstrap, chroot)")
    started = time.monotonic()
    partial = folder / "root.partial"
    if partial.exists():
        shutil.rmtree(partial)
    _run("debootstrap (Debian 12 minimal root)",
         ["debootstrap", "--variant=minbase", f"--include={','.join(BOOT_PACKAGES)}",
          SUITE, str(partial), MIRROR])
    bootstrapped = time.monotonic()
    _install_packages(partial)
    if root.exists():
        shutil.rmtree(root)
    partial.rename(root)
    (folder / "complete").write_text(
        f"debootstrap {bootstrapped - started:.0f} s, apt-get {time.monotonic() - bootstrapped:.0f} s\n")


def _install_packages(root):
    (root / "etc/apt/sources.list").write_text(
        f"deb {MIRROR} {SUITE} main\ndeb {MIRROR} {SUITE}-updates main\n"
        f"deb {SECURITY_MIRROR} {SUITE}-security main\n")
    # Packages must not start their services inside the chroot: the host boots them later.
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    proc = root / "proc"
    _run("mount /proc in the chroot", ["mount", "-t", "proc", "proc", str(proc)])
    try:
        _run("apt-get update in the chroot", ["chroot", str(root), "apt-get", "update", "-q"])
        _run("apt-get install in the chroot (the operating-system packages)",
             ["chroot", str(root), "apt-get", "install", "-y", "-q", "--no-install-recommends",
              *packages()])
        _run("apt-get clean", ["chroot", str(root), "apt-get", "clean"])
    finally:
        subprocess.run(["umount", str(proc)], check=False)
    policy.unlink()
    for unit in NOT_STARTED_AT_BOOT:
        _run(f"disable {unit} in the image", ["chroot", str(root), "systemctl", "disable", unit])
    # Identity each host must have for itself: made per host at first boot (hosts.py).
    (root / "etc/machine-id").write_text("")
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()


if __name__ == "__main__":
    began = time.monotonic()
    path = image_root()
    print(f"{path} ready in {time.monotonic() - began:.0f} s "
          f"({(path.parent / 'complete').read_text().strip()})", file=sys.stderr)
