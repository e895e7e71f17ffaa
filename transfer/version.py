"""This build's version, the one place it is made: ``0.1.0+g<commit>`` (``.dirty`` when the
tree had changes), so every build differs from every other and an upgrade can tell.

The build (setup.py) derives it from git once and writes it into the wheel as
``transfer/_build_version.py``; an installed host reads that. A checkout with no built
version (an editable install, tests) derives it from its own git on first use. Both hosts
and every command show the same value (``--version``, the staff footer, ``/healthz``).
Standard library only: setup.py loads this file by path, before anything is installed.
"""

import functools
import importlib
import importlib.metadata
import subprocess
from pathlib import Path

BASE = "0.1.0"
BUILT_MODULE = "transfer._build_version"
BUILT_FILE = "_build_version.py"


def derive(source: Path) -> str:
    """``BASE+g<short commit>[.dirty]`` from the git checkout at ``source``; ``BASE`` alone
    when there is none (e.g. an unpacked source archive)."""
    def git(*args: str) -> str | None:
        try:
            result = subprocess.run(["git", "-C", str(source), *args], capture_output=True,
                                    text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    commit = git("rev-parse", "--short=10", "HEAD")
    if not commit:
        return BASE
    changed = git("status", "--porcelain")
    return f"{BASE}+g{commit}{'.dirty' if changed else ''}"


def module_text(version: str) -> str:
    """What setup.py writes into the wheel."""
    return f'"""Written by the build (setup.py): transfer/version.py"""\n\nVERSION = "{version}"\n'


@functools.cache
def current() -> str:
    """The running code's version."""
    try:
        built: str = importlib.import_module(BUILT_MODULE).VERSION
        return built
    except ImportError:
        pass
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / ".git").exists():
        return derive(checkout)
    try:
        return importlib.metadata.version("shinsei-status")
    except importlib.metadata.PackageNotFoundError:
        return BASE
