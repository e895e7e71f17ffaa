"""The relief figure's openings per day, counted by the database (intranet.usage.openings),
are exactly what reading the audit trail gives (the figure's former way, kept here as the
definition): across Japan's day boundaries (the last microsecond before midnight JST, and
midnight itself), other actions on the same days, a clock set back, several records in one
INSERT, the retention run pruning part of a day and whole days, and the migration's
backfill of a trail already written — on SQLite and PostgreSQL."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import transaction
from sqlalchemy import select, text

from intranet import migrations
from intranet.audit import writer
from intranet.audit.models import AuditRecord
from intranet.audit.retention import prune
from intranet.db import get_tm_session
from intranet.usage.figures import INQUIRY_VIEW, relief_days
from intranet.web import JST
from tests.conftest import TEST_ACTOR
from transfer import checkpoints
from transfer.keys import generate_signing_key

# After every record the test template holds (dated when it was made, i.e. now), so the
# dates rise and the retention run (its cutoff 25 days before) can cut the chain's start:
# a midnight JST, in naive UTC, 60 days from the day the suite runs. A fixed date went by.
MIDNIGHT = datetime.combine((datetime.now(UTC) + timedelta(hours=9)).date() + timedelta(days=60),
                            datetime.min.time()) - timedelta(hours=9)
DESK = writer.Actor(name="desk", role="inquiry", host="h", os_user="u")


def plain_views(session_factory, first: date, last: date) -> Counter:
    """The figure's definition: every opening record of those Japan days, read one by one."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=JST).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(),
                           tzinfo=JST).astimezone(UTC)
    with session_factory() as dbsession:
        moments = dbsession.execute(select(AuditRecord.at).where(
            AuditRecord.action == INQUIRY_VIEW, AuditRecord.at >= start.replace(tzinfo=None),
            AuditRecord.at < end.replace(tzinfo=None))).scalars()
        return Counter(m.replace(tzinfo=UTC).astimezone(JST).date() for m in moments)


def figure(session_factory, today: date, days: int = 31) -> dict:
    with session_factory() as dbsession:
        return {d.day: d.views for d in relief_days(dbsession, today, days) if d.views}


def assert_exact(session_factory):
    """Every window the figure can show around the test's days, and one long one."""
    for offset in range(-45, 5, 3):
        today = (MIDNIGHT + timedelta(hours=9, days=offset)).date()
        first = today - timedelta(days=30)
        assert figure(session_factory, today) == dict(plain_views(
            session_factory, first, today)), today
    today = (MIDNIGHT + timedelta(days=5)).date()
    assert figure(session_factory, today, 400) == dict(plain_views(
        session_factory, today - timedelta(days=399), today))


def append_at(session_factory, monkeypatch, entries):
    """(time, action) pairs, each written by the writer at that time."""
    with transaction.manager, monkeypatch.context() as clock:
        dbsession = get_tm_session(session_factory, transaction.manager)
        for at, action in entries:
            clock.setattr(writer, "utcnow", lambda at=at: at)
            writer.append(dbsession, DESK, action, "application:1")


def the_days(session_factory, monkeypatch):
    """Forty days of openings and other actions, thicker around each midnight JST."""
    entries = []
    for day in range(-40, 2):
        midnight = MIDNIGHT + timedelta(days=day)
        for at in (midnight - timedelta(hours=10), midnight - timedelta(microseconds=1),
                   midnight, midnight + timedelta(seconds=1), midnight + timedelta(hours=8, minutes=59)):
            entries += [(at, INQUIRY_VIEW)] * (1 + day % 3) + [(at, "application.search")]
        entries.append((midnight + timedelta(hours=3), "login.success"))
    append_at(session_factory, monkeypatch, entries)


def test_the_counts_are_the_trails_across_japan_days_and_other_actions(
        session_factory, monkeypatch, accounts):
    the_days(session_factory, monkeypatch)
    assert_exact(session_factory)
    # Not a trivial agreement: the days differ, and the microsecond before midnight JST
    # counts on the day before, midnight itself on the day.
    day = (MIDNIGHT + timedelta(hours=9)).date()
    before = figure(session_factory, day)
    assert len(set(before.values())) > 2
    append_at(session_factory, monkeypatch, [(MIDNIGHT - timedelta(microseconds=1), INQUIRY_VIEW),
                                             (MIDNIGHT, INQUIRY_VIEW), (MIDNIGHT, INQUIRY_VIEW)])
    after = figure(session_factory, day)
    assert after[day - timedelta(days=1)] == before[day - timedelta(days=1)] + 1
    assert after[day] == before[day] + 2
    # The clock set back: an opening dated days ago, written now, counts on its own day.
    append_at(session_factory, monkeypatch, [(MIDNIGHT - timedelta(days=20, hours=1), INQUIRY_VIEW),
                                             (MIDNIGHT + timedelta(days=1), INQUIRY_VIEW)])
    assert_exact(session_factory)


def test_several_records_in_one_insert_count_each(session_factory, monkeypatch, accounts):
    """A hand-written INSERT of many records at once (one statement: one grouped upsert on
    PostgreSQL), spread over days and actions."""
    the_days(session_factory, monkeypatch)
    day = (MIDNIGHT + timedelta(days=5, hours=9)).date()
    before = figure(session_factory, day, 60)
    with session_factory() as dbsession, dbsession.begin():
        top = dbsession.execute(text("SELECT max(seq) FROM audit_records")).scalar_one()
        dbsession.execute(text(
            "INSERT INTO audit_records (seq, at, actor, actor_role, os_user, host, action, "
            "target, details, prev_hash, hash) SELECT seq + :top, at, actor, actor_role, "
            "os_user, host, action, target, details, prev_hash, hash FROM audit_records "
            "WHERE actor = 'desk'"), {"top": top})
    assert_exact(session_factory)
    assert figure(session_factory, day, 60) == {d: 2 * n for d, n in before.items()}


def test_the_retention_run_takes_its_records_away(session_factory, monkeypatch, accounts,
                                                   tmp_path):
    """Pruned openings leave the figure as they leave the trail: a day cut in the middle
    shows what is left of it, a day cut whole shows none — the figure is what the trail
    holds (retention keeps five years, far beyond the 31 days shown)."""
    the_days(session_factory, monkeypatch)
    before = figure(session_factory, (MIDNIGHT + timedelta(hours=9)).date())
    # Cut in the afternoon (JST) of the 25th day back: everything before it goes.
    cutoff = MIDNIGHT - timedelta(days=25) + timedelta(hours=6)
    with session_factory() as dbsession:
        last, last_hash, at = dbsession.execute(
            select(AuditRecord.seq, AuditRecord.hash, AuditRecord.at)
            .where(AuditRecord.at < cutoff).order_by(AuditRecord.seq.desc()).limit(1)).one()
    key = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.pub")
    signed = [checkpoints.sign(last, last_hash, at, key)]
    now = MIDNIGHT + timedelta(days=2)
    monkeypatch.setattr(writer, "utcnow", lambda: now)
    with transaction.manager:
        removed = prune(get_tm_session(session_factory, transaction.manager), TEST_ACTOR,
                        (now - cutoff).days, tmp_path / "archive.jsonl", signed)
    assert removed == last
    assert_exact(session_factory)
    cut_day = (cutoff + timedelta(hours=9)).date()
    assert 0 < figure(session_factory, cut_day).get(cut_day, 0) < before[cut_day]
    assert cut_day - timedelta(days=1) not in figure(session_factory, cut_day)
    assert figure(session_factory, cut_day - timedelta(days=2)) == {}


def test_the_migration_counts_a_trail_already_written(session_factory, engine, monkeypatch,
                                                      accounts):
    the_days(session_factory, monkeypatch)
    migrations.downgrade(engine, "0026")
    append_at(session_factory, monkeypatch, [(MIDNIGHT + timedelta(days=2), INQUIRY_VIEW)])
    migrations.upgrade(engine)
    assert_exact(session_factory)
    day = (MIDNIGHT + timedelta(days=2, hours=9)).date()
    assert figure(session_factory, day)[day] == 1
