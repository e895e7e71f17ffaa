"""Write the lock files the release bundle installs from: every dependency pinned, with the
SHA-256 of its manylinux / pure-Python wheel for CPython 3.11 on x86_64 Linux.

    python tools/lock.py            # needs the package index; commit requirements/*.txt

pip's own resolver does the work (``pip install --dry-run --report`` for the target
platform, wheels only), so what is locked is exactly what ``pip install --no-index
--require-hashes`` will accept on Debian 12 and RHEL 9-family hosts alike. One file per
role: the public host gets no SQLAlchemy, no paramiko, no database driver.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Debian 12 has glibc 2.36, RHEL 9 glibc 2.34: manylinux_2_28 and older wheels run on both.
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64",
             "manylinux_2_5_x86_64", "manylinux1_x86_64")
TARGET = ["--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
          "--only-binary=:all:"] + [f"--platform={p}" for p in PLATFORMS]
ROLES = {"intranet": "[intranet,postgresql]", "public": ""}
PROJECT = "shinsei-status"
# pyramid still imports pkg_resources, which setuptools 81 removes (and 80.9 warns about).
CONSTRAINTS = ["setuptools<80.9"]


def resolve(extras: str) -> list[tuple[str, str, str]]:
    """(name, version, sha256) of every distribution the project with ``extras`` needs."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--dry-run",
                        "--ignore-installed", "--target", str(Path(scratch) / "t"),
                        "--report", str(report), *TARGET, f"{ROOT}{extras}", *CONSTRAINTS],
                       check=True)
        installs = json.loads(report.read_text())["install"]
    pins = []
    for item in installs:
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        if name.lower() == PROJECT:
            continue
        digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
        pins.append((name.lower(), version, digest))
    return sorted(pins)


def write_lock(role: str, pins) -> Path:
    path = ROOT / "requirements" / f"{role}.lock.txt"
    lines = [f"# {role} host: made by tools/lock.py for CPython 3.11, x86_64 Linux (manylinux).",
             "# Install with: pip install --no-index --find-links WHEELHOUSE --require-hashes -r THIS"]
    lines += [f"{name}=={version} \\\n    --hash=sha256:{digest}" for name, version, digest in pins]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> int:
    for role, extras in ROLES.items():
        pins = resolve(extras)
        print(f"{write_lock(role, pins).relative_to(ROOT)}: {len(pins)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
