"""The release bundle the install tests use: dist's (`make release`, which `make test` runs
first), built again here only when a source it is made from is newer. One builder at a time:
the suite's workers may ask together."""

import fcntl
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).parents[1]
SOURCES = ("intranet", "transfer", "public_mirror", "deploy", "docs", "tools", "requirements",
           "pyproject.toml", "setup.cfg", "setup.py")


def release_bundle() -> Path:
    (ROOT / "dist").mkdir(exist_ok=True)
    with open(ROOT / "dist" / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = _bundles()
        if not found or found[-1].stat().st_mtime < _newest_source():
            result = subprocess.run([sys.executable, "tools/build_release.py"], cwd=ROOT,
                                    capture_output=True, text=True, timeout=1200)
            if result.returncode != 0:
                raise AssertionError("building the release bundle failed:\n"
                                     f"{(result.stdout + result.stderr)[-4000:]}")
            found = _bundles()
    return found[-1]


def unpack(bundle: Path, into: Path) -> Path:
    with tarfile.open(bundle) as archive:
        archive.extractall(into, filter="tar")
    return into / bundle.name.removesuffix("-offline.tar.gz")


def _bundles():
    return sorted((ROOT / "dist").glob("shinsei-status-*-offline.tar.gz"),
                  key=lambda path: path.stat().st_mtime)


def _newest_source() -> float:
    newest = 0.0
    for name in SOURCES:
        path = ROOT / name
        files = path.rglob("*") if path.is_dir() else [path]
        newest = max([newest, *(f.stat().st_mtime for f in files
                                if f.is_file() and "__pycache__" not in f.parts)])
    return newest
