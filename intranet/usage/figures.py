"""Per day, for all public hosts together: lookups answered online, application records the
call centre (問い合わせ対応) opened, and the share of the two answered online.

Days are Japan's: the hosts count on their own calendar day, and an audit record's UTC time
is put on the day it was in Japan. The openings per day are counted by the database as the
records are added and pruned (``intranet.usage.openings``): 31 rows, not every record.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from intranet.usage import openings
from intranet.usage.models import InquiryViewDay, UsageCount

DAYS_SHOWN = 31
# What the call centre's opening of an application is recorded as (issue 14), counted per
# day by the database.
INQUIRY_VIEW = openings.ACTION


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


def _views_per_day(dbsession, first: date, last: date) -> dict[date, int]:
    """Opened records per Japanese day: the application.view audit records the trail holds."""
    return {day: int(n) for day, n in dbsession.execute(
        select(InquiryViewDay.day, InquiryViewDay.n)
        .where(InquiryViewDay.day >= first, InquiryViewDay.day <= last))}
