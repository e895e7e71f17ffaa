"""The security officer's search over the audit trail: Japan dates, a user, an action and a
receipt number; and the names the records' ids and codes are shown with."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import false, func, select

from intranet.audit import clock
from intranet.audit.models import AuditRecord
from intranet.audit.services import utc_start_of
from intranet.auth.models import User
from intranet.oversight import filters, labels
from intranet.programmes.models import all_programmes

# Once the chain's clock went back, ranges up to a month are bounded by their smallest and
# largest record numbers (below); finding those reads every index entry of the range, so a
# year would read millions of them, where the walk back from the head is short for the
# recent ranges such a search usually asks.
BOUNDED_SPAN = timedelta(days=31)


@dataclass(frozen=True)
class AuditFilter:
    """The officer's search: Japan dates (both ends included), a user, an action (or its
    group), and a receipt number — the records about every application holding it."""

    date_from: date | None = None
    date_to: date | None = None
    actor: str = ""
    action: str = ""
    receipt: str = ""

    @classmethod
    def from_params(cls, params):
        """The filter the form asked for; ``filters.FilterRefused`` names a field it cannot
        read (a date that is no date, an end before the start, a receipt number that cannot
        be one)."""
        date_from = filters.day(params.get("from"), "from")
        date_to = filters.day(params.get("to"), "to")
        filters.in_order(date_from, date_to)
        return cls(date_from, date_to, params.get("actor", "").strip(),
                   params.get("action", "").strip(), filters.receipt(params.get("receipt")))

    def query(self, dbsession):
        query = select(AuditRecord)
        # Dates are Japan dates; records are stored in UTC.
        start = utc_start_of(self.date_from) if self.date_from else None
        end = utc_start_of(self.date_to + timedelta(days=1)) if self.date_to else None
        if start is not None:
            query = query.where(AuditRecord.at >= start)
        if end is not None:
            query = query.where(AuditRecord.at < end)
        if start is not None or end is not None:
            query = query.where(*_numbers_within(dbsession, start, end))
        if self.actor:
            query = query.where(AuditRecord.actor == self.actor)
        if self.action:
            query = query.where(AuditRecord.action.startswith(self.action, autoescape=True))
        if self.receipt:
            query = query.where(filters.about_applications(
                dbsession, filters.applications_numbered(dbsession, self.receipt)))
        return query


def _numbers_within(dbsession, start, end) -> list:
    """Bounds on the record numbers of the dates from ``start`` (included) to ``end``
    (excluded), either may be None. The screen orders by number: without a bound
    PostgreSQL walks back from the head testing each record's time (a day a month back is
    millions of records away). A bound adds nothing a record in the range could fail, so
    the records and their order are those of the time condition alone.

    While the chain's clock never went back (``clock.steady``), the range's records are
    exactly the numbers from its first record to its last: two look-ups in the (at, seq)
    index, whatever the range. Otherwise a closed range up to a month is bounded by its
    smallest and largest numbers, read from all its (at, seq) entries — exact even with the
    dates out of order; longer and open ranges keep the walk from the head."""
    if clock.steady(dbsession):
        bounds = []
        if start is not None:
            first = dbsession.execute(select(AuditRecord.seq).where(AuditRecord.at >= start)
                                      .order_by(AuditRecord.at, AuditRecord.seq).limit(1)
                                      ).scalar_one_or_none()
            bounds.append(false() if first is None else AuditRecord.seq >= first)
        if end is not None:
            last = dbsession.execute(select(AuditRecord.seq).where(AuditRecord.at < end)
                                     .order_by(AuditRecord.at.desc(), AuditRecord.seq.desc())
                                     .limit(1)).scalar_one_or_none()
            bounds.append(false() if last is None else AuditRecord.seq <= last)
        return bounds
    if start is None or end is None or end - start > BOUNDED_SPAN:
        return []
    # ``seq + 0``: PostgreSQL turns a bare min(seq)/max(seq) into the walk along the
    # record-number index this avoids; the expression makes it read the range's (at, seq)
    # entries instead.
    number = AuditRecord.seq + 0
    first, last = dbsession.execute(select(func.min(number), func.max(number)).where(
        AuditRecord.at >= start, AuditRecord.at < end)).one()
    return [false() if first is None else AuditRecord.seq.between(first, last)]


def vocabulary(request) -> labels.Vocabulary:
    """Names for the ids and codes records hold: accounts and programmes are few."""
    users = dict(request.dbsession.execute(select(User.id, User.username)).all())
    programmes = {}
    for programme in all_programmes(request.dbsession):
        name = programme.name_en if request.locale_name == "en" and programme.name_en \
            else programme.name
        programmes[programme.code] = programmes[str(programme.id)] = name
    return labels.Vocabulary.of(request, users, programmes)
