"""The security officer's search over the audit trail: Japan dates, a user, an action and a
receipt number; and the names the records' ids and codes are shown with."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import false, func, select

from intranet.audit.models import AuditRecord
from intranet.audit.services import utc_start_of
from intranet.auth.models import User
from intranet.oversight import filters, labels
from intranet.programmes.models import Programme

# Ranges up to a month are bounded by their first and last record numbers (below); finding
# those reads every index entry of the range, so a year would read millions of them, where
# the walk back from the head is short for the recent ranges such a search usually asks.
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
        when = []
        if self.date_from:
            when.append(AuditRecord.at >= utc_start_of(self.date_from))
        if self.date_to:
            when.append(AuditRecord.at < utc_start_of(self.date_to + timedelta(days=1)))
        query = query.where(*when)
        if self.date_from and self.date_to and self.date_to - self.date_from < BOUNDED_SPAN:
            query = query.where(_numbers_within(dbsession, when))
        if self.actor:
            query = query.where(AuditRecord.actor == self.actor)
        if self.action:
            query = query.where(AuditRecord.action.startswith(self.action, autoescape=True))
        if self.receipt:
            query = query.where(filters.about_applications(
                dbsession, filters.applications_numbered(dbsession, self.receipt)))
        return query


def _numbers_within(dbsession, when):
    """The record numbers from the first to the last record of a date range, read from the
    (at, seq) index alone. The screen orders by number: without this bound PostgreSQL
    walks back from the head testing each record's time (a day a month back is millions
    of records away). The bound adds nothing a record in the range could fail — the
    range's smallest and largest numbers, exact even if the clock ever went backwards —
    so the records and their order are those of the time condition alone. Only for a
    closed range: an open one (from a date on, or up to one) would read its entries up
    to the chain's end or start, where the walk from the head is already short or no
    worse."""
    # ``seq + 0``: PostgreSQL turns a bare min(seq)/max(seq) into the walk along the
    # record-number index this avoids; the expression makes it read the range's (at, seq)
    # entries instead.
    number = AuditRecord.seq + 0
    first, last = dbsession.execute(select(func.min(number), func.max(number)).where(*when)).one()
    return false() if first is None else AuditRecord.seq.between(first, last)


def vocabulary(request) -> labels.Vocabulary:
    """Names for the ids and codes records hold: accounts and programmes are few."""
    users = dict(request.dbsession.execute(select(User.id, User.username)).all())
    programmes = {}
    for programme in request.dbsession.execute(select(Programme)).scalars():
        name = programme.name_en if request.locale_name == "en" and programme.name_en \
            else programme.name
        programmes[programme.code] = programmes[str(programme.id)] = name
    return labels.Vocabulary.of(request, users, programmes)
