"""Snapshot benchmark: build + sign 1,000,000 entries; verify + load 5,000,000; lookups.

Each figure is printed beside a baseline measured in the same run: SHA-256 over the same
bytes (the floor of verification), and a Python dict of the same entries (the memory and
lookup speed of the obvious alternative). Targets (issue #4): build+sign 1M < 5 s,
verify+load 5M < 5 s, 5M entries < 250 MB, lookup < 10 µs.

    .venv/bin/python bench/snapshot_bench.py [--build 1000000] [--verify 5000000]
"""

import argparse
import gc
import hashlib
import os
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from transfer.build import make_entries, sign_snapshot
from transfer.keys import SigningKey
from transfer.snapshot import PAYLOAD_TYPE, format_time
from transfer.verify import Origin, TrustPolicy, verify_snapshot

ORIGIN = Origin("142158", "prod")
NOW = datetime(2026, 6, 1, tzinfo=UTC)
STATUS_CODES = ["received", "reviewing", "approved", "payment_scheduled", "paid"]


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def header(sequence=1):
    return {"format": 1, "payload_type": PAYLOAD_TYPE, "origin": ORIGIN.as_header(),
            "sequence": sequence, "created_at": format_time(NOW),
            "expires_at": format_time(NOW + timedelta(days=3)), "lookup_key_id": "lk-bench",
            "programmes": [{"code": "p2020", "name": {"ja": "給付金"}, "needs_birth_date": False,
                            "lookup_opens_on": None, "lookup_closes_on": None}],
            "statuses": [{"code": c, "final": False, "dates": [], "wording": {}}
                                           for c in STATUS_CODES]}


def bench_build(count, key):
    statuses = [SimpleNamespace(code=c, needs_scheduled_payment_date=c == "payment_scheduled",
                                needs_paid_date=c == "paid") for c in STATUS_CODES]
    programmes = [SimpleNamespace(id=1, code="p2020", needs_birth_date=False)]
    rng = random.Random(1)
    rows = [(1, f"{n:08d}", None, rng.choice(STATUS_CODES), date(2020, 7, 1), date(2020, 7, 1))
            for n in range(count)]
    started = time.perf_counter()
    entries, _ = make_entries(rows, programmes, statuses, b"s" * 32)
    keyed = time.perf_counter()
    result = sign_snapshot(entries, 0, signing_keys=[key], header=header())
    done = time.perf_counter()
    floor = time.perf_counter()
    hashlib.sha256(result.data).digest()
    floor = time.perf_counter() - floor
    print(f"build {count:,}: lookup keys + sort {keyed - started:.2f} s, pack + hash + sign "
          f"{done - keyed:.2f} s, total {done - started:.2f} s "
          f"(baseline SHA-256 of the {len(result.data) / 1e6:.0f} MB file: {floor * 1000:.0f} ms)")


def bench_verify(count, key):
    rng = random.Random(2)
    keys = sorted({rng.randbytes(16) for _ in range(count)})
    entries = [(k, i % len(STATUS_CODES), 0, 0) for i, k in enumerate(keys)]
    data = sign_snapshot(entries, 0, signing_keys=[key], header=header(2)).data
    del entries
    gc.collect()
    policy = TrustPolicy([key.public_key], ORIGIN, max_size=len(data) + 1)
    before = rss_mb()
    started = time.perf_counter()
    snapshot = verify_snapshot(data, policy, last_sequence=1, now=NOW)
    seconds = time.perf_counter() - started
    held = rss_mb() - before
    del data
    gc.collect()
    floor = time.perf_counter()
    hashlib.sha256(snapshot.table.body).digest()
    floor = time.perf_counter() - floor
    print(f"verify + load {len(keys):,}: {seconds:.2f} s (baseline SHA-256 of the body: "
          f"{floor * 1000:.0f} ms); table holds {len(snapshot.table.body) / 1e6:.0f} MB, "
          f"RSS grew {held:.0f} MB while verifying")
    probes = [rng.choice(keys) for _ in range(50_000)] + [rng.randbytes(16) for _ in range(50_000)]
    started = time.perf_counter()
    for probe in probes:
        snapshot.table.find(probe)
    per_lookup = (time.perf_counter() - started) / len(probes) * 1e6
    before = rss_mb()
    as_dict = {k: (i % 5, 0, 0) for i, k in enumerate(keys)}
    dict_mb = rss_mb() - before
    started = time.perf_counter()
    for probe in probes:
        as_dict.get(probe)
    dict_lookup = (time.perf_counter() - started) / len(probes) * 1e6
    print(f"lookup: {per_lookup:.1f} µs (baseline Python dict: {dict_lookup:.2f} µs); "
          f"memory: table {len(snapshot.table.body) / 1e6:.0f} MB vs dict {dict_mb:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=int, default=1_000_000)
    parser.add_argument("--verify", type=int, default=5_000_000)
    args = parser.parse_args()
    signing_key = SigningKey(Ed25519PrivateKey.generate())
    bench_build(args.build, signing_key)
    bench_verify(args.verify, signing_key)
