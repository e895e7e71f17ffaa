"""What a publication changes for residents: its rows against the last delivered one's.

The approver approves a change, not a digest. Every place that tells what a publication
changes — the preview (today's rows, not yet frozen), the pending request (its frozen rows),
the approval (recorded in the audit chain) and the list of changed applications with its
CSV — reads it through ``difference``: one comparison of two sets of rows keyed by
(programme, receipt number), so their counts cannot disagree.

The "before" is the last delivered publication's own frozen rows: the recorder keeps them
(``recorder._remember_published``) until the next one is delivered, and disposal replaces
their receipt numbers and birth dates by the erased application's key instead of deleting
them, so a disposed programme's entries still count as taken off the public page.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, case, func, literal, null, or_, select

from intranet.applications.models import Application, StatusChange
from intranet.programmes import lifecycle
from intranet.programmes.models import Programme, all_programmes
from intranet.publications import since
from intranet.publications.models import (
    PUBLISHED,
    Publication,
    PublicationChange,
    PublicationRow,
)
from intranet.statuses.models import Status

# The columns a snapshot carries for one entry, in the frozen rows' order.
COLUMNS = ("programme_code", "receipt", "birth_date", "status_code", "scheduled_payment_on",
           "paid_on", "deficiency_kinds", "documents_sent_on", "return_by")
# What else, besides the status, residents read of an entry: a change to one of them
# (a payment date set, a return deadline moved) is a change the approver sees.
DETAILS = COLUMNS[2:3] + COLUMNS[4:]

# The kinds of change, as the screens, the CSV and the audit record name them.
ADDED, REMOVED, MOVED, ALTERED = "added", "removed", "moved", "altered"
KINDS = (ADDED, REMOVED, MOVED, ALTERED)


def live_rows(*leading) -> Select:
    """The rows a request frozen now would hold (``content.freeze`` inserts exactly these),
    after ``leading`` columns: every application of a programme still looked up.

    The programme's and the status's flags come by join (both are foreign keys, so every
    application has exactly one of each): as scalar subqueries per row, PostgreSQL ran seven
    look-ups per application — 20 s for the preview at a million (docs/performance.md)."""
    needs_action = Status.needs_resident_action
    return (select(*leading, Programme.code.label("programme_code"),
                   Application.receipt_number_normalised.label("receipt"),
                   case((Programme.needs_birth_date, Application.birth_date), else_=None)
                   .label("birth_date"),
                   Application.status_code.label("status_code"),
                   case((Status.needs_scheduled_payment_date, Application.scheduled_payment_on),
                        else_=None).label("scheduled_payment_on"),
                   case((Status.needs_paid_date, Application.paid_on), else_=None)
                   .label("paid_on"),
                   # Only for a status that needs action, and NULL for none: such a row
                   # reads, and is hashed, as rows frozen before action details existed.
                   case((needs_action & (Application.deficiency_kinds != 0),
                         Application.deficiency_kinds), else_=null()).label("deficiency_kinds"),
                   case((needs_action, Application.documents_sent_on), else_=None)
                   .label("documents_sent_on"),
                   case((needs_action, Application.return_by), else_=None).label("return_by"))
            .select_from(Application)
            .join(Programme, Programme.id == Application.programme_id)
            .join(Status, Status.code == Application.status_code)
            # A programme whose lookup has ended is no longer published.
            .where(Application.programme_id.in_(lifecycle.still_looked_up())))


def erased(receipt: str) -> bool:
    """A kept row's receipt number disposal replaced by the application's erased key
    (``-<id>``: normalisation strips every dash, so no real number looks like it)."""
    return receipt.startswith("-")


def frozen(publication_id: int | None) -> Select:
    """A publication's frozen rows (none for ``None``: nothing was ever delivered)."""
    return (select(*(getattr(PublicationRow, name).label(name) for name in COLUMNS))
            .where(PublicationRow.publication_id == (publication_id or 0)))


def baseline(dbsession) -> Publication | None:
    """The last delivered publication: what residents read now. ``None`` before the first."""
    return dbsession.execute(
        select(Publication).where(Publication.state == PUBLISHED)
        .order_by(Publication.finished_at.desc(), Publication.id.desc()).limit(1)
    ).scalar_one_or_none()


def baseline_rows_kept(dbsession, publication: Publication | None) -> bool:
    """False for a publication delivered before its rows were kept (an upgraded site's
    last one): there is nothing exact to compare with until the next is delivered."""
    if publication is None or not publication.content_rows:
        return True
    return dbsession.execute(select(PublicationRow.receipt).where(
        PublicationRow.publication_id == publication.id).limit(1)).first() is not None


def difference(before: Select, after: Select, whole: bool = True) -> Select:
    """Every entry that differs: (programme, receipt, kind, status before, status after).

    The one comparison every screen, count, list and audit record of a publication's
    changes is read from. ``whole=False``: only ``after``'s entries, each with its own
    ``before`` row (none is removed: ``since.live_rows_written_since``)."""
    b, a = before.subquery("before"), after.subquery("after")
    same_entry = and_(b.c.programme_code == a.c.programme_code, b.c.receipt == a.c.receipt)
    details_differ = or_(*(b.c[name].is_distinct_from(a.c[name]) for name in DETAILS))
    kind = case((b.c.receipt.is_(None), literal(ADDED)),
                (a.c.receipt.is_(None), literal(REMOVED)),
                (b.c.status_code != a.c.status_code, literal(MOVED)),
                else_=literal(ALTERED))
    return (select(func.coalesce(b.c.programme_code, a.c.programme_code).label("programme_code"),
                   func.coalesce(b.c.receipt, a.c.receipt).label("receipt"),
                   kind.label("kind"), b.c.status_code.label("before"),
                   a.c.status_code.label("after"))
            .select_from(b.join(a, same_entry, full=True) if whole
                         else a.join(b, same_entry, isouter=True))
            .where(or_(b.c.receipt.is_(None), a.c.receipt.is_(None),
                       b.c.status_code != a.c.status_code, details_differ)))


@dataclass
class ProgrammeChanges:
    """One programme's changes, per status: added, removed, moved (from, to), altered."""

    code: str
    name: str
    state: str          # intranet.programmes.lifecycle: open, lookup_closed, …, disposed
    added: Counter = field(default_factory=Counter)
    removed: Counter = field(default_factory=Counter)
    moved: Counter = field(default_factory=Counter)
    altered: Counter = field(default_factory=Counter)

    def rows(self) -> list[tuple[str, str | None, str | None, int]]:
        """(kind, status before, status after, count), in the order the screen lists them."""
        return ([(ADDED, None, code, n) for code, n in sorted(self.added.items())]
                + [(REMOVED, code, None, n) for code, n in sorted(self.removed.items())]
                + [(MOVED, *pair, n) for pair, n in sorted(self.moved.items())]
                + [(ALTERED, code, code, n) for code, n in sorted(self.altered.items())])

    @property
    def ended(self) -> bool:
        """Taken off the public page because its lookup ended (or it was disposed)."""
        return self.state != lifecycle.OPEN


@dataclass
class Changes:
    """What one publication changes against the last delivered one."""

    baseline: Publication | None
    comparable: bool                 # False: the baseline's rows were not kept (see above)
    programmes: list[ProgrammeChanges]

    def total(self, kind: str) -> int:
        return sum(sum(getattr(p, kind).values()) for p in self.programmes)

    def totals(self) -> dict[str, int]:
        return {kind: self.total(kind) for kind in KINDS}


def summarise(dbsession, after: Select, last: Publication | None = None) -> Changes:
    """``after`` (live or frozen rows) against the last delivered publication, per
    programme and status."""
    last = last or baseline(dbsession)
    return counted(dbsession, last, difference(frozen(last.id if last else None), after))


def counted(dbsession, last: Publication | None, found: Select) -> Changes:
    """A difference already taken (``difference``'s columns), per programme and status."""
    diff = found.subquery()
    rows = dbsession.execute(
        select(diff.c.programme_code, diff.c.kind, diff.c.before, diff.c.after, func.count())
        .group_by(diff.c.programme_code, diff.c.kind, diff.c.before, diff.c.after))
    programmes = {p.code: p for p in all_programmes(dbsession)}
    by_code: dict[str, ProgrammeChanges] = {}
    for code, kind, before, now, count in rows:
        programme = programmes.get(code)
        entry = by_code.setdefault(code, ProgrammeChanges(
            code, programme.name if programme else code,
            lifecycle.state(programme) if programme else lifecycle.DISPOSED))
        key = {ADDED: now, REMOVED: before, MOVED: (before, now), ALTERED: now}[kind]
        getattr(entry, kind)[key] += count
    order = {code: index for index, code in enumerate(sorted(
        programmes, key=lambda c: programmes[c].id))}
    return Changes(last, baseline_rows_kept(dbsession, last),
                   sorted(by_code.values(), key=lambda p: (order.get(p.code, len(order)), p.code)))


def of_preview(dbsession) -> Changes:
    """Today's rows against the last delivered publication's: kept between views, and only
    the applications written since compared again, when that can be proven (``since``);
    else every row."""
    last = baseline(dbsession)
    current = since.now(dbsession) if last else None
    snapshot = (since.usable_snapshot(dbsession, last.frozen_mark, current)
                if last and current else None)
    if last is None or current is None or snapshot is None:
        return summarise(dbsession, live_rows(), last)
    kept = since.kept_difference(
        dbsession, current, last.id, snapshot, live_rows(),
        lambda rows: difference(frozen(last.id), rows, whole=False))
    return counted(dbsession, last, kept)


def of_request(dbsession, publication_id: int) -> Changes:
    """A request's changes, counted from ``request_difference``."""
    last = baseline(dbsession)
    return counted(dbsession, last, request_difference(dbsession, publication_id, last))


def request_difference(dbsession, publication_id: int, last: Publication | None) -> Select:
    """A request's frozen rows against the last delivered publication's. When it was
    compared with that publication at the request, its difference as the request took it
    (``PublicationChange``): both sets of frozen rows are as they were then (comparing a
    million rows each again took seconds of the approver's page). Disposal, which rewrites
    the delivered rows, clears ``changes_since``: the rows are compared again then."""
    publication = dbsession.get(Publication, publication_id)
    if last is not None and publication is not None and publication.changes_since == last.id:
        return noted(publication_id)
    return difference(frozen(last.id if last else None), frozen(publication_id))


def noted(publication_id: int) -> Select:
    """The difference ``publication_id``'s request took, in ``difference``'s columns."""
    return select(PublicationChange.programme_code, PublicationChange.receipt,
                  PublicationChange.kind, PublicationChange.before,
                  PublicationChange.after).where(
        PublicationChange.publication_id == publication_id)


@dataclass(frozen=True)
class ChangedEntry:
    """One changed application, for the list and its CSV."""

    programme_code: str
    receipt: str
    kind: str
    before: str | None
    after: str | None
    changed_by: str          # who last changed its status ("" when no one is on record)
    changed_at: datetime | None
    disposed: bool           # its receipt number was erased: shown as such, never as "-id"


def _changed(dbsession, publication_id: int):
    diff = request_difference(dbsession, publication_id, baseline(dbsession)).subquery()
    return select(diff).order_by(diff.c.programme_code, diff.c.receipt)


def entries(dbsession, publication_id: int, offset: int = 0, limit: int = 100):
    """A page of the request's changed applications, by programme and receipt number."""
    page = dbsession.execute(_changed(dbsession, publication_id).offset(offset).limit(limit))
    return _with_who(dbsession, page.all())


def all_entries(dbsession, publication_id: int, batch: int = 2_000):
    """Every changed application, in the same order, read ``batch`` at a time."""
    result = dbsession.execute(_changed(dbsession, publication_id)
                               .execution_options(yield_per=batch))
    for rows in result.partitions():
        yield from _with_who(dbsession, rows)


def _with_who(dbsession, rows) -> list["ChangedEntry"]:
    who = _last_changes(dbsession, {(r.programme_code, r.receipt) for r in rows})
    return [ChangedEntry(r.programme_code, r.receipt, r.kind, r.before, r.after,
                         *who.get((r.programme_code, r.receipt), ("", None)),
                         disposed=erased(r.receipt)) for r in rows]


def count_entries(dbsession, publication_id: int) -> int:
    diff = request_difference(dbsession, publication_id, baseline(dbsession)).subquery()
    return dbsession.execute(select(func.count()).select_from(diff)).scalar_one()


def _last_changes(dbsession, keys) -> dict[tuple[str, str], tuple[str, datetime | None]]:
    """(programme, receipt) → who made the application's latest status change, and when."""
    found: dict[tuple[str, str], tuple[str, datetime | None]] = {}
    receipts = sorted({receipt for _code, receipt in keys})
    for start in range(0, len(receipts), 500):
        latest = (select(StatusChange.application_id, func.max(StatusChange.id).label("id"))
                  .join(Application, Application.id == StatusChange.application_id)
                  .where(Application.receipt_number_normalised.in_(receipts[start:start + 500]))
                  .group_by(StatusChange.application_id).subquery())
        for code, receipt, change in dbsession.execute(
                select(Programme.code, Application.receipt_number_normalised, StatusChange)
                .join(latest, latest.c.id == StatusChange.id)
                .join(Application, Application.id == StatusChange.application_id)
                .join(Programme, Programme.id == Application.programme_id)):
            if (code, receipt) in keys:
                found[(code, receipt)] = (change.user.display_name if change.user else "",
                                          change.changed_at)
    return found
