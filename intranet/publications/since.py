"""The applications written since a publication's rows were frozen (PostgreSQL).

The preview compares today's rows with the last delivered publication's. Compared whole,
that is a million rows against a million on every visit to the publications screen
(1.8 s at a million: docs/performance.md). Only an application written after the freeze
can differ, so the preview compares those alone — when it can prove which they are:

- Every application row carries ``changed_xact``, the transaction that last wrote it (the
  column's default on insert, a trigger on update: no write can forget it).
- The freeze keeps its mark (``Publication.frozen_mark``): PostgreSQL's snapshot, taken
  before the rows are copied, the cluster's system identifier, and the shape of what the
  rows are made from beside applications (each programme's code, birth-date rule and
  lookup, each status's flags).
- A transaction the snapshot does not see — still running then, or begun after — may have
  written what the frozen rows lack, however late it commits: its application is compared
  (this is why a counter or a time is not enough). A transaction it sees had committed
  before the rows were copied, so they hold its writes.

The preview itself is kept between views (``PreviewEntry``, and ``PreviewMark``: the
baseline and the mark they were made at, taken the same way): a view compares again only the
applications written since the last view, so a busy day's ten thousand changes are compared
once, not on every view.

Whenever that proof does not hold, the whole comparison runs as before: on SQLite, for a
publication frozen before the mark existed, in another cluster (a restored dump: its
transaction numbers start again), when a programme or a status changed, or when an
application was deleted or its key (programme, receipt number) changed by hand (the product
does neither while a programme is looked up). What the fast way gives is what the whole
comparison gives: tests/integration/test_preview_since.py.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import (
    Boolean,
    Select,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    tuple_,
)
from sqlalchemy.sql.elements import ColumnClause
from sqlalchemy.types import UserDefinedType

from intranet.applications.models import Application
from intranet.programmes.models import Programme
from intranet.publications.models import PreviewEntry, PreviewMark
from intranet.statuses.models import Status

# What a live row is made of besides its application (intranet.publications.changes.live_rows).
SHAPE_COLUMNS = (Programme.id, Programme.code, Programme.needs_birth_date,
                 Programme.lookup_closed_at.is_(None))
STATUS_FLAGS = (Status.code, Status.needs_scheduled_payment_date, Status.needs_paid_date,
                Status.needs_resident_action)
# PostgreSQL only (migration 0028), so not in the model: SQLite never reads it.
CHANGED_XACT: ColumnClause = literal_column("applications.changed_xact")


class PgSnapshot(UserDefinedType):
    """PostgreSQL's pg_snapshot (``xmin:xmax:xip,…``), for the functions that read one."""

    cache_ok = True

    def get_col_spec(self, **kw):
        return "pg_snapshot"


def shape(dbsession) -> str:
    """A digest of every programme's and status's part in the live rows."""
    rows = [list(map(str, r)) for r in dbsession.execute(
        select(*SHAPE_COLUMNS).order_by(Programme.id))]
    rows += [list(map(str, r)) for r in dbsession.execute(
        select(*STATUS_FLAGS).order_by(Status.code))]
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


@dataclass(frozen=True)
class Mark:
    """Where the database stands: the snapshot, the cluster, the shape (``shape``)."""

    snapshot: str
    cluster: str
    shape: str

    def kept(self) -> str:
        return json.dumps(asdict(self))


def now(dbsession) -> Mark | None:
    """The mark of this moment, read once per freeze or view; None on SQLite."""
    if dbsession.get_bind().dialect.name != "postgresql":
        return None
    snapshot, cluster = dbsession.execute(text(
        "SELECT pg_current_snapshot()::text, "
        "(SELECT system_identifier::text FROM pg_control_system())")).one()
    return Mark(snapshot, cluster, shape(dbsession))


def take(dbsession) -> str:
    """The mark a freeze keeps, taken before it copies the rows; "" on SQLite."""
    mark = now(dbsession)
    return mark.kept() if mark else ""


def usable_snapshot(dbsession, kept_mark: str, current: Mark) -> str | None:
    """The kept mark's snapshot when it proves which applications changed since, else None:
    same cluster and shape as ``current``, and no key dropped unseen by it."""
    if not kept_mark:
        return None
    kept = json.loads(kept_mark)
    if kept["cluster"] != current.cluster or kept["shape"] != current.shape:
        return None
    dropped = dbsession.execute(text(
        "SELECT EXISTS (SELECT 1 FROM application_keys_dropped "
        "WHERE NOT pg_visible_in_snapshot(xact, CAST(:snapshot AS pg_snapshot)))"),
        {"snapshot": kept["snapshot"]}).scalar_one()
    return None if dropped else kept["snapshot"]


def written_since(snapshot: str) -> Select:
    """The ids of the applications a transaction unseen by ``snapshot`` wrote (its index
    holds them from the snapshot's oldest running transaction on)."""
    taken = cast(literal(snapshot), PgSnapshot())
    return select(Application.id).where(
        func.pg_snapshot_xmin(taken) <= CHANGED_XACT,
        func.pg_visible_in_snapshot(CHANGED_XACT, taken, type_=Boolean).is_(False))


def live_rows_written_since(after: Select, snapshot: str) -> Select:
    """The live rows of the applications written since ``snapshot``. Each is compared with
    the frozen row of its key alone: no frozen row can lack a live one here, since none is
    taken off without a programme's lookup closing (its shape), a deletion or a key changed
    (both noted: ``usable_snapshot``)."""
    return after.where(Application.id.in_(written_since(snapshot)))


def kept_difference(dbsession, current: Mark, baseline_id: int, baseline_snapshot: str,
                    live: Select, compare: Callable[[Select], Select]) -> Select:
    """The kept entries (``PreviewEntry``) brought up to date, in ``changes.difference``'s
    columns. ``live``: today's rows; ``compare(rows)``: those rows' entries against the
    baseline's frozen rows.

    Under the mark row's lock (two views never do this at once), the entries of the
    applications written since the mark are compared again when the mark still holds for
    this baseline; else every entry is made again from the baseline's freeze. The new mark
    is taken first, as a freeze takes its own: a write it does not see is compared next
    time, however late it commits. ``current`` is taken before the lock: a view that
    waited stores a mark older than the entries it finds, so the next view compares a
    little more, never less."""
    kept = dbsession.execute(select(PreviewMark).with_for_update()).scalar_one()
    since_mark = (usable_snapshot(dbsession, kept.mark, current)
                  if kept.baseline_id == baseline_id else None)
    if since_mark is None:
        dbsession.execute(delete(PreviewEntry))
        written = live_rows_written_since(live, baseline_snapshot)
    else:
        written = live_rows_written_since(live, since_mark)
        again = written.subquery()
        dbsession.execute(delete(PreviewEntry).where(
            tuple_(PreviewEntry.programme_code, PreviewEntry.receipt).in_(
                select(again.c.programme_code, again.c.receipt))))
    found = compare(written).subquery()
    dbsession.execute(insert(PreviewEntry).from_select(
        ["programme_code", "receipt", "kind", "before", "after"], select(*found.c)))
    kept.baseline_id, kept.mark = baseline_id, current.kept()
    dbsession.flush()
    return select(PreviewEntry.programme_code, PreviewEntry.receipt, PreviewEntry.kind,
                  PreviewEntry.before, PreviewEntry.after)


# Migration 0028 (PostgreSQL): the column, its default on insert, its trigger on update, and
# the index the preview reads it by. Rows written before have NULL: older than any mark.
SETUP = (
    "ALTER TABLE applications ADD COLUMN changed_xact xid8",
    "ALTER TABLE applications ALTER COLUMN changed_xact SET DEFAULT pg_current_xact_id()",
    "CREATE INDEX ix_applications_changed_xact ON applications (changed_xact)",
    # An application's key (programme, receipt number) goes only with its programme's
    # lookup (disposal erases closed ones); one deleted, or its key changed, by hand leaves
    # a frozen row no live row answers: the transaction is noted (once), and the preview
    # then compares whole. In the row trigger: a statement trigger ran once per statement,
    # and the import's bank file updates row by row (50,000 statements: 3.7 s → 14.8 s).
    "CREATE TABLE application_keys_dropped (xact xid8 PRIMARY KEY)",
    "CREATE FUNCTION applications_changed_xact() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n  NEW.changed_xact := pg_current_xact_id();\n"
    "  IF (NEW.programme_id, NEW.receipt_number_normalised) IS DISTINCT FROM "
    "(OLD.programme_id, OLD.receipt_number_normalised) THEN\n"
    "    INSERT INTO application_keys_dropped VALUES (NEW.changed_xact) ON CONFLICT DO NOTHING;\n"
    "  END IF;\n  RETURN NEW;\nEND\n$$",
    "CREATE TRIGGER applications_changed_xact BEFORE UPDATE ON applications "
    "FOR EACH ROW EXECUTE FUNCTION applications_changed_xact()",
    "CREATE FUNCTION application_keys_deleted() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n  INSERT INTO application_keys_dropped VALUES (pg_current_xact_id()) "
    "ON CONFLICT DO NOTHING;\n  RETURN NULL;\nEND\n$$",
    "CREATE TRIGGER application_keys_deleted AFTER DELETE ON applications "
    "FOR EACH STATEMENT EXECUTE FUNCTION application_keys_deleted()",
)
TEARDOWN = (
    "DROP TRIGGER application_keys_deleted ON applications",
    "DROP FUNCTION application_keys_deleted()",
    "DROP TRIGGER applications_changed_xact ON applications",
    "DROP FUNCTION applications_changed_xact()",
    "DROP TABLE application_keys_dropped",
    "ALTER TABLE applications DROP COLUMN changed_xact",
)


def create(connection) -> None:
    if connection.dialect.name == "postgresql":
        for statement in SETUP:
            connection.execute(text(statement))


def drop(connection) -> None:
    if connection.dialect.name == "postgresql":
        for statement in TEARDOWN:
            connection.execute(text(statement))
