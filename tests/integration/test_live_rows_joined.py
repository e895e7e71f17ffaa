"""The rows a request freezes (``changes.live_rows``: programme and status flags by join)
are the rows as first defined — each flag read by a scalar subquery per application — on
both engines, for every kind of row: programmes with and without 生年月日, a programme whose
lookup closed, every status of the catalogue (payment dates, resident action), deficiency
kinds set and not, dates set and not."""

from datetime import date, datetime

from sqlalchemy import case, null, select, update

from intranet.applications.models import Application
from intranet.programmes import lifecycle
from intranet.programmes.models import Programme
from intranet.publications import changes
from intranet.statuses.models import Status
from tests.factories import make_applications, make_programme


def defined_rows():
    """live_rows as it was written before the joins: the reference."""
    def of_status(flag):
        return select(flag).where(Status.code == Application.status_code).scalar_subquery()

    needs_birth = select(Programme.needs_birth_date).where(
        Programme.id == Application.programme_id).scalar_subquery()
    needs_action = of_status(Status.needs_resident_action)
    programme_code = select(Programme.code).where(
        Programme.id == Application.programme_id).scalar_subquery()
    values = (programme_code, Application.receipt_number_normalised,
              case((needs_birth, Application.birth_date), else_=None),
              Application.status_code,
              case((of_status(Status.needs_scheduled_payment_date),
                    Application.scheduled_payment_on), else_=None),
              case((of_status(Status.needs_paid_date), Application.paid_on), else_=None),
              case((needs_action & (Application.deficiency_kinds != 0),
                    Application.deficiency_kinds), else_=null()),
              case((needs_action, Application.documents_sent_on), else_=None),
              case((needs_action, Application.return_by), else_=None))
    return (select(*(value.label(name) for value, name in zip(values, changes.COLUMNS,
                                                               strict=True)))
            .where(Application.programme_id.in_(lifecycle.still_looked_up())))


def test_the_joined_rows_are_the_defined_rows(session_factory):
    with session_factory() as s:
        statuses = s.execute(select(Status.code)).scalars().all()
    programmes = [make_programme(session_factory, code="plain"),
                  make_programme(session_factory, code="birth", needs_birth_date=True),
                  make_programme(session_factory, code="closed",
                                 lookup_closed_at=datetime(2026, 1, 1))]
    start = 1
    for programme in programmes:
        for status in statuses:
            ids = make_applications(session_factory, programme, 3, status=status, start=start)
            start += 3
            with session_factory() as s, s.begin():
                # One with every date and kinds, one with kinds 0 and no dates, one bare.
                s.execute(update(Application).where(Application.id == ids[0]).values(
                    scheduled_payment_on=date(2026, 5, 1), paid_on=date(2026, 5, 2),
                    deficiency_kinds=5, documents_sent_on=date(2026, 4, 1),
                    return_by=date(2026, 4, 30)))
                s.execute(update(Application).where(Application.id == ids[1]).values(
                    deficiency_kinds=0, birth_date=date(1950, 2, 3)))
    with session_factory() as s:
        joined = sorted(s.execute(changes.live_rows()).all(), key=repr)
        defined = sorted(s.execute(defined_rows()).all(), key=repr)
    assert [tuple(r) for r in joined] == [tuple(r) for r in defined]
    assert len(joined) == 2 * 3 * len(statuses)            # the closed programme's left out
    assert {r.programme_code for r in joined} == {"plain", "birth"}
    # Every flag took both values somewhere: the comparison covered each branch.
    assert any(r.birth_date for r in joined) and any(r.birth_date is None for r in joined)
    assert any(r.paid_on for r in joined) and any(r.return_by for r in joined)
    assert any(r.deficiency_kinds for r in joined)
