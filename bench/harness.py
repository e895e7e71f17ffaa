"""What every benchmark shares: its size (``BENCH_SCALE``), its caches under ``build/`` keyed
by the code they were made from, and the one line per target each run ends with.

``BENCH_SCALE=small`` shrinks every benchmark to a size that runs in a minute or two: it
proves the benchmark runs to its last line from a fresh clone; its figures are not the
targets' sizes and its lines say so.

A cache (a seeded PostgreSQL data directory) is named after a hash of the files it was made
from — the code's directories and the seeding module itself — so a cache made by other code
is never reused: it is not found, the current code makes its own, and the caches made by
other code for the same benchmark are removed (they hold gigabytes at full size).
"""

import hashlib
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "bench"
RESULTS = BUILD / "results"
SCALES = ("full", "small")
SCALE = os.environ.get("BENCH_SCALE", "full") or "full"
if SCALE not in SCALES:
    raise SystemExit(f"BENCH_SCALE={SCALE!r}: expected one of {', '.join(SCALES)}")
SMALL = SCALE == "small"
# When the benchmark's process started, and the machine's load then (for its lines).
STARTED, LOAD_AT_START = datetime.now(UTC), os.getloadavg()


def sized(full, small):
    """The full size, or the small one under BENCH_SCALE=small."""
    return small if SMALL else full


def code_hash(*paths: str) -> str:
    """SHA-256 over the names and contents of the files under ``paths`` (relative to the
    repository), compiled files left out: the same for the same code, committed or not."""
    digest = hashlib.sha256()
    for relative in sorted(paths):
        top = ROOT / relative
        files = [top] if top.is_file() else sorted(
            p for p in top.rglob("*") if p.is_file() and "__pycache__" not in p.parts
            and p.suffix not in (".pyc", ".mo"))
        for path in files:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_dir(kind: str, size: str, depends_on: tuple[str, ...]) -> Path:
    """``build/bench/cache/<kind>-<size>-<code hash>``; caches of the same kind and size made
    by other code are removed first. The directory itself is not created."""
    root = Path(os.environ.get("SHINSEI_BENCH_CACHE", BUILD / "cache"))
    path = root / f"{kind}-{size}-{code_hash(*depends_on)}"
    if root.exists():
        for stale in root.glob(f"{kind}-{size}-*"):
            if stale != path:
                print(f"removing {stale.name}: made by other code", flush=True)
                shutil.rmtree(stale, ignore_errors=True)
    return path


class Verdicts:
    """The lines a benchmark ends with, one per target, also kept in build/bench/results/
    for `make bench`'s table (bench/table.py)."""

    def __init__(self, target: str):
        self.target = target
        self.rows: list[dict] = []
        self.started, self.load = STARTED, LOAD_AT_START

    def add(self, what: str, figure: float, unit: str, baseline: str, baseline_value: float | None,
            target: str, met: bool):
        """One target: the figure, the baseline in the same run (described, and its value in
        the figure's unit for the ratio, or None), the target in words and whether it is met."""
        ratio = figure / baseline_value if baseline_value else None
        self.rows.append({"bench": self.target, "what": what,
                          "figure": f"{figure:,.{_places(figure)}f} {unit}".strip(),
                          "baseline": baseline, "ratio": f"{ratio:.2f}×" if ratio else "—",
                          "target": target, "met": bool(met)})

    def finish(self):
        """Print the lines and keep them; load average at the start and now, and the scale."""
        RESULTS.mkdir(parents=True, exist_ok=True)
        ended = datetime.now(UTC)
        run = {"scale": SCALE, "started": f"{self.started:%Y-%m-%d %H:%M}",
               "ended": f"{ended:%H:%M} UTC",
               "load": f"{self.load[0]:.2f} → {os.getloadavg()[0]:.2f}",
               "commit": _commit()}
        (RESULTS / f"{self.target}.json").write_text(json.dumps(
            {"run": run, "rows": self.rows}, ensure_ascii=False, indent=1))
        scale = "" if not SMALL else "  [BENCH_SCALE=small: not the target's size]"
        print(f"\n{self.target}: {run['started']}–{run['ended']}, load {run['load']}, "
              f"{run['commit']}{scale}")
        for row in self.rows:
            print(line(row))


def line(row: dict) -> str:
    met = "met" if row["met"] else "NOT met"
    return (f"TARGET {row['bench']} | {row['what']} | {row['figure']} | baseline "
            f"{row['baseline']} | ratio {row['ratio']} | target {row['target']} | {met}")


def _places(value: float) -> int:
    if isinstance(value, int):
        return 0
    return 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2


def _commit() -> str:
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "intranet",
                                "transfer", "public_mirror", "bench"],
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "no git"
    return head + (" + changes" if dirty else "")
