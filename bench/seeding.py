"""Loading a million applications and ten million audit records into PostgreSQL with COPY,
for the benchmarks; a city's database kept between runs (``city_database``).

The demo's row generator (intranet.demo) makes the rows, so the data is the same shape
as `make demo`'s; COPY is only the fastest way in.
"""

import json
import os
import pwd
import random
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import transaction

from bench.harness import cache_dir
from intranet.applications.models import Application, StatusChange
from intranet.audit.writer import Actor
from intranet.demo import generate_applications
from lab.databases import PostgresCluster, postgres_bindir

APPLICATION_COLUMNS = ["id", "programme_id", "receipt_number", "receipt_number_normalised",
                       "name", "kana", "birth_date", "address", "phone", "route", "received_on",
                       "status_code", "scheduled_payment_on", "paid_on", "deficiency_reason",
                       "notes", "updated_at", "version", "search_key"]
HISTORY_COLUMNS = ["application_id", "from_code", "to_code", "changed_at", "user_id", "source",
                   "reason", "scheduled_payment_on", "paid_on"]


def copy_applications(connection, programme, count, seed=1, opening=date(2020, 5, 11)):
    """COPY ``count`` applications and their histories; ids from 1 upward."""
    raw = connection.connection.driver_connection

    def rows():  # the generator is seeded: both passes see the same applications
        return enumerate(generate_applications(programme, count, random.Random(seed), opening), 1)

    with raw.cursor() as cursor:
        columns = ", ".join(APPLICATION_COLUMNS)
        with cursor.copy(f"COPY applications ({columns}) FROM STDIN") as copy:
            for app_id, (row, _history) in rows():
                copy.write_row([app_id, *(row[c] for c in APPLICATION_COLUMNS[1:])])
        columns = ", ".join(HISTORY_COLUMNS)
        with cursor.copy(f"COPY status_changes ({columns}) FROM STDIN") as copy:
            for app_id, (_row, history) in rows():
                for change in history:
                    copy.write_row([app_id, *(change[c] for c in HISTORY_COLUMNS[1:])])
        for table in (Application.__tablename__, StatusChange.__tablename__):
            # Table names are the models' own constants, not input.
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                           f"(SELECT max(id) FROM {table}))")


AUDIT_COLUMNS = ["seq", "at", "actor", "actor_role", "os_user", "host", "action", "target",
                 "details", "prev_hash", "hash"]
_ACTIONS = ("application.status", "application.view", "login.success", "export.csv")


def copy_audit_records(connection, count, signing_key=None, checkpoint_path=None, since=1000):
    """Append ``count`` chained audit records after the current head with COPY — the
    staff's everyday actions, hashed exactly as the writer hashes them — and, given a key,
    sign a checkpoint ``since`` records before the new head (as the daily job would have)."""
    from intranet.audit.chain import GENESIS_HASH, record_hash, row_hash
    from intranet.audit.writer import utcnow
    from transfer import checkpoints
    from transfer.envelope import canonical_text

    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        # A new database has no head row until its first record: the writer's start.
        cursor.execute("INSERT INTO audit_head (id, seq, hash) SELECT 1, 0, %s WHERE NOT EXISTS "
                       "(SELECT 1 FROM audit_head WHERE id = 1)", (GENESIS_HASH,))
        seq, previous = cursor.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        # A record a second, ending a minute ago: what the app writes afterwards is dated
        # after the signed checkpoint (a later date would read as back-dating).
        started = utcnow() - timedelta(seconds=count + 60)
        signed_at = count - since
        checkpoint = None
        details = canonical_text({"from": "received", "to": "reviewing"})
        lines = []
        with cursor.copy(f"COPY audit_records ({', '.join(AUDIT_COLUMNS)}) FROM STDIN") as copy:
            for n in range(1, count + 1):
                at = started + timedelta(seconds=n)
                row = (seq + n, at, f"staff{n % 400:03d}", "staff", "", f"10.0.0.{n % 200}",
                       _ACTIONS[n % 4], f"application:{n % 1_000_000 + 1}", details, previous)
                # The writer's record_hash, the quick way (tests hold them equal); the
                # first record the slow way too, in case the two ever parted.
                digest = row_hash(row)
                if n == 1:
                    assert digest == record_hash(SimpleNamespace(
                        **dict(zip(AUDIT_COLUMNS, row, strict=False))))
                # COPY text: none of these values holds a tab, newline or backslash.
                lines.append("\t".join((str(row[0]), at.isoformat(), *row[2:], digest)))
                previous = digest
                if len(lines) == 10_000:
                    copy.write("\n".join(lines) + "\n")
                    lines.clear()
                if n == signed_at and signing_key is not None:
                    checkpoint = checkpoints.sign(row[0], digest, at + timedelta(microseconds=1),
                                                  signing_key)
            if lines:
                copy.write("\n".join(lines) + "\n")
        cursor.execute("UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1",
                       (seq + count, previous))
    if checkpoint is not None:
        checkpoints.append_to_file(checkpoint_path, checkpoint)
    return checkpoint


# A city's database (a million applications, ten million audit records) takes minutes to
# make: it is made once per code into a PostgreSQL data directory under build/bench/cache
# (bench.harness.cache_dir: named after a hash of what it depends on, so one made by other
# code is never reused), and reused by later runs of the same code. Runs change it only as
# the app does: they add audit records and status changes; each run signs a fresh
# checkpoint near the head, so the screens always check the same number of records since it.
DEPENDS_ON = ("intranet", "transfer", "bench/seeding.py", "lab/databases.py")
BENCH_PASSWORD = "benchmark password"
_ACTOR = Actor(name="bench", role="cli", host="localhost", os_user="bench")


class CachedCluster(PostgresCluster):
    """A throwaway cluster's settings on a data directory that outlives the run."""

    def __init__(self, bindir, root: Path):
        super().__init__(bindir)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root, self.data = root, root / "data"
        root.mkdir(parents=True, exist_ok=True)
        if self.run_as:
            account = pwd.getpwnam(self.run_as)
            os.chown(root, account.pw_uid, account.pw_gid)

    def start(self):
        if not (self.data / "PG_VERSION").exists():
            return super().start()
        return self.serve()

    def stop(self):
        # A clean shutdown: the directory is started again next run.
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@dataclass
class City:
    url: str
    engine: object
    session_factory: object
    programme_id: int
    settings: dict      # the app's settings for the signed checkpoints
    signing_key: object
    checkpoint_file: Path


@contextmanager
def city_database(applications: int, audit_records: int, since: int = 1000):
    """PostgreSQL holding ``applications`` applications (with histories), a supervisor and
    a security officer (password BENCH_PASSWORD), and an audit chain of ``audit_records``
    more records, one a second up to a minute before they were made, every one hashed as
    the writer hashes it (the full `audit verify` reads them all) — from the cache when
    it was made before. A checkpoint is signed ``since`` records before the head at every
    start."""
    from intranet import migrations
    from intranet.db import get_engine, get_session_factory
    from transfer.keys import generate_signing_key, load_signing_key

    bindir = postgres_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL's initdb and pg_ctl are needed (make bench-deps)")
    root = cache_dir("city", f"pg{bindir.parent.name}-{applications}-{audit_records}", DEPENDS_ON)
    made = root / "seeded.json"
    if not made.exists():
        shutil.rmtree(root, ignore_errors=True)
    cluster = CachedCluster(bindir, root).start()
    key_path, checkpoint_file = root / "sign.key", root / "checkpoints.jsonl"
    try:
        url = cluster.url("bench")
        if not made.exists():
            cluster.admin("CREATE DATABASE bench")
        engine = get_engine({"sqlalchemy.url": url})
        session_factory = get_session_factory(engine)
        if not made.exists():
            started = time.perf_counter()
            key = generate_signing_key(key_path, root / "sign.pub")
            programme_id = _seed_city(engine, session_factory, applications, audit_records,
                                      key, checkpoint_file, since)
            made.write_text(json.dumps({"applications": applications,
                                        "audit_records": audit_records,
                                        "programme_id": programme_id,
                                        "seconds": round(time.perf_counter() - started, 1)}))
        else:
            migrations.upgrade(engine)
            key = load_signing_key(key_path)
        programme_id = json.loads(made.read_text())["programme_id"]
        _sign_near_head(engine, key, checkpoint_file, since)
        settings = {"audit.checkpoint_file": str(checkpoint_file),
                    "audit.checkpoint_keys": str(root / "sign.pub")}
        yield City(url, engine, session_factory, programme_id, settings, key, checkpoint_file)
        engine.dispose()
    finally:
        cluster.stop()


def seed_programme(engine, session_factory, applications: int,
                   accounts: dict[str, str]) -> tuple[int, float]:
    """The bench's programme holding ``applications`` rows and their history (COPY), and a
    bench account per ``accounts`` entry (username → role): (programme id, the COPY's
    seconds)."""
    from intranet.db import get_tm_session
    from intranet.programmes.models import Programme
    from intranet.users.services import add_user

    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        programme = Programme(code="tokubetsu-2020", name="特別定額給付金", name_en="Special")
        dbsession.add(programme)
        for username, role in accounts.items():
            add_user(dbsession, _ACTOR, username, "bench", role, BENCH_PASSWORD)
        dbsession.flush()
        programme_id = programme.id
    started = time.perf_counter()
    with engine.begin() as connection:
        copy_applications(connection, programme, applications)
    return programme_id, time.perf_counter() - started


def _seed_city(engine, session_factory, applications, audit_records, key, checkpoint_file,
               since):
    from sqlalchemy import text

    from intranet import migrations

    # The chain first, dated up to a minute ago, then what the app writes itself (the
    # catalogue, the accounts), dated after it: a chain whose dates rise with its numbers,
    # as a city's does while its clock never went back (the audit screen's date filter
    # bounds a range by two look-ups then: intranet/audit/clock.py).
    migrations.upgrade(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        copy_audit_records(connection, audit_records, key, checkpoint_file, since)
    print(f"seeded {audit_records:,} audit records with COPY in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    migrations.initialise(engine, session_factory, _ACTOR)
    programme_id, seconds = seed_programme(engine, session_factory, applications,
                                           {"supervisor": "supervisor",
                                            "officer": "security_officer"})
    print(f"seeded {applications:,} applications (+ history) with COPY in {seconds:.1f} s",
          flush=True)
    started = time.perf_counter()
    _publish_baseline(session_factory)
    print(f"a delivered publication of every application as the baseline in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
        connection.execute(text("CHECKPOINT"))
    return programme_id


def _publish_baseline(session_factory):
    """A publication of every application, delivered: what a city's residents read, and what
    the publications screen compares today's rows with (its preview is the difference)."""
    from intranet.db import get_tm_session
    from intranet.publications import services
    from intranet.publications.models import PUBLISHED
    from intranet.users.services import find_user

    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        publication = services.request_publication(
            dbsession, _ACTOR, find_user(dbsession, "supervisor"), "bench", four_eyes=False)
        publication.state, publication.finished_at = PUBLISHED, publication.approved_at


def _sign_near_head(engine, key, checkpoint_file, since):
    """A signed checkpoint ``since`` records before the head, as the daily job leaves it."""
    from sqlalchemy import text

    from transfer import checkpoints

    with engine.connect() as connection:
        head = connection.execute(text("SELECT seq FROM audit_head WHERE id = 1")).scalar_one()
        seq, digest, at = connection.execute(text(
            "SELECT seq, hash, at FROM audit_records WHERE seq = :s"),
            {"s": max(1, head - since)}).one()
    checkpoints.append_to_file(checkpoint_file, checkpoints.sign(
        seq, digest, at + timedelta(microseconds=1), key))
