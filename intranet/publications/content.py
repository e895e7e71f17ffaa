"""What a publication will say, frozen when it is requested, and its digest.

What is approved is what is published. A request copies the rows the snapshot needs
(programme, receipt number, birth date where the programme asks for it, status and the
dates that status needs, and — for a status that needs the resident's action — the kinds of
deficiency and the documents' two dates; never the 不備内容 text) into ``publication_rows``
and the header wording (programmes, statuses and their resident-facing text) into the
publication, and records the SHA-256 of both: the content digest. The preview shows the
digest, the approver approves that digest, and the transfer job builds from the frozen rows
alone after reproducing the digest from them — a change made after the request goes into
the next publication.
"""

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, insert, literal, select

from intranet.deficiencies import catalogue as kind_catalogue
from intranet.programmes import lifecycle
from intranet.programmes.models import Programme, all_programmes
from intranet.publications import changes, since
from intranet.publications.models import PublicationChange, PublicationRow
from intranet.statuses.models import Status
from transfer.build import action_fields, programme_fields, status_fields
from transfer.envelope import canonical_text


def header_wording(dbsession) -> dict:
    """The programmes (with their 不備の種類, 返送先 and 同封するもの) and statuses as the
    snapshot header carries them."""
    programmes = all_programmes(dbsession, by=Programme.code)
    statuses = dbsession.execute(select(Status).order_by(Status.sort_order)).scalars().all()
    return {"programmes": [programme_header(dbsession, p) for p in programmes],
            "statuses": [status_fields(s) for s in statuses]}


def programme_header(dbsession, programme: Programme) -> dict:
    """One programme as the header carries it, action details included: what a request
    freezes, and what 「公開中の表示」 compares a frozen one with (publications.shown)."""
    return {**programme_fields(programme, lifecycle.lookup_ended(programme)),
            **action_fields(kind_catalogue.load(dbsession, programme.id).kinds,
                            *programme.return_details())}


def freeze(dbsession, publication) -> str:
    """Copy today's rows and wording into the publication; return the content digest."""
    wording = header_wording(dbsession)
    publication.frozen_header = canonical_text(wording)
    # Before the rows are copied: a write this mark does not see is compared by the preview.
    publication.frozen_mark = since.take(dbsession)
    # One INSERT ... SELECT: millions of rows never pass through Python here. The rows are
    # those the preview compares (changes.live_rows): what is previewed is what is frozen.
    dbsession.execute(insert(PublicationRow).from_select(
        ["publication_id", *changes.COLUMNS], changes.live_rows(literal(publication.id))))
    _note_changes(dbsession, publication)
    publication.content_digest = digest(dbsession, publication)
    publication.content_rows = dbsession.execute(
        select(func.count()).select_from(PublicationRow)
        .where(PublicationRow.publication_id == publication.id)).scalar_one()
    return publication.content_digest


def _note_changes(dbsession, publication) -> None:
    """The rows that differ from the last delivered publication's, as ``changes.difference``
    gives them (``PublicationChange``): one comparison, while the request is made."""
    last = changes.baseline(dbsession)
    if last is None or not changes.baseline_rows_kept(dbsession, last) or not last.content_rows:
        return
    diff = changes.difference(changes.frozen(last.id), changes.frozen(publication.id)).subquery()
    dbsession.execute(insert(PublicationChange).from_select(
        ["publication_id", "programme_code", "receipt", "kind", "before", "after"],
        select(literal(publication.id), diff.c.programme_code, diff.c.receipt, diff.c.kind,
               diff.c.before, diff.c.after)))
    publication.changes_since = last.id


# Rows fetched, encoded and hashed at a time.
CHUNK = 20_000


def frozen_rows(dbsession, publication_id: int):
    """The frozen rows in digest order, streamed."""
    return dbsession.execute(_frozen(publication_id).execution_options(yield_per=CHUNK))


def frozen_chunks(dbsession, publication_id: int) -> Iterator[Sequence[Any]]:
    """The same rows as ``frozen_rows``, a chunk at a time, as plain tuples.

    On PostgreSQL through the driver's own server-side cursor, binary, in the session's
    transaction: the driver hands back the very values SQLAlchemy would (str, date, None),
    and SQLAlchemy's result rows cost three times the driver's fetch at a million rows."""
    connection = dbsession.connection()
    if connection.dialect.name != "postgresql" or connection.dialect.driver != "psycopg":
        yield from frozen_rows(dbsession, publication_id).partitions()
        return
    compiled = _frozen(publication_id).compile(dialect=connection.dialect)
    driver = connection.connection.driver_connection
    with driver.cursor(name="shinsei_frozen_rows", binary=True) as cursor:
        cursor.execute(str(compiled), compiled.params)
        while chunk := cursor.fetchmany(CHUNK):
            yield chunk


def _frozen(publication_id: int):
    return (select(PublicationRow.programme_code, PublicationRow.receipt,
                   PublicationRow.birth_date, PublicationRow.status_code,
                   PublicationRow.scheduled_payment_on, PublicationRow.paid_on,
                   PublicationRow.deficiency_kinds, PublicationRow.documents_sent_on,
                   PublicationRow.return_by)
            .where(PublicationRow.publication_id == publication_id)
            .order_by(PublicationRow.programme_code, PublicationRow.receipt))


def digest(dbsession, publication) -> str:
    """SHA-256 over the frozen wording and every frozen row, in one fixed order."""
    return read_frozen(dbsession, publication, keep_rows=False)[0]


def read_frozen(dbsession, publication, *, keep_rows: bool = True,
                lines_into: list[str] | None = None) -> tuple[str, list]:
    """The content digest and (``keep_rows``) the frozen rows it was computed over, in
    digest order: the builder reads the rows once, and hashes them for the snapshot only
    after their digest has matched the approved one. ``lines_into`` gets each row's line
    as the digest read it (the incremental build checks its base with them)."""
    sha = started(publication.frozen_header)
    texts = _JsonTexts()
    kept: list = []
    for chunk in frozen_chunks(dbsession, publication.id):
        parts = line_list(chunk, texts)
        sha.update("".join(parts).encode("utf-8"))
        if keep_rows:
            kept.extend(chunk)
        if lines_into is not None:
            lines_into.extend(parts)
    return sha.hexdigest(), kept


def started(frozen_header: str):
    """The content digest's SHA-256 before the first row: its domain and the wording."""
    sha = hashlib.sha256(b"shinsei-publication-content-v1\n")
    sha.update(frozen_header.encode("utf-8") + b"\n")
    return sha


def content_line(row) -> str:
    """One frozen row as the digest reads it: the JSON array of its values as text (null
    where empty). A row without action details (its last three values null) is the array
    of its first six, as every row was before they existed: a request frozen before an
    upgrade reproduces its digest after it. This is the definition; ``lines`` makes the
    same text faster."""
    values = row if any(v is not None for v in row[6:]) else row[:6]
    return canonical_text([None if v is None else str(v) for v in values])


# What a JSON string must escape; a receipt number holding one goes the defining way.
_ESCAPED = re.compile(r'["\\\x00-\x1f]')


class _JsonTexts(dict):
    """A frozen value → its text in a content line, made once per distinct value: a million
    rows share a few programme codes, statuses and some thousands of dates. Keys are the
    columns' own types (str, date, None), none of which compares equal to another's."""

    def __missing__(self, value) -> str:
        self[value] = text = canonical_text(None if value is None else str(value))
        return text


def lines(rows, texts: _JsonTexts | None = None) -> str:
    """``content_line(row) + "\n"`` for every row, joined: byte for byte the same text."""
    return "".join(line_list(rows, texts))


def line_list(rows, texts: _JsonTexts | None = None) -> list[str]:
    """``content_line(row) + "\n"`` for every row, each its own string.

    Per row only the receipt number is new (receipt numbers are unique); every other value
    comes from ``texts``. A receipt number is written between quotes as it is, which is
    its JSON text unless it holds a character JSON escapes — checked for the whole chunk
    at once, and such a chunk is written the defining way."""
    texts = _JsonTexts() if texts is None else texts
    try:
        receipts = "".join([row[1] for row in rows])
    except TypeError:     # not text: only the definition knows what str() makes of it
        receipts = "\\"
    if _ESCAPED.search(receipts):
        return [content_line(row) + "\n" for row in rows]
    return [f'[{texts[code]},"{receipt}",{texts[birth]},{texts[status]},'
            f'{texts[scheduled]},{texts[paid]}'
            + (']\n' if kinds is None and sent is None and by is None
               else f',{texts[kinds]},{texts[sent]},{texts[by]}]\n')
            for code, receipt, birth, status, scheduled, paid, kinds, sent, by in rows]


def wording_of(publication) -> dict:
    return json.loads(publication.frozen_header)
