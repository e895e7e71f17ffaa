"""Audit chain check: the full `audit verify` and the screens' check from the last signed
checkpoint, at a city's size (10,000,000 records beside 1,000,000 applications).

The city's database comes from ``bench.seeding.city_database`` (made once, then kept
under build/bench/cache, once per code): every record hashed as the writer hashes them, a signed checkpoint
1,000 records before the head (the daily job's). Baselines in the same run: the bare read
of every record in sequence order (one server-side cursor, no hashing) — the floor of any
one-process check — and the same check in one process (``--workers 1``). Target (issue
#16): full verify of 10,000,000 < 60 s; the screens' check in milliseconds whatever the
chain's length.

    .venv/bin/python bench/audit_bench.py [--records 10000000] [--applications 1000000]
        [--workers N] [--no-serial]
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Verdicts, sized
from bench.seeding import city_database
from intranet.audit import services
from transfer import checkpoints


def floor_read(url):
    """Every record read in order through a server-side cursor, nothing else."""
    import psycopg

    started, count = time.perf_counter(), 0
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection, \
            connection.cursor(name="floor") as cursor:
        cursor.itersize = 5000
        cursor.execute("SELECT * FROM audit_records ORDER BY seq")
        for _row in cursor:
            count += 1
    return time.perf_counter() - started, count


def uptime():
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def full_check(city, signed, workers):
    with city.session_factory() as dbsession:
        seconds, verdict = timed(lambda: services.verify(dbsession, signed, workers=workers))
    assert verdict.ok, verdict
    print(f"full audit verify, {workers} process{'es' if workers > 1 else ''}: "
          f"{seconds:.1f} s ({verdict.count / seconds:,.0f} records/s), "
          f"{verdict.count:,} records, {verdict.checkpoints} signed checkpoints", flush=True)
    return seconds


def main(args):
    with city_database(args.applications, args.records) as city:
        uptime()
        signed = checkpoints.read_file(city.checkpoint_file, [city.signing_key.public_key])
        seconds, count = floor_read(city.url)
        print(f"baseline, bare read of every record in order (one cursor): {seconds:.1f} s "
              f"({count / seconds:,.0f} records/s)", flush=True)
        found = Verdicts("bench-audit")
        full = full_check(city, signed, args.workers)
        found.add(f"full audit verify of {count:,} records, {args.workers} processes", full, "s",
                  f"bare read of every record in order {seconds:.2f} s", seconds, "< 60 s",
                  full < 60)
        if not args.no_serial:
            full_check(city, signed, 1)
        samples = []
        for _ in range(args.repeat):
            with city.session_factory() as dbsession:
                seconds, verdict = timed(lambda: services.verify_since_checkpoint(
                    dbsession, signed))
            assert verdict.ok and verdict.verified_from, verdict
            samples.append(seconds)
        samples.sort()
        since = verdict.count - verdict.verified_from
        print(f"screens' check from the checkpoint ({since:,} records since): "
              f"p50 {samples[len(samples) // 2] * 1000:.1f} ms, "
              f"p95 {samples[int(len(samples) * 0.95)] * 1000:.1f} ms")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the benchmark process: {peak:,.0f} MB")
        uptime()
        p95 = samples[int(len(samples) * 0.95)] * 1000
        # "Milliseconds, whatever the chain's length": held to the pages' 50 ms.
        found.add(f"screens' check from the checkpoint ({since:,} records since), p95", p95,
                  "ms", "none", None, "< 50 ms", p95 < 50)
        found.finish()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=sized(10_000_000, 20_000))
    parser.add_argument("--applications", type=int, default=sized(1_000_000, 2_000))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-serial", action="store_true",
                        help="skip the one-process check (the split's baseline)")
    parser.add_argument("--repeat", type=int, default=sized(50, 10))
    main(parser.parse_args())
