"""Per day, for all public hosts together: lookups answered online, application records the
call centre (問い合わせ対応) opened, and the share of the two answered online.

Days are Japan's: the hosts count on their own calendar day, and an audit record's UTC time
is put on the day it was in Japan.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from intranet.audit.models import AuditRecord
from intranet.usage.models import UsageCount
from intranet.web import JST

DAYS_SHOWN = 31
# What the call centre's opening of an application is recorded as (issue 14).
INQUIRY_VIEW = "application.view"


@dataclass(frozen=True)
class ReliefDay:
    day: date
    lookups: int          # answered on the residents' page, all hosts and programmes
    limited: int          # refused by the rate limit (not among the lookups)
    views: int            # records opened by the 問い合わせ対応 role

    @property
    def online_share(self) -> float | None:
        """lookups ÷ (lookups + views): how much of the asking was done online."""
        asked = self.lookups + self.views
        return self.lookups / asked if asked else None


def relief_days(dbsession, today: date, days: int = DAYS_SHOWN) -> list[ReliefDay]:
    first = today - timedelta(days=days - 1)
    online = {day: (int(lookups), int(limited)) for day, lookups, limited in dbsession.execute(
        select(UsageCount.day, func.sum(UsageCount.lookups), func.sum(UsageCount.limited))
        .where(UsageCount.day >= first, UsageCount.day <= today).group_by(UsageCount.day))}
    views = _views_per_day(dbsession, first, today)
    return [ReliefDay(day, *online.get(day, (0, 0)), views.get(day, 0))
            for day in (first + timedelta(days=n) for n in range(days))]


def _views_per_day(dbsession, first: date, last: date) -> Counter:
    """Opened records per Japanese day, from the audit chain (one record per opening)."""
    start, end = _utc(first), _utc(last + timedelta(days=1))
    moments = dbsession.execute(select(AuditRecord.at).where(
        AuditRecord.action == INQUIRY_VIEW, AuditRecord.at >= start, AuditRecord.at < end
    ).execution_options(yield_per=5000)).scalars()
    return Counter(moment.replace(tzinfo=UTC).astimezone(JST).date() for moment in moments)


def _utc(day: date) -> datetime:
    """The start of a Japanese day, as the naive UTC the audit chain stores."""
    return datetime.combine(day, time.min, tzinfo=JST).astimezone(UTC).replace(tzinfo=None)
