"""Build the release bundle for closed networks: dist/shinsei-status-<version>-offline.tar.gz.

    shinsei-status-<version>/
        install.sh              the installer (./install.sh --role intranet|public [--check])
        shinsei_installer/      its code (standard library only)
        wheelhouse/             the project wheel (compiled catalogues inside) and every
                                dependency, manylinux / pure-Python wheels for CPython 3.11
        requirements/           per role: the project pinned by its wheel's hash + the lock
        deploy/  docs/          configuration templates and the guides
        sbom.cdx.json           CycloneDX 1.5: every component with its version and hash
        SHA256SUMS              `sha256sum -c SHA256SUMS` checks every file above

Building needs the package index (the wheelhouse is downloaded against the committed lock,
hashes checked); installing needs nothing from outside. The archive is reproducible: same
sources and lock, same bytes (sorted entries, fixed owners and times).
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from lock import PROJECT, ROLES, TARGET  # noqa: E402  (tools/ is not a package)

DOCS = ("install.ja.md", "install.en.md", "runbook.ja.md", "runbook.en.md",
        "security-review.md", "snapshot-format.md")


def wheel_version(wheel: Path) -> str:
    """The version the build gave the project wheel (setup.py, from transfer/version.py:
    ``0.1.0+g<commit>[.dirty]``): the bundle is named after it, so every build differs."""
    return wheel.name.split("-")[1]


def build_wheel(out: Path, epoch: int) -> Path:
    """The project wheel; the build step (setup.py) compiles the catalogues into it."""
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                        "--no-build-isolation", "--wheel-dir", scratch, str(ROOT)], check=True,
                       env={**os.environ, "SOURCE_DATE_EPOCH": str(epoch)})
        built = next(Path(scratch).glob("*.whl"))
        shutil.copy(built, out / built.name)
    # setuptools' own leftovers only: build/hosts is the booted-hosts test's cache.
    for leftover in (ROOT / "build").glob("*"):
        if leftover.name == "lib" or leftover.name.startswith(("bdist.", "temp.")):
            shutil.rmtree(leftover, ignore_errors=True)
    return out / built.name


def check_catalogues(wheel: Path) -> None:
    sources = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("*/locale/*/LC_MESSAGES/*.po"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [s for s in sources if s[:-3] + ".mo" not in names]
    if missing or not sources:
        raise SystemExit(f"{wheel.name} lacks compiled catalogues: {missing or 'none found'}")


def check_version(wheel: Path, release: str) -> None:
    """The wheel carries its version for the installed code (``--version``, ``/healthz``)."""
    with zipfile.ZipFile(wheel) as archive:
        stamped = archive.read("transfer/_build_version.py").decode("utf-8")
    if f'VERSION = "{release}"' not in stamped:
        raise SystemExit(f"{wheel.name}: transfer/_build_version.py does not say {release}")


def download(wheelhouse: Path) -> None:
    for role in ROLES:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--disable-pip-version-check", "--require-hashes", *TARGET,
                        "--dest", str(wheelhouse), "-r",
                        str(ROOT / "requirements" / f"{role}.lock.txt")], check=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_requirements(folder: Path, wheel: Path, release: str) -> None:
    folder.mkdir()
    for role, extras in ROLES.items():
        lock = (ROOT / "requirements" / f"{role}.lock.txt").read_text(encoding="utf-8")
        (folder / f"{role}.txt").write_text(
            f"{PROJECT}{extras}=={release} \\\n    --hash=sha256:{sha256(wheel)}\n" + lock,
            encoding="utf-8")


def sbom(wheelhouse: Path, release: str, epoch: int) -> dict:
    """CycloneDX 1.5: the project and every wheel in the wheelhouse, by purl and SHA-256."""
    components = []
    for wheel in sorted(wheelhouse.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        name = name.replace("_", "-").lower()
        components.append({
            "type": "library", "bom-ref": f"pkg:pypi/{name}@{version}", "name": name,
            "version": version, "purl": f"pkg:pypi/{name}@{version}",
            "hashes": [{"alg": "SHA-256", "content": sha256(wheel)}],
            "properties": [{"name": "wheel", "value": wheel.name}],
        })
    from datetime import UTC, datetime
    return {
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{PROJECT}/{release}/{epoch}')}",
        "metadata": {
            "timestamp": datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "component": {"type": "application", "bom-ref": f"pkg:pypi/{PROJECT}@{release}",
                          "name": PROJECT, "version": release,
                          "purl": f"pkg:pypi/{PROJECT}@{release}"},
        },
        "components": components,
    }


def write_sums(top: Path) -> None:
    lines = [f"{sha256(p)}  {p.relative_to(top).as_posix()}"
             for p in sorted(top.rglob("*")) if p.is_file() and p.name != "SHA256SUMS"]
    (top / "SHA256SUMS").write_text("\n".join(lines) + "\n")


def source_epoch() -> int:
    result = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%ct"],
                            capture_output=True, text=True)
    return int(result.stdout.strip() or 0)


def archive(top: Path, target: Path, epoch: int) -> None:
    def normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = epoch
        if info.isfile():
            info.mode = 0o755 if info.mode & 0o100 else 0o644
        elif info.isdir():
            info.mode = 0o755
        return info

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in [top, *sorted(top.rglob("*"))]:
            tar.add(path, arcname=path.relative_to(top.parent).as_posix(), recursive=False,
                    filter=normalised)
    with open(target, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw,
                                                   mtime=epoch) as compressed:
        compressed.write(buffer.getvalue())


def build(dist: Path) -> Path:
    epoch = source_epoch()
    dist.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        first = Path(scratch) / "wheel"
        first.mkdir()
        built = build_wheel(first, epoch)
        release = wheel_version(built)
        top = Path(scratch) / f"{PROJECT}-{release}"
        wheelhouse = top / "wheelhouse"
        wheelhouse.mkdir(parents=True)
        wheel = Path(shutil.move(built, wheelhouse / built.name))
        check_catalogues(wheel)
        check_version(wheel, release)
        download(wheelhouse)
        write_requirements(top / "requirements", wheel, release)
        shutil.copy(ROOT / "deploy" / "install.sh", top / "install.sh")
        shutil.copytree(ROOT / "tools" / "shinsei_installer", top / "shinsei_installer",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "deploy", top / "deploy", ignore=shutil.ignore_patterns("install.sh"))
        (top / "docs").mkdir()
        for name in DOCS:
            shutil.copy(ROOT / "docs" / name, top / "docs" / name)
        (top / "sbom.cdx.json").write_text(json.dumps(sbom(wheelhouse, release, epoch), indent=1,
                                                      ensure_ascii=False) + "\n")
        write_sums(top)
        target = dist / f"{PROJECT}-{release}-offline.tar.gz"
        archive(top, target, epoch)
    return target


def main() -> int:
    target = build(ROOT / "dist")
    print(f"{target.relative_to(ROOT)}: {target.stat().st_size / 1e6:.1f} MB, "
          f"SHA-256 {sha256(target)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
