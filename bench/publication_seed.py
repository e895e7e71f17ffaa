"""A million applications for the publication benchmark: generated inside PostgreSQL, once,
and kept as a stopped cluster's data directory that every later run copies.

The rows have the demo's shape (intranet.demo: its names, districts, receipt-number
families, status paths and their weights), drawn with PostgreSQL's seeded ``random()`` in
one INSERT … SELECT over ``generate_series`` — no row passes through Python, so a million
take seconds instead of the minutes the Python generator + COPY takes. Histories are left
out: nothing the publication reads looks at them.

The search keys are the app's own: ``search_key()`` computes them (with_search_keys).

The cache (build/bench/cache/publication-…) is named after the row count, the PostgreSQL
major version and a hash of the code it was made from (intranet/, transfer/, this file):
one made by other code is never used, and is removed (bench.harness.cache_dir).
"""

import shutil
import subprocess
import time
from pathlib import Path

import transaction
from sqlalchemy import text

from bench.harness import cache_dir
from intranet import migrations
from intranet.applications.search_key import search_key
from intranet.db import get_engine, get_session_factory, get_tm_session
from intranet.demo import DISTRICTS, GIVEN, PATHS, SURNAMES
from intranet.programmes.models import Programme
from intranet.users.services import add_user
from lab.databases import PostgresCluster, postgres_bindir

# What the cached data depends on: a change in any of these makes it again.
DEPENDS_ON = ("intranet", "transfer", "bench/publication_seed.py", "lab/databases.py")
PROGRAMME_CODE = "tokubetsu-2020"

# The columns generated; search_key is the app's own, computed afterwards (with_search_keys).
COLUMNS = ("id, programme_id, receipt_number, receipt_number_normalised, name, kana, birth_date, "
           "address, phone, route, received_on, status_code, scheduled_payment_on, paid_on, "
           "deficiency_reason, notes, updated_at, version")
# One row per application; every random draw is made once per row in the inner SELECT. The
# rows go to a bare staging table first (no index, no trigger).
GENERATE = """
WITH demo AS (
    SELECT CAST(:names AS text[]) AS names, CAST(:kanas AS text[]) AS kanas,
           CAST(:districts AS text[]) AS districts,
           CAST(:thresholds AS float8[]) AS thresholds, CAST(:finals AS text[]) AS finals,
           CAST(:lengths AS int[]) AS lengths, CAST(:scheduled AS int[]) AS scheduled,
           CAST(:paid AS bool[]) AS paid, CAST(:deficient AS bool[]) AS deficient
)
INSERT INTO bench_generated (""" + COLUMNS + """)
SELECT n, :programme,
       CASE WHEN online OR NOT dash THEN number
            ELSE substr(number, 1, 4) || '-' || substr(number, 5) END,
       number, names[who], kanas[who], DATE '1930-01-01' + birth, address, phone,
       CASE WHEN online THEN 'online' WHEN route < 2 THEN 'postal' ELSE 'push' END,
       received, finals[path],
       CASE WHEN scheduled[path] > 0 THEN received + 7 * scheduled[path] + 7 END,
       CASE WHEN paid[path] THEN received + 7 * scheduled[path] + 7 END,
       CASE WHEN deficient[path] THEN '本人確認書類の写しが添付されていません' ELSE '' END,
       '', received + interval '9 hours' + 7 * (lengths[path] - 1) * interval '1 day',
       lengths[path]
FROM demo, LATERAL (
    SELECT n, online, dash, route, who, birth, path, number, received,
           districts[district] || block || '丁目' || lot || '番' || house || '号' AS address,
           '042-' || exchange || '-' || lpad(line::text, 4, '0') AS phone
    FROM (
        SELECT n, random() < 0.45 AS online, random() < 0.5 AS dash,
               floor(random() * 3)::int AS route,
               1 + floor(random() * :people)::int AS who,
               floor(random() * 33000)::int AS birth,
               width_bucket(random() * 100, thresholds) AS path,
               DATE '2020-05-11' + floor(least(random(), random()) * 90)::int AS received,
               1 + floor(random() * :district_count)::int AS district,
               1 + floor(random() * 5)::int AS block, 1 + floor(random() * 30)::int AS lot,
               1 + floor(random() * 20)::int AS house,
               700 + floor(random() * 100)::int AS exchange,
               floor(random() * 10000)::int AS line
        FROM generate_series(1, :count) AS n
    ) drawn
    CROSS JOIN LATERAL (SELECT CASE WHEN online THEN CAST(:programme AS text) || lpad(n::text, 14, '0')
        ELSE lpad(((CAST(:programme AS bigint) * 10000000 + n) % 100000000)::text, 8, '0') END
        AS number) numbered
) generated
"""  # noqa: S608 (the column list is a constant)


def seeded_data(count: int) -> Path:
    """The cached data directory holding ``count`` applications, made by this code if missing."""
    bindir = postgres_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL's initdb and pg_ctl are needed (make bench-deps)")
    data = cache_dir("publication", f"pg{bindir.parent.name}-{count}", DEPENDS_ON) / "data"
    if (data / "PG_VERSION").exists():
        return data
    cluster = PostgresCluster(bindir).start()
    try:
        cluster.admin("CREATE DATABASE bench")
        engine = get_engine({"sqlalchemy.url": cluster.url("bench")})
        started = time.perf_counter()
        generate(engine, count)
        print(f"generated {count:,} applications inside PostgreSQL in "
              f"{time.perf_counter() - started:.1f} s (kept in {data} for the next runs)")
        engine.dispose()
    except BaseException:
        cluster.stop()
        raise
    cluster._run("pg_ctl", "-D", str(cluster.data), "-m", "fast", "-w", "stop")
    data.parent.mkdir(parents=True, exist_ok=True)
    partial = data.with_name(data.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(["cp", "-a", str(cluster.data), str(partial)], check=True)
    partial.rename(data)
    shutil.rmtree(cluster.root, ignore_errors=True)
    return data


def generate(engine, count: int) -> None:
    from bench.intranet_bench import ACTOR, PASSWORD

    session_factory = get_session_factory(engine)
    migrations.initialise(engine, session_factory, ACTOR)
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        programme = Programme(code=PROGRAMME_CODE, name="特別定額給付金", name_en="Special")
        dbsession.add(programme)
        add_user(dbsession, ACTOR, "supervisor", "bench", "supervisor", PASSWORD)
        add_user(dbsession, ACTOR, "requester", "bench", "staff", PASSWORD)
        dbsession.flush()
        programme_id = programme.id
    people = [(f"{s}　{g}", f"{sk}　{gk}") for s, sk in SURNAMES for g, gk in GIVEN]
    weights, paths = [w for w, _ in PATHS], [p for _, p in PATHS]
    thresholds = [sum(weights[:i]) * 100 / sum(weights) for i in range(1, len(weights))]
    with engine.begin() as connection:
        connection.execute(text(
            f"CREATE UNLOGGED TABLE bench_generated AS SELECT {COLUMNS} "  # noqa: S608
            "FROM applications WITH NO DATA"))
        connection.execute(text("SELECT setseed(0.16)"))
        connection.execute(text(GENERATE), {
            "programme": programme_id, "count": count, "people": len(people),
            "names": [name for name, _ in people], "kanas": [kana for _, kana in people],
            "districts": DISTRICTS, "district_count": len(DISTRICTS),
            "thresholds": [0.0, *thresholds],
            "finals": [p[-1] for p in paths], "lengths": [len(p) for p in paths],
            "scheduled": [p.index("payment_scheduled") if "payment_scheduled" in p else 0
                          for p in paths],
            "paid": [p[-1] == "paid" for p in paths],
            "deficient": ["deficient" in p for p in paths]})
        with_search_keys(connection)
        connection.execute(text("SELECT setval(pg_get_serial_sequence('applications', 'id'), "
                                "(SELECT max(id) FROM applications))"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
        connection.execute(text("CHECKPOINT"))


def with_search_keys(connection, chunk=50_000) -> None:
    """The staged rows into ``applications``, each with the key the app itself computes
    (``search_key()``, whatever its encoding): keys computed in chunks and COPYed beside the
    rows, then one INSERT … SELECT, so the trigram index is filled in one statement."""
    raw = connection.connection.driver_connection
    connection.execute(text("ALTER TABLE bench_generated ADD PRIMARY KEY (id)"))
    connection.execute(text("CREATE UNLOGGED TABLE bench_keys (id bigint, search_key text)"))
    last = 0
    while rows := connection.execute(text(
            "SELECT id, name, kana, phone FROM bench_generated WHERE id > :last ORDER BY id "
            "LIMIT :chunk"), {"last": last, "chunk": chunk}).all():
        with raw.cursor() as cursor, cursor.copy("COPY bench_keys (id, search_key) FROM STDIN") \
                as copy:
            for row in rows:
                copy.write_row((row.id, search_key(row.name, row.kana, row.phone)))
        last = rows[-1].id
    connection.execute(text(
        f"INSERT INTO applications ({COLUMNS}, search_key) "  # noqa: S608 (constants)
        f"SELECT {', '.join(f'g.{c.strip()}' for c in COLUMNS.split(','))}, k.search_key "
        "FROM bench_generated AS g JOIN bench_keys AS k USING (id)"))
    connection.execute(text("DROP TABLE bench_generated, bench_keys"))


class CachedCluster(PostgresCluster):
    """A throwaway cluster started on a copy of a cached data directory (the copy is the
    run's own: what the benchmark publishes never reaches the cache)."""

    def __init__(self, seeded: Path):
        super().__init__(postgres_bindir())
        self.seeded = seeded

    def _run(self, *args):
        if args[0] == "initdb":   # instead of a new cluster: the seeded one, copied
            subprocess.run(["cp", "-a", str(self.seeded), str(self.data)], check=True)
            return
        super()._run(*args)
