"""Figures for the dashboard: where every application stands, and progress over time.

Read from ``dashboard_tallies`` (a few hundred rows per programme), which triggers keep
exact in the same statement as every change (intranet.dashboard.models), instead of
grouping every application and its history on each view.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from intranet.dashboard.models import Tally

# The progress lines, in the chart's order: received, decided (支給決定), paid (振込済).
SERIES = ("received", "decided", "paid")
# Points on the chart (and rows in the table beside it): a year and a bit, day by day.
MAX_POINTS = 400


@dataclass(frozen=True)
class ProgressDay:
    day: date
    received: int
    decided: int
    paid: int


def counts_by_programme(dbsession) -> dict[int, dict[str, int]]:
    rows = dbsession.execute(select(Tally.programme_id, Tally.bucket, Tally.n)
                             .where(Tally.kind == "status", Tally.n != 0))
    counts: defaultdict[int, dict[str, int]] = defaultdict(dict)
    for programme_id, status, n in rows:
        counts[programme_id][status] = n
    return counts


def cumulative_progress(dbsession, programme_id: int | None = None) -> list[ProgressDay]:
    """Cumulative received / decided / paid, one entry per day from the first to the last."""
    query = (select(Tally.kind, Tally.bucket, func.sum(Tally.n))
             .where(Tally.kind.in_(SERIES), Tally.n != 0).group_by(Tally.kind, Tally.bucket))
    if programme_id:
        query = query.where(Tally.programme_id == programme_id)
    per_kind: dict[str, dict[date, int]] = {kind: {} for kind in SERIES}
    for kind, bucket, n in dbsession.execute(query):
        per_kind[kind][date.fromisoformat(bucket)] = int(n)
    received, decided, paid = (per_kind[kind] for kind in SERIES)
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
