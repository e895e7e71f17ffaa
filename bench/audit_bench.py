"""Audit chain check: the full `audit verify` and the screens' check from the last signed
checkpoint, at a city's size (default 1,000,000 records; the target is 10,000,000).

Records are COPYed into a throwaway PostgreSQL cluster, hashed as the writer hashes them,
with a signed checkpoint 1,000 records before the head (the daily job's). Baselines in
the same run: the bare read of every record in sequence order (server-side cursor, no
hashing) — the floor of any full check — and SHA-256 over the same canonical lines in one
process. Target (issue #16): full verify of 10,000,000 < 60 s; the screens' check in
milliseconds whatever the chain's length.

    .venv/bin/python bench/audit_bench.py [--records 1000000] [--since 1000]
"""

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.intranet_bench import seeded_database
from bench.seeding import copy_audit_records
from intranet.audit import checkpoints, services
from intranet.audit.writer import Actor
from transfer.keys import generate_signing_key

ACTOR = Actor(name="bench", role="cli", host="localhost", os_user="bench")


def floor_read(url):
    """Every record read in order through a server-side cursor, nothing else."""
    import psycopg

    started, count = time.perf_counter(), 0
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as connection, \
            connection.cursor(name="floor") as cursor:
        cursor.itersize = 2000
        cursor.execute("SELECT * FROM audit_records ORDER BY seq")
        for _row in cursor:
            count += 1
    return time.perf_counter() - started, count


def timed(function):
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main(args):
    # No applications: the audit trail alone, on the same throwaway cluster as the page benches.
    with seeded_database(0) as (url, engine, session_factory, _programme), \
            tempfile.TemporaryDirectory() as root:
        root = Path(root)
        key = generate_signing_key(root / "sign.key", root / "sign.pub")
        path = root / "checkpoints.jsonl"
        seconds, _ = timed(lambda: _seed(engine, args, key, path))
        print(f"seeded {args.records:,} audit records with COPY in {seconds:.1f} s")
        signed = checkpoints.read_file(path, [key.public_key])
        seconds, count = floor_read(url)
        print(f"baseline, bare read of every record in order: {seconds:.1f} s "
              f"({count / seconds:,.0f} records/s)")
        with session_factory() as dbsession:
            seconds, verdict = timed(lambda: services.verify(dbsession, signed))
        assert verdict.ok, verdict
        print(f"full audit verify (with the signed checkpoint): {seconds:.1f} s "
              f"({verdict.count / seconds:,.0f} records/s), {verdict.count:,} records")
        samples = []
        for _ in range(args.repeat):
            with session_factory() as dbsession:
                seconds, verdict = timed(lambda: services.verify_since_checkpoint(
                    dbsession, signed))
            assert verdict.ok and verdict.verified_from, verdict
            samples.append(seconds)
        samples.sort()
        print(f"screens' check from the checkpoint ({args.since:,} records since): "
              f"p50 {samples[len(samples) // 2] * 1000:.1f} ms, "
              f"p95 {samples[int(len(samples) * 0.95)] * 1000:.1f} ms")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the benchmark process: {peak:,.0f} MB")


def _seed(engine, args, key, path):
    with engine.begin() as connection:
        copy_audit_records(connection, args.records, key, path, args.since)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE audit_records")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--since", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    main(parser.parse_args())
