"""A release bundle built from an older commit of this project: what a city runs before an
upgrade.

The commit is checked out beside the work tree (``git worktree add --detach``), its own
``tools/build_release.py`` builds its bundle (the package index is needed, as for any
build), and the bundle is kept under ``build/older-bundles/<commit>/`` so later runs start
from it. The checkout is removed again; only the bundle stays.

Run it alone (e.g. before the booted-hosts test, or to time it):
``python -m tests.e2e.older [COMMIT]``.
"""

import fcntl
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).parents[2]
CACHE = ROOT / "build" / "older-bundles"
# Before migration 0012 (the audit filter indexes): an upgrade from it migrates the schema,
# as a city's would. Its installer, deploy/ and lock files are the ones the first booted-host
# tests passed with.
OLDER_COMMIT = "b6480a2"


class OlderBundleError(AssertionError):
    """The older commit's bundle could not be built; the message says which step and why."""


def _git(*args, check=True):
    result = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise OlderBundleError(f"git {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def older_bundle(commit: str = OLDER_COMMIT) -> Path:
    """The older commit's ``shinsei-status-*-offline.tar.gz``, built once and cached."""
    full = _git("rev-parse", "--verify", f"{commit}^{{commit}}")
    folder = CACHE / full
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        found = sorted(folder.glob("shinsei-status-*-offline.tar.gz"))
        if found:
            return found[-1]
        return _build(full, folder)


def _build(commit: str, folder: Path) -> Path:
    source = folder / "source"
    if source.exists():
        _git("worktree", "remove", "--force", str(source), check=False)
        shutil.rmtree(source, ignore_errors=True)
    _git("worktree", "prune")
    _git("worktree", "add", "--detach", str(source), commit)
    began = time.monotonic()
    try:
        result = subprocess.run([sys.executable, "tools/build_release.py"], cwd=source,
                                capture_output=True, text=True, timeout=1800)
        if result.returncode != 0:
            raise OlderBundleError(f"tools/build_release.py at {commit[:12]} failed:\n"
                                   f"{(result.stdout + result.stderr)[-4000:]}")
        [built] = sorted((source / "dist").glob("shinsei-status-*-offline.tar.gz"))
        target = folder / built.name
        shutil.move(built, target)
        (folder / "built.txt").write_text(f"{commit} {time.monotonic() - began:.0f} s\n")
        return target
    finally:
        _git("worktree", "remove", "--force", str(source), check=False)
        shutil.rmtree(source, ignore_errors=True)
        _git("worktree", "prune", check=False)


if __name__ == "__main__":
    began = time.monotonic()
    path = older_bundle(*sys.argv[1:2])
    print(f"{path} ready in {time.monotonic() - began:.0f} s", file=sys.stderr)
