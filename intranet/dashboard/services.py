"""Figures for the dashboard: where every application stands, and progress over time."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from intranet.applications.models import Application, StatusChange

# The milestone each progress line counts: received, decided (支給決定), paid (振込済).
DECIDED = "approved"
# Points on the chart (and rows in the table beside it): a year and a bit, day by day.
MAX_POINTS = 400


@dataclass(frozen=True)
class ProgressDay:
    day: date
    received: int
    decided: int
    paid: int


def counts_by_programme(dbsession) -> dict[int, dict[str, int]]:
    rows = dbsession.execute(
        select(Application.programme_id, Application.status_code, func.count())
        .group_by(Application.programme_id, Application.status_code)
    )
    counts: defaultdict[int, dict[str, int]] = defaultdict(dict)
    for programme_id, status, n in rows:
        counts[programme_id][status] = n
    return counts


def cumulative_progress(dbsession, programme_id: int | None = None) -> list[ProgressDay]:
    """Cumulative received / decided / paid, one entry per day from the first to the last."""
    received = _per_day(dbsession, Application.received_on, programme_id)
    paid = _per_day(dbsession, Application.paid_on, programme_id)
    decided_query = select(func.date(StatusChange.changed_at), func.count()).where(
        StatusChange.to_code == DECIDED).group_by(func.date(StatusChange.changed_at))
    if programme_id:
        decided_query = decided_query.join(Application).where(
            Application.programme_id == programme_id)
    decided = _as_days(dbsession.execute(decided_query))
    days = set(received) | set(paid) | set(decided)
    if not days:
        return []
    first, last = min(days), max(days)
    # At most MAX_POINTS points whatever the dates: a long span is sampled every `step`
    # days (the totals stay exact at each point), so one stray date far in the future or
    # past costs the same as any other.
    step = max(1, -(-(last - first).days // (MAX_POINTS - 1)))
    events = sorted(days)
    totals, series, index = [0, 0, 0], [], 0
    day = first
    while True:
        while index < len(events) and events[index] <= day:
            for i, source in enumerate((received, decided, paid)):
                totals[i] += source.get(events[index], 0)
            index += 1
        series.append(ProgressDay(day, *totals))
        if day >= last:
            return series
        day = min(day + timedelta(days=step), last)


def _per_day(dbsession, column, programme_id):
    query = select(column, func.count()).where(column.is_not(None)).group_by(column)
    if programme_id:
        query = query.where(Application.programme_id == programme_id)
    return _as_days(dbsession.execute(query))


def _as_days(rows):
    # SQLite's date() returns text, PostgreSQL's a date.
    return {(d if isinstance(d, date) else date.fromisoformat(d)): n for d, n in rows}
