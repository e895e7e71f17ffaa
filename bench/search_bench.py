"""Search benchmark: name, kana and phone search over 1,000,000 applications on PostgreSQL.

Real HTTP through waitress (the list page a caller's name is typed into: the page of 50 and
its count), p50/p95 per kind of query, each beside its bare SQL (the LIKE on the stored
search key, the floor). Queries are typed as callers give them: full-width spaces, 異体字
(髙 for 高), hiragana for the kana, phone numbers with dashes. Run once with pg_trgm (the
migration's GIN index) and once without it (the documented fallback: a sequential scan).
Target (issue #14): p95 < 50 ms with pg_trgm.

    .venv/bin/python bench/search_bench.py [--applications 1000000] [--requests 200]
"""

import argparse
import random
import sys
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.intranet_bench import Client, percentiles, print_table, seeded_database, timed
from intranet import main
from intranet.applications.models import Application
from intranet.applications.search_key import query_pattern
from intranet.demo import GIVEN, SURNAMES
from tests.integration.servers import WaitressThread

_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}


def queries(rng, phones):
    """What callers give, by kind: (label, list of typed strings)."""
    full_names = [f"{s.replace('高', '髙')}　{g}" for s, _ in SURNAMES for g, _ in GIVEN]
    kana = [f"{sk}　{gk}".translate(_KATAKANA_TO_HIRAGANA) for _, sk in SURNAMES
            for _, gk in GIVEN]
    return [
        ("full name (全角空白, 異体字)", [rng.choice(full_names) for _ in range(50)]),
        ("surname only (most matches)", [s for s, _ in SURNAMES]),
        ("kana in hiragana", [rng.choice(kana) for _ in range(50)]),
        ("phone, whole number", [rng.choice(phones) for _ in range(50)]),
        ("phone, last 4 digits", [p[-4:] for p in rng.sample(phones, 50)]),
    ]


def run(args, engine, session_factory, url, label):
    rng = random.Random(14)
    with session_factory() as dbsession:
        phones = dbsession.execute(select(Application.phone).order_by(func.random())
                                   .limit(500)).scalars().all()
    app = main({}, **{"sqlalchemy.url": url, "session.secret": "b" * 40,
                      "session.secure_cookie": "false"})
    rows = []
    with WaitressThread(app) as server:
        client = Client(server.port)
        client.login("supervisor")
        for name, typed in queries(rng, phones):
            def page(typed=typed):
                status, body = client.request("GET", "/applications?" + urlencode(
                    {"name": rng.choice(typed)}))
                assert status == 200 and "件見つかりました" in body, status

            def bare(typed=typed):
                pattern = query_pattern(rng.choice(typed))
                with engine.connect() as conn:
                    conn.execute(text("SELECT id FROM applications WHERE search_key LIKE :p "
                                      "ORDER BY received_on DESC, id DESC LIMIT 51"),
                                 {"p": f"%{pattern}%"}).all()

            page()
            rows.append((f"{label}: {name}", *percentiles(timed(page, args.requests)),
                         *percentiles(timed(bare, args.requests))))
    return rows


def main_bench(args):
    with seeded_database(args.applications) as (url, engine, session_factory, _programme_id):
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_size_pretty(pg_relation_size("
                                     "'ix_applications_search_key'))")).scalar_one()
        print(f"trigram index on search_key: {size}")
        rows = run(args, engine, session_factory, url, "pg_trgm")
        with engine.begin() as conn:
            conn.execute(text("DROP INDEX ix_applications_search_key"))
        rows += run(args, engine, session_factory, url, "no index")
        print_table(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    main_bench(parser.parse_args())
