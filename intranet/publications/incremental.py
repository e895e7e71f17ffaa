"""A publication's table from the last one the builder made: only the applications that
changed since are hashed, and the unchanged entries are copied as they were.

The builder keeps its last table (``transfer.build_cache``). The difference between that
table's frozen rows and this publication's comes from the database (one comparison of the
two sets of frozen rows, as the approver's list of changes is made) — and the database is
not trusted for it: before one entry is reused, the last build's rows are rebuilt from this
publication's rows (already checked against the approved digest) and the difference, and
their digest must be the one the cache names. A difference that leaves out a change, a
tampered row of the older publication, or an ordering Python does not share all end the
same way: ``NotIncremental``, and the caller builds in full. So the bytes are those of a
full build or the build is a full one.

What stays a full build: no cache, a cache made with another lookup key, by another version
or for other statuses or programmes (``build_cache.parameters``), or more changes than
``MAX_SHARE`` of the rows.
"""

import logging
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, bindparam, func, or_, select, true
from sqlalchemy.dialects import postgresql

from intranet.publications import changes, content
from intranet.publications.models import Publication, PublicationChange, PublicationRow
from transfer.build import Packer
from transfer.build_cache import Inconsistent, LastBuild, edit_body
from transfer.lookup import LOOKUP_KEY_BYTES
from transfer.progress import _DIGITS, ProgrammeTally

log = logging.getLogger(__name__)

# Past this share of changed rows a full build is as fast, and the difference is not read on.
MAX_SHARE = 0.25
VALUES = changes.COLUMNS[2:]
# How the difference was read (logged).
NOTED, WHOLE = "as the request noted them", "both sets of rows compared whole"


class NotIncremental(Exception):
    """Why the table is built in full instead (logged by the caller)."""


@dataclass(frozen=True)
class Change:
    """One application that differs: its frozen row before (None: added) and now (None:
    taken off), each a tuple in ``changes.COLUMNS`` order."""

    before: tuple | None
    after: tuple | None


def difference(dbsession, before_id: int, after: Publication, rows: Sequence,
               limit: int) -> list[Change]:
    """The rows of the two publications that differ, by (programme, receipt number); at
    most ``limit`` (NotIncremental past it). Read through the keys the request noted
    (``PublicationChange``) when it was compared with ``before_id``, else by comparing
    both sets of rows whole (a second or so at a million)."""
    if after.changes_since == before_id:
        return _noted(dbsession, before_id, after.id, rows, limit)
    def of(publication_id, name):
        return select(*(getattr(PublicationRow, c).label(c) for c in changes.COLUMNS)).where(
            PublicationRow.publication_id == publication_id).subquery(name)

    b, a = of(before_id, "before"), of(after.id, "after")
    differs = or_(b.c.receipt.is_(None), a.c.receipt.is_(None),
                  *(b.c[name].is_distinct_from(a.c[name]) for name in VALUES))
    query = (select(*b.c, *a.c)
             .select_from(b.join(a, and_(b.c.programme_code == a.c.programme_code,
                                         b.c.receipt == a.c.receipt), full=True))
             .where(differs).execution_options(yield_per=2_000))
    found: list[Change] = []
    width = len(changes.COLUMNS)
    for part in dbsession.execute(query).partitions():
        for row in part:
            before, after_row = tuple(row[:width]), tuple(row[width:])
            found.append(Change(before if before[1] is not None else None,
                                after_row if after_row[1] is not None else None))
        if len(found) > limit:
            raise NotIncremental(f"more than {limit} rows changed")
    return found


# SQLite: keys looked up per statement, by programme (an IN list, within its limit on
# parameters). PostgreSQL takes a programme's keys as one array, each looked up by the
# whole primary key (``_older_rows``): with no statistics yet for the older publication
# (frozen a moment ago) an IN list was planned as a pass over that publication's rows per
# statement, filtered (0.13 s a million), and a join from the noted keys as a scan of
# every row per key.
KEYS_AT_ONCE = 5_000


def _noted(dbsession, before_id: int, after_id: int, rows: Sequence, limit: int) -> list[Change]:
    """Both sides of each application the request noted: the older from the database, by
    key; this publication's from its rows in hand (None where they do not hold it)."""
    keys = [tuple(key) for key in dbsession.execute(
        select(PublicationChange.programme_code, PublicationChange.receipt)
        .where(PublicationChange.publication_id == after_id))]
    if len(keys) > limit:
        raise NotIncremental(f"more than {limit} rows changed")
    by_programme: dict[str, list[str]] = {}
    for code, receipt in keys:
        by_programme.setdefault(code, []).append(receipt)
    before = {tuple(row[:2]): tuple(row) for code, receipts in by_programme.items()
              for row in _older_rows(dbsession, before_id, code, receipts)}
    found = []
    for key in keys:
        position = bisect_left(rows, key)
        now = tuple(rows[position]) if position < len(rows) \
            and tuple(rows[position][:2]) == key else None
        if before.get(key) is not None or now is not None:
            found.append(Change(before.get(key), now))
    return found


def _older_rows(dbsession, before_id: int, code: str, receipts: list[str]) -> Sequence:
    """The older publication's frozen rows of these receipt numbers of one programme."""
    columns = [getattr(PublicationRow, c) for c in changes.COLUMNS]
    mine = (PublicationRow.publication_id == before_id, PublicationRow.programme_code == code)
    if dbsession.get_bind().dialect.name != "postgresql":
        return [row for start in range(0, len(receipts), KEYS_AT_ONCE)
                for row in dbsession.execute(select(*columns).where(
                    *mine, PublicationRow.receipt.in_(receipts[start:start + KEYS_AT_ONCE])))]
    # One probe of the primary key per number: a LIMIT keeps the lateral subquery apart
    # (PostgreSQL never merges it into the outer query), so each number is looked up by the
    # whole key, whatever the planner guesses of the publication's size.
    keys = func.unnest(bindparam("receipts", receipts, type_=postgresql.ARRAY(String))) \
        .table_valued("receipt").render_derived(name="keys")
    older = select(*columns).where(*mine, PublicationRow.receipt == keys.c.receipt) \
        .limit(1).lateral("older")
    return dbsession.execute(select(*older.c).select_from(keys).join(older, true())).all()


def rebuild(dbsession, publication: Publication, last: LastBuild, rows: Sequence,
            lines: list[str], packer: Packer, statuses: Sequence[Any]
            ) -> tuple[bytes, int, ProgrammeTally]:
    """This publication's body (widest format, sorted), rows left out, and tally, from the
    last build and what changed; NotIncremental when the last build cannot be proved to be
    the base of this one."""
    base = dbsession.get(Publication, last.publication)
    if base is None or base.content_digest != last.content_digest:
        raise NotIncremental(f"publication {last.publication} is no longer as it was built")
    found = difference(dbsession, last.publication, publication, rows,
                       int(len(rows) * MAX_SHARE) + 100)
    edits = _placed(found, rows)
    if _base_digest(base.frozen_header, lines, edits) != last.content_digest:
        raise NotIncremental("the difference does not lead back to the last build's rows")
    removed: list[bytes] = []
    added: list[bytes] = []
    skipped = last.skipped
    for change in found:
        for row, into, sign in ((change.before, removed, -1), (change.after, added, 1)):
            if row is None:
                continue
            packed, left_out = packer.pack([row])
            skipped += sign * left_out
            into.extend(entry[:LOOKUP_KEY_BYTES] if sign < 0 else entry for entry in packed)
    try:
        body = edit_body(last.body, removed, added)
    except Inconsistent as why:
        raise NotIncremental(str(why)) from None
    log.info("publication %s built from the last build (publication %s): %s rows changed "
             "(%s)", publication.id, last.publication, len(found),
             NOTED if publication.changes_since == last.publication else WHOLE)
    return body, skipped, _tally(last.tally, found, rows, statuses)


def _placed(found: list[Change], rows: Sequence) -> list[tuple[int, int, tuple, str | None]]:
    """Each change as an edit of this publication's lines that undoes it: (position, 0
    insert the old row before it | 1 replace or drop the line there, order, old line).
    A changed or added row must be found, equal, where the rows' order puts it."""
    edits: list[tuple[int, int, tuple, str | None]] = []
    for change in found:
        old = None if change.before is None else content.content_line(change.before) + "\n"
        if change.after is None:
            assert change.before is not None
            # Rows taken off before one row go back in their own order (as Python orders
            # them: where the database's order differs, the digest says so).
            position = bisect_left(rows, change.before[:2])
            edits.append((position, 0, change.before[:2], old))
            continue
        position = bisect_left(rows, change.after[:2])
        if position == len(rows) or tuple(rows[position]) != change.after:
            raise NotIncremental("a changed row is not where the frozen rows' order puts it")
        edits.append((position, 1, (), old))
    edits.sort()
    return edits


def _base_digest(frozen_header: str, lines: list[str], edits) -> str:
    """The digest of this publication's lines with every change undone, under the older
    publication's wording: the last build's digest if and only if the difference is whole."""
    sha = content.started(frozen_header)
    done = 0
    for position, kind, _key, old in edits:
        _update(sha, lines, done, position)
        done = max(done, position)
        if old is not None:
            sha.update(old.encode("utf-8"))
        if kind == 1:
            done = position + 1
    _update(sha, lines, done, len(lines))
    return sha.hexdigest()


def _update(sha, lines: list[str], start: int, stop: int, step: int = content.CHUNK) -> None:
    for at in range(start, stop, step):
        sha.update("".join(lines[at:min(at + step, stop)]).encode("utf-8"))


def _tally(counts: dict[str, Any], found: list[Change], rows: Sequence,
           statuses: Sequence[Any]) -> ProgrammeTally:
    """The residents' progress figures, moved by the changes alone."""
    tally = ProgrammeTally.of_counts(counts, statuses)
    paid = {s.code for s in statuses if s.needs_paid_date}
    recount = set()
    for change in found:
        for row, sign in ((change.before, -1), (change.after, 1)):
            if row is None:
                continue
            code, receipt, status = row[0], row[1], row[3]
            tally.applications[code] = tally.applications.get(code, 0) + sign
            if status in paid:
                tally.paid[code] = tally.paid.get(code, 0) + sign
            if not _DIGITS.fullmatch(receipt):
                (recount.add(code) if sign < 0 else tally.letters.add(code))
    for code in recount - {c.after[0] for c in found if c.after is not None
                           and not _DIGITS.fullmatch(c.after[1])}:
        # A receipt number with a letter went: is there another one left?
        if not any(row[0] == code and not _DIGITS.fullmatch(row[1]) for row in rows):
            tally.letters.discard(code)
    for table in (tally.applications, tally.paid):
        for code in [c for c, n in table.items() if n == 0]:
            del table[code]
    return tally
