"""The dashboard's tallies stay exact through every way the counted rows change — the
single change, the bulk change, a new-applicants import, a status-only import, a direct
SQL update, and deleting history and applications (retention) — on both engines, with the
same figures a full GROUP BY over the tables gives."""

from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select, text, update

from intranet.applications import bulk, services
from intranet.applications.models import Application, StatusChange
from intranet.applications.services import StatusUpdate
from intranet.dashboard import services as dashboard
from intranet.dashboard.models import Tally
from intranet.dashboard.tallies import DECIDED
from intranet.imports.apply import apply_import
from intranet.programmes.models import Programme
from intranet.statuses.services import load_catalogue
from lab.import_files import encoded, status_file
from tests.conftest import TEST_ACTOR
from tests.factories import make_applications, make_programme


def _day(value):
    return value if isinstance(value, str) else value.isoformat()


def recomputed(dbsession):
    """What the tallies must say, counted the slow way from the tables themselves."""
    exact = {}
    for programme_id, status, n in dbsession.execute(
            select(Application.programme_id, Application.status_code, func.count())
            .group_by(Application.programme_id, Application.status_code)):
        exact[(programme_id, "status", status)] = n
    for kind, column in (("received", Application.received_on), ("paid", Application.paid_on)):
        for programme_id, day, n in dbsession.execute(
                select(Application.programme_id, column, func.count()).where(column.is_not(None))
                .group_by(Application.programme_id, column)):
            exact[(programme_id, kind, _day(day))] = n
    # A decision counts on its Japan day: changed_at is naive UTC, Japan is UTC+9 all year.
    for programme_id, changed_at in dbsession.execute(
            select(Application.programme_id, StatusChange.changed_at).join(Application)
            .where(StatusChange.to_code == DECIDED)):
        key = (programme_id, "decided", (changed_at + timedelta(hours=9)).date().isoformat())
        exact[key] = exact.get(key, 0) + 1
    return exact


def tallied(dbsession):
    return {(t.programme_id, t.kind, t.bucket): t.n
            for t in dbsession.execute(select(Tally).where(Tally.n != 0)).scalars()}


def assert_exact(dbsession):
    dbsession.flush()
    assert tallied(dbsession) == recomputed(dbsession)


def test_tallies_follow_every_change_path(session_factory, dbsession):
    first = make_programme(session_factory)
    second = make_programme(session_factory, code="bukka-2024")
    ids = make_applications(session_factory, first, 6, status="reviewing")
    make_applications(session_factory, second, 2, status="approved", start=100,
                      received_on=date(2024, 5, 1))
    assert_exact(dbsession)
    assert tallied(dbsession)[(first, "status", "reviewing")] == 6
    catalogue = load_catalogue(dbsession)

    # The single change, twice, through to a decided and a paid day.
    application = dbsession.get(Application, ids[0])
    services.change_status(dbsession, TEST_ACTOR, None, catalogue, application,
                           application.version, StatusUpdate("approved"))
    assert_exact(dbsession)
    application = dbsession.get(Application, ids[0])
    services.change_status(dbsession, TEST_ACTOR, None, catalogue, application,
                           application.version,
                           StatusUpdate("payment_scheduled", scheduled_payment_on=date(2020, 7, 1)))
    assert_exact(dbsession)

    # The bulk change.
    update_ = StatusUpdate("approved")
    plan = bulk.plan(dbsession, catalogue, ids[1:4], update_)
    bulk.apply(dbsession, TEST_ACTOR, None, catalogue, ids[1:4], update_, plan.token)
    assert_exact(dbsession)
    assert tallied(dbsession)[(first, "status", "approved")] == 3

    # A new-applicants import and a status-only import.
    programme = dbsession.get(Programme, first)
    apply_import(dbsession, TEST_ACTOR, None, programme, catalogue, encoded(), "new.csv")
    assert_exact(dbsession)
    assert tallied(dbsession)[(first, "status", "received")] == 2  # one of PEOPLE is 審査中
    number = dbsession.get(Application, ids[0]).receipt_number  # payment_scheduled → paid
    apply_import(dbsession, TEST_ACTOR, None, programme, catalogue,
                 status_file([[number, catalogue["paid"].staff_label, "2020/07/20"]]),
                 "result.csv")
    assert_exact(dbsession)

    # Anything else that writes the table: a corrected date, a programme moved, in SQL.
    dbsession.execute(update(Application).where(Application.id == ids[4])
                      .values(received_on=date(2020, 5, 30), programme_id=second))
    dbsession.execute(update(Application).where(Application.id == ids[5])
                      .values(status_code="paid", paid_on=date(2020, 8, 1)))
    assert_exact(dbsession)

    # Retention: history first, then the applications.
    gone = ids[:2]
    dbsession.execute(delete(StatusChange).where(StatusChange.application_id.in_(gone)))
    dbsession.execute(delete(Application).where(Application.id.in_(gone)))
    assert_exact(dbsession)

    # The dashboard reads the tallies: the same figures as counting the rows.
    counts = dashboard.counts_by_programme(dbsession)
    assert counts[first] == {s: n for (p, k, s), n in recomputed(dbsession).items()
                             if p == first and k == "status"}
    progress = dashboard.cumulative_progress(dbsession, first)
    assert progress[-1].received == sum(counts[first].values())


def test_backfill_counts_rows_written_before_the_tallies_existed(session_factory, dbsession):
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 4, status="paid")
    dbsession.execute(update(Application).values(paid_on=date(2020, 9, 1)))
    dbsession.execute(delete(Tally))  # as a database upgraded from before the tallies
    from intranet.dashboard.tallies import backfill_sql
    dbsession.execute(text(backfill_sql(dbsession.bind.dialect.name)))
    assert_exact(dbsession)
    assert tallied(dbsession)[(programme, "paid", "2020-09-01")] == 4


def test_a_decision_counts_on_its_japan_day(session_factory, dbsession):
    """A decision at 08:30 in Tokyo (23:30 UTC the day before) is that morning's, on both
    engines, through the triggers and through a recount (migration 0029); 14:59:59.9996 UTC
    is still the same Japan day (SQLite rounds fractions: it must not cross midnight)."""
    programme = make_programme(session_factory)
    [application] = make_applications(session_factory, programme, 1, status="reviewing")
    for moment in (datetime(2020, 7, 1, 23, 30), datetime(2020, 7, 1, 14, 59, 59, 999600),
                   datetime(2020, 7, 1, 15, 0)):
        dbsession.add(StatusChange(application_id=application, from_code="reviewing",
                                   to_code=DECIDED, changed_at=moment, source="manual"))
    dbsession.flush()
    decided = {bucket: n for (p, kind, bucket), n in tallied(dbsession).items()
               if kind == "decided"}
    assert decided == {"2020-07-02": 2, "2020-07-01": 1}
    assert_exact(dbsession)
    dbsession.execute(delete(Tally))
    from intranet.dashboard.tallies import backfill_sql
    dbsession.execute(text(backfill_sql(dbsession.bind.dialect.name)))
    assert_exact(dbsession)
