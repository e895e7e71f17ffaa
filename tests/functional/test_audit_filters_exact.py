"""The audit screen's date and user filters: the bounded walk (search._numbers_within,
the (at, seq) and (actor, seq) indexes) lists exactly the records, order and pages the
plain conditions give — across a Japan day boundary, with a clock that went backwards,
for a day or a user without records — on the screen and in the CSV."""

import csv
import io
import re
from datetime import datetime, timedelta
from itertools import pairwise

import pytest
import transaction
from sqlalchemy import select

from intranet.audit import clock, writer
from intranet.audit.models import AuditClockStep, AuditRecord
from intranet.db import get_tm_session

# Midnight JST of 2026-03-02 is 15:00 UTC on 03-01.
MIDNIGHT_UTC = datetime(2026, 3, 1, 15, 0)


def _append_at(session_factory, monkeypatch, times, actor="clerk"):
    # The clock is set back at once: a module first imported while it is set (the app is
    # built after this, and intranet.security takes ``utcnow`` by name) would keep it for
    # every later test of the worker.
    with transaction.manager, monkeypatch.context() as clock:
        dbsession = get_tm_session(session_factory, transaction.manager)
        for at in times:
            clock.setattr(writer, "utcnow", lambda at=at: at)
            writer.append(dbsession, writer.Actor(name=actor, host="h", os_user="u"),
                          "test.action", f"at:{at.isoformat()}")


@pytest.fixture
def seeded(session_factory, monkeypatch, accounts):
    before = [MIDNIGHT_UTC - timedelta(seconds=s) for s in range(130, 0, -1)]  # 03-01 JST
    after = [MIDNIGHT_UTC + timedelta(seconds=s) for s in range(0, 120)]       # 03-02 JST
    _append_at(session_factory, monkeypatch, before[:-1])
    # The last microsecond of 03-01 JST, and midnight of 03-02 itself.
    _append_at(session_factory, monkeypatch,
               [MIDNIGHT_UTC - timedelta(microseconds=1), MIDNIGHT_UTC], actor="edge")
    _append_at(session_factory, monkeypatch, after[1:])
    # The clock went back: records of 03-01 written after those of 03-02, by another user.
    _append_at(session_factory, monkeypatch,
               [MIDNIGHT_UTC - timedelta(hours=3), MIDNIGHT_UTC - timedelta(minutes=1)],
               actor="late")
    _append_at(session_factory, monkeypatch, [MIDNIGHT_UTC + timedelta(days=1, hours=1)])


def _plain(session_factory, *where):
    """The records the conditions alone give, newest number first."""
    with session_factory() as dbsession:
        return dbsession.execute(select(AuditRecord.seq).where(*where)
                                 .order_by(AuditRecord.seq.desc())).scalars().all()


def _screen(app, params):
    """Every record number the screen lists, following its pages; and the page sizes."""
    seqs, sizes, url = [], [], "/audit"
    while url:
        page = app.get(url, params) if url == "/audit" else app.get(url)
        found = [int(n) for n in re.findall(r'aria-label="記録 (\d+) 番の詳細"', page.text)]
        seqs += found
        sizes.append(len(found))
        more = page.html.find("a", rel="next")
        url = more["href"] if more else None
    return seqs, sizes


def _csv(app, params):
    body = app.get("/audit.csv", params).body.decode("utf-8-sig")
    return [int(row[0]) for row in list(csv.reader(io.StringIO(body)))[1:]]


def _day(start):
    return (AuditRecord.at >= start, AuditRecord.at < start + timedelta(days=1))


def test_one_japan_day_is_exactly_the_plain_conditions(seeded, as_role, session_factory):
    app = as_role("security_officer")
    for day, start in (("2026-03-01", MIDNIGHT_UTC - timedelta(days=1)),
                       ("2026-03-02", MIDNIGHT_UTC)):
        expected = _plain(session_factory, *_day(start))
        seqs, sizes = _screen(app, {"from": day, "to": day})
        assert seqs == expected, day
        assert sizes == [min(100, len(expected) - i) for i in range(0, len(expected), 100)]
        assert _csv(app, {"from": day, "to": day}) == sorted(expected)
    first_day = _plain(session_factory, *_day(MIDNIGHT_UTC - timedelta(days=1)))
    second_day = _plain(session_factory, *_day(MIDNIGHT_UTC))
    # The boundary: the last microsecond of 03-01 JST on the first day, midnight on the next;
    # the records written after the clock went back belong to 03-01, and come first (newest).
    with session_factory() as dbsession:
        edge = dict(dbsession.execute(select(AuditRecord.at, AuditRecord.seq)
                                      .where(AuditRecord.actor == "edge")).all())
        late = dbsession.execute(select(AuditRecord.seq).where(AuditRecord.actor == "late")
                                 .order_by(AuditRecord.seq.desc())).scalars().all()
    assert edge[MIDNIGHT_UTC - timedelta(microseconds=1)] in first_day
    assert edge[MIDNIGHT_UTC] in second_day
    assert first_day[:2] == late and max(second_day) < late[-1]
    # Two days at once, and with the other filters.
    both = _screen(app, {"from": "2026-03-01", "to": "2026-03-02"})[0]
    assert both == _plain(session_factory, AuditRecord.at >= MIDNIGHT_UTC - timedelta(days=1),
                          AuditRecord.at < MIDNIGHT_UTC + timedelta(days=1))
    assert _screen(app, {"from": "2026-03-01", "to": "2026-03-01", "actor": "late"})[0] == late
    assert _screen(app, {"from": "2026-03-02", "to": "2026-03-02", "actor": "late"})[0] == []


def test_a_day_or_a_user_without_records(seeded, as_role):
    app = as_role("security_officer")
    for params in ({"from": "2026-02-01", "to": "2026-02-01"},
                   {"actor": "nobody-at-all"}):
        page = app.get("/audit", params)
        assert "該当する記録はありません" in page.text, params
        assert _csv(app, params) == []
    # An end before the start is said to be one (tests/functional/test_story.py), not an
    # empty result that reads like "nobody did anything".
    reversed_range = {"from": "2026-03-05", "to": "2026-03-04"}
    assert "より後になっています" in app.get("/audit", reversed_range, status=400).text
    app.get("/audit.csv", reversed_range, status=400)


def test_one_user_is_exactly_the_plain_condition(seeded, as_role, session_factory):
    app = as_role("security_officer")
    for actor in ("clerk", "edge", "late"):
        expected = _plain(session_factory, AuditRecord.actor == actor)
        seqs, sizes = _screen(app, {"actor": actor})
        assert seqs == expected and sizes[0] == min(100, len(expected)), actor
        assert _csv(app, {"actor": actor}) == sorted(expected)


def test_open_date_ranges_are_unchanged(seeded, as_role, session_factory):
    app = as_role("security_officer")
    assert _screen(app, {"from": "2026-03-02"})[0] == _plain(
        session_factory, AuditRecord.at >= MIDNIGHT_UTC)
    assert _screen(app, {"to": "2026-03-01"})[0] == _plain(
        session_factory, AuditRecord.at < MIDNIGHT_UTC)


def test_a_range_longer_than_a_month_is_the_plain_conditions_unbounded(seeded, as_role,
                                                                       session_factory):
    """Past a month the screen walks from the head as before (finding the bounds would read
    every index entry of the range); the records are the same either way."""
    app = as_role("security_officer")
    start, end = MIDNIGHT_UTC - timedelta(days=40), MIDNIGHT_UTC + timedelta(days=1)
    assert _screen(app, {"from": "2026-01-21", "to": "2026-03-02"})[0] == _plain(
        session_factory, AuditRecord.at >= start, AuditRecord.at < end)


def _steps(session_factory):
    with session_factory() as dbsession:
        return dbsession.execute(select(AuditClockStep.seq).order_by(AuditClockStep.seq)
                                 ).scalars().all()


def test_the_database_notes_exactly_the_records_dated_before_their_predecessor(
        seeded, session_factory):
    # The "late" records: the first is dated 3 hours before midnight, after records of
    # 03-02; the second a minute before midnight, later than the first: not a step. (The
    # first seeded record is one too: the accounts' records before it are dated today.)
    with session_factory() as dbsession:
        rows = dbsession.execute(select(AuditRecord.seq, AuditRecord.at)
                                 .order_by(AuditRecord.seq)).all()
        late = dbsession.execute(select(AuditRecord.seq).where(AuditRecord.actor == "late")
                                 .order_by(AuditRecord.seq)).scalars().first()
    expected = [seq for (_, before), (seq, at) in pairwise(rows) if at < before]
    assert expected == _steps(session_factory)
    assert late in expected and late + 1 not in expected
    with session_factory() as dbsession:
        assert not clock.steady(dbsession)


@pytest.fixture
def steady(session_factory, monkeypatch, accounts, as_role):
    """Days like the seeded ones but after every record already written (the template's,
    dated when it was made), and a clock that only moves on: records the screen writes
    meanwhile are dated after them. (``as_role``: the app is built before the clock is set.)
    Returns the first day's JST midnight in UTC."""
    now = writer.utcnow()
    midnight = datetime.combine((now + timedelta(hours=9)).date() + timedelta(days=2),
                                datetime.min.time()) - timedelta(hours=9)
    _append_at(session_factory, monkeypatch,
               [midnight - timedelta(seconds=s) for s in range(130, 0, -1)]
               + [midnight - timedelta(microseconds=1), midnight, midnight]
               + [midnight + timedelta(seconds=s) for s in range(1, 120)]
               + [midnight + timedelta(days=1, hours=1)])
    ticks = iter(range(1, 10**9))
    monkeypatch.setattr(writer, "utcnow", lambda: midnight + timedelta(days=3, seconds=next(ticks)))
    return midnight


def test_while_the_clock_never_went_back_every_range_is_exactly_the_plain_conditions(
        steady, as_role, session_factory):
    # Bounded by two look-ups in the (at, seq) index (clock.steady): days, two days, open
    # ranges, a range longer than a month, days without records, with another filter.
    midnight = steady
    with session_factory() as dbsession:
        assert clock.steady(dbsession) and _steps(session_factory) == []
    app = as_role("security_officer")

    def jst(days):
        return (midnight + timedelta(hours=9, days=days)).date().isoformat()

    cases = [
        ({"from": jst(-1), "to": jst(-1)}, _day(midnight - timedelta(days=1))),
        ({"from": jst(0), "to": jst(0)}, _day(midnight)),
        ({"from": jst(1), "to": jst(1)}, _day(midnight + timedelta(days=1))),
        ({"from": jst(-1), "to": jst(0)},
         (AuditRecord.at >= midnight - timedelta(days=1), AuditRecord.at < midnight
          + timedelta(days=1))),
        ({"from": jst(0)}, (AuditRecord.at >= midnight,)),
        ({"to": jst(-1)}, (AuditRecord.at < midnight,)),
        ({"from": jst(-40), "to": jst(0)},
         (AuditRecord.at >= midnight - timedelta(days=40), AuditRecord.at < midnight
          + timedelta(days=1))),
        ({"from": jst(-20), "to": jst(-20)}, _day(midnight - timedelta(days=20))),
        ({"from": jst(30)}, (AuditRecord.at >= midnight + timedelta(days=30),)),
        ({"to": jst(-400)}, (AuditRecord.at < midnight - timedelta(days=399),)),
        ({"from": jst(0), "to": jst(0), "actor": "clerk"},
         (*_day(midnight), AuditRecord.actor == "clerk")),
    ]
    for params, where in cases:
        # What the screen and the export write themselves (dated on) is left out.
        expected = _plain(session_factory, *where)
        assert _screen(app, params)[0] == expected, params
        written = _plain(session_factory)[0]
        assert [n for n in _csv(app, params) if n <= written] == sorted(
            n for n in _plain(session_factory, *where) if n <= written), params
    assert len(_plain(session_factory, *_day(midnight))) == 121       # midnight twice
    with session_factory() as dbsession:
        assert clock.steady(dbsession)        # the screen's own records kept it steady
    # A record dated before its predecessor is noted, and the bounds are read the slow way.
    _append_at(session_factory, pytest.MonkeyPatch(), [midnight - timedelta(minutes=5)],
               actor="late")
    assert len(_steps(session_factory)) == 1
    for params, where in cases:
        assert _screen(app, params)[0] == _plain(session_factory, *where), params


def test_revision_0025_notes_the_steps_already_in_the_chain(seeded, engine, session_factory):
    from intranet import migrations

    noted = _steps(session_factory)
    migrations.downgrade(engine, "0023")
    migrations.upgrade(engine)
    assert _steps(session_factory) == noted and len(noted) == 2



def test_records_inserted_by_hand_are_noted_too(session_factory, engine):
    # Not through the writer: several records in one statement, one dated back inside it,
    # and a gap filled afterwards by a record dated after the record following it.
    def row(seq, at):
        return {"seq": seq, "at": at, "actor": "hand", "actor_role": "", "os_user": "",
                "host": "", "action": "test.hand", "target": "", "details": "{}",
                "prev_hash": "", "hash": ""}

    t = MIDNIGHT_UTC + timedelta(days=400)
    with engine.begin() as connection:
        connection.execute(AuditRecord.__table__.insert(), [
            row(10_001, t), row(10_002, t + timedelta(seconds=2)), row(10_003, t),
            row(10_004, t + timedelta(seconds=5)), row(10_006, t + timedelta(seconds=6))])
    assert _steps(session_factory) == [10_003]
    with engine.begin() as connection:
        connection.execute(AuditRecord.__table__.insert(), [row(10_005, t + timedelta(seconds=9))])
    assert _steps(session_factory) == [10_003, 10_006]
