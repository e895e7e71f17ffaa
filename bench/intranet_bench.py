"""Intranet benchmark: every page staff use daily, at 1,000,000 applications and
10,000,000 audit records in PostgreSQL, real HTTP through waitress.

Prints p50/p95 latency per page and the time of a 10,000-number bulk change, each beside a
baseline measured in the same run: the bare SQL query the page cannot avoid. Targets
(issue #2): page p95 < 50 ms; bulk change of 10,000 < 5 s; (issue #16) every page
including the dashboard and the audit and transfer screens, at 1M applications and 10M
audit records. The data comes from ``bench.seeding.city_database`` (made once, kept under
build/bench/cache, once per code; a signed checkpoint 1,000 records before the head at every start, as the
daily job leaves it). Name and phone search have their own bench (bench/search_bench.py).

    .venv/bin/python bench/intranet_bench.py [--applications 1000000] [--requests 200]
                                             [--audit-records 10000000]
"""

import argparse
import http.client
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import transaction
from sqlalchemy import func, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Verdicts, sized
from bench.seeding import BENCH_PASSWORD, city_database, seed_programme
from intranet import main, migrations
from intranet.applications.models import Application
from intranet.applications.search import encode_cursor
from intranet.audit.models import AuditRecord
from intranet.audit.writer import Actor
from intranet.auth.models import User
from intranet.db import get_engine, get_session_factory, get_tm_session
from intranet.programmes.models import Programme
from intranet.publications import changes
from intranet.users.services import add_user
from lab.databases import PostgresCluster, postgres_bindir
from lab.servers import WaitressThread

ACTOR = Actor(name="bench", role="cli", host="localhost", os_user="bench")
PASSWORD = BENCH_PASSWORD


def percentiles(samples):
    ordered = sorted(samples)
    return (statistics.median(ordered) * 1000,
            ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000)


class Client:
    """One keep-alive HTTP connection with the session cookie and CSRF token."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.cookie = ""

    def request(self, method, path, form=None):
        body = urlencode(form, doseq=True) if form else None
        headers = {"Cookie": self.cookie}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # waitress closes a connection idle for its channel_timeout (120 s): an account
            # whose pages come after a slow row finds its connection gone. A new one, once.
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.conn.host, self.conn.port)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read().decode()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, data

    def token(self, page):
        return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)

    def login(self, username):
        _, page = self.request("GET", "/login")
        status, _ = self.request("POST", "/login", {"username": username, "password": PASSWORD,
                                                    "csrf_token": self.token(page)})
        assert status == 303, status


def timed(function, repeat):
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def seed(engine, session_factory, count):
    programme_id, seconds = seed_programme(engine, session_factory, count,
                                           {"supervisor": "supervisor"})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return programme_id, seconds


@contextmanager
def seeded_database(applications):
    """A throwaway PostgreSQL cluster at the latest schema holding ``applications`` rows:
    yields (url, engine, session factory, programme id); stopped afterwards."""
    cluster = PostgresCluster(postgres_bindir()).start()
    try:
        cluster.admin("CREATE DATABASE bench")
        url = cluster.url("bench")
        engine = get_engine({"sqlalchemy.url": url})
        session_factory = get_session_factory(engine)
        migrations.initialise(engine, session_factory, ACTOR)
        programme_id, seconds = seed(engine, session_factory, applications)
        print(f"loaded {applications:,} applications (+ history) with COPY in {seconds:.1f} s "
              f"({applications / seconds:,.0f} applications/s)")
        yield url, engine, session_factory, programme_id
    finally:
        cluster.stop()


def main_bench(args):
    with city_database(args.applications, args.audit_records) as city:
        ensure_account(city.session_factory, "admin", "admin")
        uptime()
        a_days_changes(city.engine, city.programme_id, args.applications // args.changes)
        run(args, city.engine, city.session_factory, city.programme_id, city.url, city.settings)
        uptime()


def a_days_changes(engine, programme_id, every):
    """Every ``every``-th application moved to 審査中 since the delivered publication (1 %
    by default: a busy day's changes before the next publication), so the publications
    screen has changes to show. The same applications every run: what the preview compares
    does not grow (a run with fewer changes first, then more, sees each)."""
    started = time.perf_counter()
    with engine.begin() as connection:
        changed = connection.execute(
            update(Application).where(Application.programme_id == programme_id,
                                      Application.id % every == 0)
            .values(status_code="reviewing")).rowcount
    print(f"{changed:,} applications changed since the delivered publication "
          f"({time.perf_counter() - started:.1f} s)", flush=True)


def ensure_account(session_factory, username, role):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        if dbsession.execute(select(User).where(User.username == username)).first() is None:
            add_user(dbsession, ACTOR, username, "bench", role, PASSWORD)


def uptime():
    print(subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)


def run(args, engine, session_factory, programme_id, url, settings=None):
    rng = random.Random(2)
    with session_factory() as dbsession:
        numbers = dbsession.execute(select(Application.receipt_number_normalised, Application.id)
                                    .order_by(func.random()).limit(20_000)).all()
        # For the bulk change: numbers whose status may move to 辞退・取下げ, so all change.
        movable = dbsession.execute(select(Application.receipt_number_normalised).where(
            Application.status_code.in_(["received", "reviewing", "inquiring", "approved"]))
            .order_by(func.random()).limit(10_000)).scalars().all()
        # The last row of page 499: its cursor opens page 500.
        depth = min(499 * 50, args.applications - 51)
        deep = dbsession.execute(select(Application).order_by(
            Application.received_on.desc(), Application.id.desc()).offset(depth).limit(1)).scalar_one()
        deep_cursor = encode_cursor("received", deep)
        head = dbsession.execute(select(func.max(AuditRecord.seq))).scalar_one()
        # A day of the seeded records (one a second: 86,400 that day), a month back.
        day = (dbsession.get(AuditRecord, head).at - timedelta(days=30)).date()
        day_start = datetime.combine(day, datetime.min.time()) - timedelta(hours=9)
    app = main({}, **{"sqlalchemy.url": url, "session.secret": "b" * 40,
                      "session.secure_cookie": "false", **(settings or {})})
    rows = []
    with WaitressThread(app) as server:
        client = Client(server.port)
        client.login("supervisor")
        officer = Client(server.port)
        officer.login("officer")
        admin = Client(server.port)
        admin.login("admin")
        n = args.requests

        def page(path, who=client):
            def go():
                status, _ = who.request("GET", path)
                assert status == 200, (path, status)
            return go

        def sql(statement, **params):
            def go():
                with engine.connect() as conn:
                    conn.execute(statement, params).all()
            return go

        def whole_preview():
            """The preview as it was before publications.since: every row compared."""
            with session_factory() as dbsession:
                changes.summarise(dbsession, changes.live_rows())

        sample_number, sample_id = rng.choice(numbers)
        newest_audit = sql(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(101))
        cases = [
            # Baseline: the GROUP BY over every application the tallies replaced.
            ("dashboard (tallies; SQL: the old GROUP BY)", page("/dashboard"),
             sql(select(Application.status_code, func.count()).group_by(Application.status_code))),
            ("search by receipt number",
             lambda: client.request("GET", "/applications?" + urlencode(
                 {"receipt": rng.choice(numbers)[0]})),
             sql(select(Application).where(
                 Application.receipt_number_normalised == sample_number))),
            ("list, first page", page("/applications"),
             sql(select(Application).order_by(Application.received_on.desc(),
                                               Application.id.desc()).limit(51))),
            ("list, page 500 (keyset)",
             page("/applications?" + urlencode({"after": deep_cursor})),
             sql(text("SELECT * FROM applications WHERE (received_on, id) < (:d, :i) "
                      "ORDER BY received_on DESC, id DESC LIMIT 51"),
                 d=deep.received_on, i=deep.id)),
            ("list, one status (審査中)", page("/applications?status=reviewing"),
             sql(select(Application).where(Application.status_code == "reviewing").order_by(
                 Application.received_on.desc(), Application.id.desc()).limit(51))),
            ("detail page", lambda: client.request("GET", f"/applications/{rng.choice(numbers)[1]}"),
             sql(select(Application).where(Application.id == sample_id))),
            # Baseline: its preview compared whole (every row of today against every row of
            # the delivered publication), as the page did before publications.since.
            ("publications (request / approve)", page("/publications"), whole_preview),
            ("status catalogue", page("/catalogue"), sql(text("SELECT * FROM statuses"))),
            ("programmes", page("/programmes"), sql(select(Programme))),
            ("bulk change form", page("/bulk"), sql(select(Programme))),
            ("import form", page("/imports"), sql(select(Programme))),
            ("disposals", page("/disposals"), sql(select(Programme))),
            # Baseline: the page's own query (the newest 101 records).
            ("audit screen (chain checked from the checkpoint)", page("/audit", officer),
             newest_audit),
            ("audit screen, one user's records", page("/audit?actor=staff007", officer),
             sql(select(AuditRecord).where(AuditRecord.actor == "staff007")
                 .order_by(AuditRecord.seq.desc()).limit(101))),
            ("audit screen, one day", page(f"/audit?from={day}&to={day}", officer),
             sql(select(AuditRecord).where(AuditRecord.at >= day_start,
                                           AuditRecord.at < day_start + timedelta(days=1))
                 .order_by(AuditRecord.seq.desc()).limit(101))),
            ("audit screen, one action", page("/audit?action=export.csv", officer),
             sql(select(AuditRecord).where(AuditRecord.action == "export.csv")
                 .order_by(AuditRecord.seq.desc()).limit(101))),
            ("audit record page", lambda: officer.request("GET", f"/audit/{rng.randint(1, head)}"),
             sql(select(AuditRecord).where(AuditRecord.seq == head // 2))),
            ("transfer log (chain checked from the checkpoint)", page("/transfers", officer),
             newest_audit),
            ("accounts (administrator)", page("/users", admin), sql(select(User))),
        ]
        for name, request, baseline in cases:
            if args.only and not any(word in name for word in args.only):
                continue
            request()  # warm
            app_p = percentiles(timed(request, n))
            base_p = percentiles(timed(baseline, n))
            rows.append((name, *app_p, *base_p))
            print(f"{name:<58} {app_p[0]:>9.1f} {app_p[1]:>9.1f} {base_p[0]:>9.2f} "
                  f"{base_p[1]:>9.2f}", flush=True)
        if not args.only:
            rows.append(bulk(client, programme_id, movable))
    print_table(rows)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the benchmark process (app + client): {peak:,.0f} MB")
    verdicts(rows, args)


def verdicts(rows, args):
    found = Verdicts("bench-intranet")
    for name, _p50, p95, _b50, b95 in rows:
        if name.startswith("bulk change"):
            found.add(f"{name.split(':')[0]}: confirm", p95 / 1000, "s",
                      f"preview {_p50 / 1000:.2f} s", None, "< 5 s", p95 < 5000)
            continue
        found.add(f"{name}, p95", p95, "ms", f"SQL p95 {b95:.2f} ms", b95, "< 50 ms", p95 < 50)
    found.finish()


def bulk(client, programme_id, chosen):
    _, page = client.request("GET", "/bulk")
    form = {"csrf_token": client.token(page), "programme": programme_id, "status": "withdrawn",
            "numbers": "\n".join(chosen), "reason": "bench", "preview": "1"}
    started = time.perf_counter()
    status, preview = client.request("POST", "/bulk", form)
    preview_seconds = time.perf_counter() - started
    assert status == 200, status
    token = re.search(r'name="token" value="([0-9a-f]+)"', preview).group(1)
    changes = int(re.search(r"<strong>([\d,]+)</strong>", preview).group(1).replace(",", ""))
    started = time.perf_counter()
    status, _ = client.request("POST", "/bulk", {**form, "token": token, "confirm": "1"})
    confirm_seconds = time.perf_counter() - started
    assert status == 303, status
    return (f"bulk change of {len(chosen):,} ({changes:,} changed): preview / confirm",
            preview_seconds * 1000, confirm_seconds * 1000, float("nan"), float("nan"))


def print_table(rows):
    print(f"\n{'operation':<58} {'p50 ms':>9} {'p95 ms':>9} {'SQL p50':>9} {'SQL p95':>9}")
    for name, p50, p95, b50, b95 in rows:
        print(f"{name:<58} {p50:>9.1f} {p95:>9.1f} {b50:>9.2f} {b95:>9.2f}")
    print("(bulk row: first column is the preview, second the confirm, in ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=sized(1_000_000, 2_000))
    parser.add_argument("--requests", type=int, default=sized(200, 5))
    parser.add_argument("--audit-records", type=int, default=sized(10_000_000, 20_000))
    parser.add_argument("--changes", type=int, default=sized(10_000, 20),
                        help="applications changed since the delivered publication")
    parser.add_argument("--only", nargs="*", default=[],
                        help="time only the pages whose name holds one of these words")
    main_bench(parser.parse_args())
