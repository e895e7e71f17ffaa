"""Snapshot benchmark: build + sign 1,000,000 entries; verify + load 5,000,000; lookups.

Each figure is printed beside a baseline measured in the same run: SHA-256 over the same
bytes (the floor of verification), and a Python dict of the same entries (the memory and
lookup speed of the obvious alternative), and the build as it was before issue 16.
Targets: build+sign 1M < 1.5 s (issue 16; was < 5 s in issue 4),
verify+load 5M < 5 s, 5M entries < 250 MB, lookup < 10 µs.

    .venv/bin/python bench/snapshot_bench.py [--build 1000000] [--verify 5000000]
"""

import argparse
import gc
import hashlib
import hmac
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.harness import Verdicts, sized
from transfer import build as transfer_build
from transfer.build import make_body, sign_body, sign_snapshot
from transfer.keys import SigningKey
from transfer.lookup import LookupHasher
from transfer.snapshot import FORMAT_VERSION, PAYLOAD_TYPE, day_number, format_time
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
    return {"format": FORMAT_VERSION, "payload_type": PAYLOAD_TYPE, "origin": ORIGIN.as_header(),
            "sequence": sequence, "created_at": format_time(NOW),
            "expires_at": format_time(NOW + timedelta(days=3)), "lookup_key_id": "lk-bench",
            "programmes": [{"code": "p2020", "name": {"ja": "給付金"}, "needs_birth_date": False,
                            "lookup_opens_on": None, "lookup_closes_on": None}],
            "statuses": [{"code": c, "final": False, "dates": [], "wording": {}}
                                           for c in STATUS_CODES]}


def previous_build(rows, programmes, statuses, secret, key):
    """The build as it was before issue 16 (tuples sorted, then packed): the same-run reference."""
    index = {status.code: i for i, status in enumerate(statuses)}
    needs = {s.code: (s.needs_scheduled_payment_date, s.needs_paid_date) for s in statuses}
    hashers = {p.id: LookupHasher(secret, p.code) for p in programmes}
    entries = []
    for programme_id, receipt, _birth, status, scheduled, paid, *_action in rows:
        wants_scheduled, wants_paid = needs[status]
        entries.append((hashers[programme_id].key(receipt), index[status],
                        day_number(scheduled) if wants_scheduled else 0,
                        day_number(paid) if wants_paid else 0))
    entries.sort()
    return sign_snapshot(entries, 0, signing_keys=[key], header=header())


class StdlibHmacHasher:
    """The lookup key as LookupHasher made it before: ``hmac.HMAC.copy`` per key (the same
    bytes; the build checks that every variant's body is identical)."""

    def __init__(self, secret, programme):
        self._prefix = hmac.new(secret, programme.encode("ascii") + b"\x00", hashlib.sha256)

    def key(self, receipt, birth_date=None):
        mac = self._prefix.copy()
        mac.update(receipt.encode("ascii", errors="replace"))
        if birth_date is not None:
            mac.update(b"\x00" + birth_date.isoformat().encode("ascii"))
        return mac.digest()[:16]


def with_stdlib_hmac(run):
    def patched():
        transfer_build.LookupHasher = StdlibHmacHasher
        try:
            return run()
        finally:
            transfer_build.LookupHasher = LookupHasher
    return patched


def bench_build(count, key, repeat):
    statuses = [SimpleNamespace(code=c, needs_scheduled_payment_date=c == "payment_scheduled",
                                needs_paid_date=c == "paid") for c in STATUS_CODES]
    programmes = [SimpleNamespace(id=1, code="p2020", needs_birth_date=False)]
    rng = random.Random(1)
    rows = [(1, f"{n:08d}", None, rng.choice(STATUS_CODES), date(2020, 7, 1), date(2020, 7, 1),
             None, None, None) for n in range(count)]
    secret = b"s" * 32

    def build(workers):
        body, entries, skipped = make_body(rows, programmes, statuses, secret, workers=workers)
        return sign_body(body, entries, skipped, signing_keys=[key], header=header())

    cores = os.cpu_count() or 1
    runs = {"previous build (tuples, one process)": lambda: previous_build(
                rows, programmes, statuses, secret, key),
            "make_body + sign_body, 1 process, keys by hmac.HMAC.copy (before)":
                with_stdlib_hmac(lambda: build(1)),
            "make_body + sign_body, 1 process": lambda: build(1),
            f"make_body + sign_body, {cores} processes (default)": lambda: build(None)}
    samples = {name: [] for name in runs}
    results = {}
    for _ in range(repeat):   # taking turns, so a load change falls on every variant
        for name, run in runs.items():
            started = time.perf_counter()
            results[name] = run()
            samples[name].append(time.perf_counter() - started)
    bodies = {result.header["body_sha256"] for result in results.values()}
    assert len(bodies) == 1, "the variants built different bodies"
    data = next(iter(results.values())).data
    floor = time.perf_counter()
    hashlib.sha256(data).digest()
    floor = time.perf_counter() - floor
    reference = statistics.median(samples["previous build (tuples, one process)"])
    print(f"build + sign {count:,} entries, median of {repeat}, load average "
          f"{os.getloadavg()[0]:.1f} (baseline SHA-256 of the {len(data) / 1e6:.0f} MB file: "
          f"{floor * 1000:.0f} ms)")
    for name, times in samples.items():
        median = statistics.median(times)
        print(f"  {name}: {median:.2f} s ({reference / median:.2f}x the previous build)")
    return statistics.median(samples[f"make_body + sign_body, {cores} processes (default)"]), \
        reference


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
    return SimpleNamespace(seconds=seconds, sha256=floor, held=held,
                           table_mb=len(snapshot.table.body) / 1e6, dict_mb=dict_mb,
                           lookup=per_lookup, dict_lookup=dict_lookup)


def verdicts(args, build_s, previous_s, verified):
    found = Verdicts("bench-snapshot")
    found.add(f"build + sign {args.build:,} entries", build_s, "s",
              f"previous build {previous_s:.2f} s", previous_s, "< 1.5 s", build_s < 1.5)
    found.add(f"verify + load {args.verify:,} entries", verified.seconds, "s",
              f"SHA-256 of the body {verified.sha256 * 1000:.0f} ms", verified.sha256, "< 5 s",
              verified.seconds < 5)
    found.add(f"memory held for {args.verify:,} entries", verified.held, "MB",
              f"Python dict {verified.dict_mb:.0f} MB", verified.dict_mb, "< 250 MB",
              verified.held < 250)
    found.add("lookup", verified.lookup, "µs", f"Python dict {verified.dict_lookup:.2f} µs",
              verified.dict_lookup, "< 10 µs", verified.lookup < 10)
    found.finish()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=int, default=sized(1_000_000, 20_000))
    parser.add_argument("--verify", type=int, default=sized(5_000_000, 100_000))
    parser.add_argument("--repeat", type=int, default=sized(3, 1))
    args = parser.parse_args()
    signing_key = SigningKey(Ed25519PrivateKey.generate())
    built = bench_build(args.build, signing_key, args.repeat)
    verdicts(args, *built, bench_verify(args.verify, signing_key))
