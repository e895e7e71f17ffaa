"""The builder's table from its last build (intranet.publications.incremental) is byte for
byte the table a full build makes, over a sequence of publications — statuses changed,
applications added and taken off, birth dates changed, a programme added, the lookup key
rotated — and a cache that cannot be trusted (altered, cut short, another version, readable
by others, its base rows altered in the database) is never used: the build is then a full
one, with the same bytes."""

import logging
import os
from datetime import UTC, date, datetime, timedelta

import pytest
import transaction
from sqlalchemy import text, update

from intranet.applications.models import Application
from intranet.db import get_tm_session
from intranet.publications import changes, content, incremental, services
from intranet.publications.build import table_of_publication
from intranet.publications.models import PUBLISHED, Publication
from intranet.users.services import find_user
from tests.factories import make_applications, make_programme
from tests.integration.test_publish import JOB
from transfer import build_cache, version
from transfer.keys import generate_lookup_key
from transfer.verify import Origin

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
INCREMENTAL, FULL = "built from the last build", "built in full"
SAME = "its table was made before"     # the same content digest as the last table


@pytest.fixture
def secret(tmp_path):
    return generate_lookup_key(tmp_path / "lookup.key")


@pytest.fixture
def cache(tmp_path):
    path = tmp_path / "built"
    path.mkdir(mode=0o700)
    return path


def approved(session_factory):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        staff, supervisor = find_user(dbsession, "staff"), find_user(dbsession, "supervisor")
        publication = services.request_publication(dbsession, JOB, staff, "test", True)
        services.decide(dbsession, JOB, supervisor, publication, True, True,
                        digest=publication.content_digest)
        return publication.id


def build(session_factory, publication_id, secret, cache):
    with session_factory() as dbsession:
        table = table_of_publication(
            dbsession, dbsession.get(Publication, publication_id), lookup_secret=secret,
            origin=Origin("142158", "prod"), sequence=publication_id, now=NOW,
            valid_for=timedelta(hours=72), cache=cache)
        dbsession.commit()
        return table


def same_as_full(session_factory, secret, cache, caplog, expected_way, delivered=False,
                 spoil_noted=None):
    """Request, approve, build from the cache and in full: the same table, made the
    expected way. ``delivered``: the publication is then recorded as delivered (the next
    request notes its changes against it); ``spoil_noted``: run on the noted changes
    before the build."""
    publication_id = approved(session_factory)
    if spoil_noted:
        spoil_noted(publication_id)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        fast = build(session_factory, publication_id, secret, cache)
    way = next((way for way in (INCREMENTAL, SAME) if any(
        way in r.getMessage() for r in caplog.records)), FULL)
    full = build(session_factory, publication_id, secret, None)
    assert (fast.body, fast.entry_count, fast.skipped) == (full.body, full.entry_count,
                                                           full.skipped)
    assert fast.header == full.header
    assert way == expected_way, [r.getMessage() for r in caplog.records]
    with session_factory() as dbsession:
        if spoil_noted:
            return caplog.records
        # What the approver is shown, read through the noted keys when there are some,
        # is what comparing the rows whole gives.
        def shown(found):
            return [(p.code, p.rows()) for p in found.programmes], found.totals()

        assert shown(changes.of_request(dbsession, publication_id)) == shown(
            changes.summarise(dbsession, changes.frozen(publication_id)))
    if delivered:
        with transaction.manager:
            dbsession = get_tm_session(session_factory, transaction.manager)
            dbsession.get(Publication, publication_id).state = PUBLISHED
            dbsession.get(Publication, publication_id).finished_at = datetime.now()
    return caplog.records


def change(engine, statement, **values):
    with engine.begin() as connection:
        connection.execute(text(statement), values)


def set_status(engine, ids, **values):
    with engine.begin() as connection:
        connection.execute(update(Application).where(Application.id.in_(ids)).values(**values))


def take_off(engine, ids):
    for table, column in (("status_changes", "application_id"), ("applications", "id")):
        with engine.begin() as connection:
            connection.execute(text(f"DELETE FROM {table} WHERE {column} IN "  # noqa: S608
                                    f"({', '.join(str(int(i)) for i in ids)})"))


def test_a_sequence_of_publications_builds_as_a_full_build_does(
        session_factory, accounts, engine, secret, cache, caplog, monkeypatch):
    # The frozen rows read seven at a time: changes fall at the chunks' edges and inside.
    monkeypatch.setattr(content, "CHUNK", 7)
    plain = make_programme(session_factory)
    birth = make_programme(session_factory, "bukka-2024", needs_birth_date=True)
    ids = make_applications(session_factory, plain, 150)
    others = make_applications(session_factory, birth, 130, start=5_000)
    set_status(engine, others[::7], birth_date=None)              # left out: no birth date
    same_as_full(session_factory, secret, cache, caplog, FULL)     # no cache yet
    assert (cache / "cache" / "last-build.bin").exists()
    assert os.stat(cache / "cache").st_mode & 0o777 == 0o700
    assert os.stat(cache / "cache" / "last-build.bin").st_mode & 0o777 == 0o600

    set_status(engine, ids[:3], status_code="paid", paid_on=date(2020, 8, 3))
    set_status(engine, ids[3:5], status_code="payment_scheduled",
               scheduled_payment_on=date(2020, 8, 10))
    same_as_full(session_factory, secret, cache, caplog, INCREMENTAL)

    added = make_applications(session_factory, plain, 4, start=900)
    set_status(engine, added[:1], receipt_number_normalised="AB00000900")   # a letter
    same_as_full(session_factory, secret, cache, caplog, INCREMENTAL)

    take_off(engine, [ids[0], ids[10], added[0], *others[1:3]])   # the letter goes too
    set_status(engine, others[3:5], birth_date=date(1990, 2, 3))   # another lookup key
    set_status(engine, others[7:8], birth_date=date(1991, 1, 1))   # no longer left out
    same_as_full(session_factory, secret, cache, caplog, INCREMENTAL)

    same_as_full(session_factory, secret, cache, caplog, SAME)   # nothing changed: no read

    third = make_programme(session_factory, "third")                      # the wording changes
    make_applications(session_factory, third, 3, start=9_000)
    same_as_full(session_factory, secret, cache, caplog, FULL)
    set_status(engine, ids[30:31], status_code="paid", paid_on=date(2020, 8, 4))
    same_as_full(session_factory, secret, cache, caplog, INCREMENTAL)

    rotated = generate_lookup_key(cache.parent / "rotated.key")
    set_status(engine, ids[20:22], status_code="paid", paid_on=date(2020, 8, 4))
    same_as_full(session_factory, rotated, cache, caplog, FULL)           # another key
    set_status(engine, ids[22:23], status_code="paid", paid_on=date(2020, 8, 4))
    same_as_full(session_factory, rotated, cache, caplog, INCREMENTAL)


def cached(session_factory, engine, secret, cache, caplog):
    plain = make_programme(session_factory)
    ids = make_applications(session_factory, plain, 120)
    same_as_full(session_factory, secret, cache, caplog, FULL)
    set_status(engine, ids[:2], status_code="paid", paid_on=date(2020, 8, 3))
    return cache / "cache" / "last-build.bin"


def flip_a_bit(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("spoil", [
    flip_a_bit,
    lambda path: path.write_bytes(path.read_bytes()[:-100]),
    lambda path: path.write_bytes(path.read_bytes()[:10]),
    lambda path: path.write_bytes(b""),
    lambda path: path.chmod(0o640),
], ids=["altered", "cut", "cut-to-nothing", "empty", "readable-by-group"])
def test_a_cache_that_cannot_be_trusted_is_ignored(session_factory, accounts, engine, secret,
                                                    cache, caplog, spoil):
    spoil(cached(session_factory, engine, secret, cache, caplog))
    same_as_full(session_factory, secret, cache, caplog, FULL)
    set_status(engine, [3], status_code="paid", paid_on=date(2020, 8, 5))
    same_as_full(session_factory, secret, cache, caplog, INCREMENTAL)    # a sound one again


def test_a_cache_made_by_another_version_is_ignored(session_factory, accounts, engine, secret,
                                                    cache, caplog, monkeypatch):
    cached(session_factory, engine, secret, cache, caplog)
    monkeypatch.setattr(version, "current", lambda: "0.0.9+gother")
    same_as_full(session_factory, secret, cache, caplog, FULL)


def test_base_rows_altered_in_the_database_are_caught(session_factory, accounts, engine,
                                                      secret, cache, caplog):
    """The difference comes from the database; a base row edited after its build would
    hide a change from it. The rebuilt base digest does not match: a full build."""
    cached(session_factory, engine, secret, cache, caplog)
    last = build_cache.load(cache, secret)
    change(engine, "UPDATE publication_rows SET status_code = 'paid', paid_on = '2020-08-03' "
           "WHERE publication_id = :id AND receipt = '00000001'", id=last.publication)
    same_as_full(session_factory, secret, cache, caplog, FULL)


def test_the_base_publication_gone_means_a_full_build(session_factory, accounts, engine,
                                                      secret, cache, caplog):
    cached(session_factory, engine, secret, cache, caplog)
    last = build_cache.load(cache, secret)
    change(engine, "DELETE FROM publication_rows WHERE publication_id = :id",
           id=last.publication)
    same_as_full(session_factory, secret, cache, caplog, FULL)


def noted_way(records):
    return next(r.getMessage() for r in records if INCREMENTAL in r.getMessage())


def test_the_changes_a_request_noted_build_as_a_full_build_does(
        session_factory, accounts, engine, secret, cache, caplog):
    """Delivered publications: each request notes what it changes against the last
    delivered one, and the builder reads only those rows."""
    plain = make_programme(session_factory)
    birth = make_programme(session_factory, "bukka-2024", needs_birth_date=True)
    ids = make_applications(session_factory, plain, 150)
    others = make_applications(session_factory, birth, 130, start=5_000)
    same_as_full(session_factory, secret, cache, caplog, FULL, delivered=True)
    set_status(engine, ids[:3], status_code="paid", paid_on=date(2020, 8, 3))
    added = make_applications(session_factory, plain, 2, start=900)
    take_off(engine, [ids[40], others[5]])
    set_status(engine, others[6:8], birth_date=date(1990, 2, 3))
    records = same_as_full(session_factory, secret, cache, caplog, INCREMENTAL, delivered=True)
    assert incremental.NOTED in noted_way(records) and "9 rows changed" in noted_way(records)
    set_status(engine, added, status_code="paid", paid_on=date(2020, 8, 3))
    records = same_as_full(session_factory, secret, cache, caplog, INCREMENTAL, delivered=True)
    assert incremental.NOTED in noted_way(records)


def test_a_noted_change_left_out_is_caught(session_factory, accounts, engine, secret, cache,
                                          caplog):
    """The noted keys are the database's word: one deleted from the list would hide a
    change. The rebuilt base digest does not match: a full build, the same bytes."""
    plain = make_programme(session_factory)
    ids = make_applications(session_factory, plain, 120)
    same_as_full(session_factory, secret, cache, caplog, FULL, delivered=True)
    set_status(engine, ids[:2], status_code="paid", paid_on=date(2020, 8, 3))

    def drop_one(publication_id):
        change(engine, "DELETE FROM publication_changes WHERE publication_id = :id AND "
               "receipt = '00000001'", id=publication_id)

    same_as_full(session_factory, secret, cache, caplog, FULL, spoil_noted=drop_one)


def test_postgresql_reads_the_older_rows_by_the_index_before_any_statistics(
        session_factory, accounts):
    """The older publication was frozen a moment ago (or its rows grew in this transaction):
    no statistics know it. Its noted rows are read one probe of the primary key each, not
    by a pass over the publication's rows (what an IN list was planned as: 20,003 rows
    fetched here). Counted by the transaction's own reads of the table
    (pg_stat_xact_user_tables)."""
    if session_factory.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite's planner takes an indexed IN list by the index")
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 3)
    publication_id = approved(session_factory)
    scans = text("SELECT seq_tup_read, idx_tup_fetch FROM pg_stat_xact_user_tables "
                 "WHERE relname = 'publication_rows'")
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        code = dbsession.execute(text("SELECT programme_code FROM publication_rows "
                                      "WHERE publication_id = :p LIMIT 1"),
                                 {"p": publication_id}).scalar_one()
        dbsession.execute(text(
            "INSERT INTO publication_rows (publication_id, programme_code, receipt, status_code)"
            " SELECT :p, :c, 'R' || n, 'received' FROM generate_series(1, 20000) AS n"),
            {"p": publication_id, "c": code})
        assert not dbsession.execute(text(
            "SELECT count(*) FROM pg_stats WHERE tablename = 'publication_rows'")).scalar_one()
        seq_before, index_before = dbsession.execute(scans).one()
        rows = incremental._older_rows(dbsession, publication_id, code,
                                       [f"R{n}" for n in range(1, 4001, 2)] + ["none"])
        seq_after, index_after = dbsession.execute(scans).one()
        assert {row[:2] for row in rows} == {(code, f"R{n}") for n in range(1, 4001, 2)}
        # Each key's row fetched by the index (2,000), not the publication's 20,000 read.
        assert seq_after == seq_before and 2000 <= index_after - index_before <= 2001
        # One change (approval → visible): one row fetched.
        assert [row[1] for row in incremental._older_rows(dbsession, publication_id, code,
                                                          ["R7"])] == ["R7"]
        assert dbsession.execute(scans).one() == (seq_after, index_after + 1)
        transaction.abort()
