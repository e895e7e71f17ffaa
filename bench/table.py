"""The table docs/performance.md opens with, from the lines the benchmarks kept in
build/bench/results/ (bench/harness.py): one row per target, with each run's time, load and
scale.

    .venv/bin/python bench/table.py [bench-snapshot bench-mirror …]
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import RESULTS

ORDER = ["bench-snapshot", "bench-mirror", "bench-balancer", "bench-transfer",
         "bench-publication", "bench-import", "bench-search", "bench-intranet", "bench-audit"]


def main(targets):
    missing = []
    print("| benchmark | target | figure | baseline (same run) | ratio | target | met |")
    print("|---|---|---:|---|---:|---|---|")
    runs = []
    for target in targets or ORDER:
        path = RESULTS / f"{target}.json"
        if not path.exists():
            missing.append(target)
            continue
        kept = json.loads(path.read_text())
        runs.append((target, kept["run"]))
        for row in kept["rows"]:
            print(f"| `{target}` | {row['what']} | {row['figure']} | {row['baseline']} | "
                  f"{row['ratio']} | {row['target']} | {'✔' if row['met'] else '✘'} |")
    print()
    for target, run in runs:
        print(f"- `{target}`: {run['started']}–{run['ended']}, load average {run['load']}, "
              f"{run['commit']}, scale {run['scale']}")
    if missing:
        print(f"- no results (not run, or it failed): {', '.join(missing)}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
