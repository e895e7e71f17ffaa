"""Reading the few columns a snapshot needs from the intranet database.

``table_of_publication`` is what the publication's builder hands the signer: a request's
frozen content (intranet.publications.content), never live data, and unsigned.
``build_snapshot`` reads live data and signs it, for the operator's ``shinsei-transfer
build`` (a snapshot made by hand by whoever holds the signing key, outside the publication
workflow).

Only programme, normalised receipt number, birth date (for the HMAC, where the programme
asks for it), status, the status's dates and the action details (kind bits and two dates)
are selected; names, addresses, phones, notes and the 不備内容 text never are. Turning
rows into signed bytes is ``transfer.build``'s job.
"""

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intranet.applications.models import Application
from intranet.programmes import lifecycle
from intranet.programmes.models import Programme, all_programmes
from intranet.publications import content, incremental
from intranet.publications.models import Publication, PublicationRow
from intranet.statuses.models import Status
from transfer import build_cache
from transfer.build import (
    BuildResult,
    Packer,
    Row,
    header_fields,
    make_body,
    oldest_format,
    sign_body,
)
from transfer.keys import SigningKey
from transfer.progress import ProgrammeTally
from transfer.snapshot import ENTRY
from transfer.verify import Origin

log = logging.getLogger(__name__)


def build_snapshot(dbsession: Session, *, signing_keys: list[SigningKey], lookup_secret: bytes,
                   origin: Origin, sequence: int, now: datetime,
                   valid_for: timedelta) -> BuildResult:
    programmes = all_programmes(dbsession, by=Programme.code)
    statuses = dbsession.execute(select(Status).order_by(Status.sort_order)).scalars().all()
    # Result rows unpack as the tuples make_body reads. A programme whose lookup has ended
    # carries no entries, only "ended" and a contact (content.header_wording).
    rows: Iterable[Row] = dbsession.execute(
        select(Application.programme_id, Application.receipt_number_normalised,
               Application.birth_date, Application.status_code,
               Application.scheduled_payment_on, Application.paid_on,
               Application.deficiency_kinds, Application.documents_sent_on,
               Application.return_by)
        .where(Application.programme_id.in_(lifecycle.still_looked_up()))
        .execution_options(yield_per=20_000))
    tally = ProgrammeTally(rows, statuses)   # counts for residents, on the rows' way through
    body, count, skipped = make_body(tally, programmes, statuses, lookup_secret)
    body, version = oldest_format(body)   # public hosts not yet upgraded still read it
    # The header as a publication request freezes it: one definition for both ways.
    header = {**header_fields([], [], lookup_secret=lookup_secret, origin=origin,
                              sequence=sequence, now=now, valid_for=valid_for),
              **content.header_wording(dbsession), "format": version}
    tally.add_to(header, programmes)
    return sign_body(body, count, skipped, signing_keys=signing_keys, header=header)


class ContentMismatch(Exception):
    """The frozen content no longer reproduces the digest that was approved."""


@dataclass(frozen=True)
class _FrozenProgramme:
    id: str            # the code stands in for the id: frozen rows name programmes by code
    code: str
    needs_birth_date: bool


@dataclass(frozen=True)
class _FrozenStatus:
    code: str
    needs_scheduled_payment_date: bool
    needs_paid_date: bool
    needs_resident_action: bool = False


@dataclass(frozen=True)
class UnsignedTable:
    """A publication's table before signing: what the builder hands the signer."""

    header: dict[str, Any]
    body: bytes
    entry_count: int
    skipped: int


def table_of_publication(dbsession: Session, publication: Publication, *, lookup_secret: bytes,
                         origin: Origin, sequence: int, now: datetime,
                         valid_for: timedelta, cache: Path | None = None) -> UnsignedTable:
    """Exactly what was approved: the publication's frozen rows and wording, after
    reproducing its digest from them. Live data is never read here; no key signs here.

    ``cache``: the builder's folder (``transfer.build_cache``): the last table it built is
    the start when it provably is this one's base, and this table is kept for the next. A
    table the builder made for this very digest (``prepare``, while the request waited for
    its approval) is taken as it is: no frozen row is read again."""
    if not publication.approved_digest or publication.approved_digest != publication.content_digest:
        raise ContentMismatch("the approval does not name this request's content digest")
    wording = content.wording_of(publication)
    body, skipped, tally = _entries(dbsession, publication, wording, lookup_secret, cache)
    count = len(body) // ENTRY.size
    body, version = oldest_format(body)   # public hosts not yet upgraded still read it
    header = {**header_fields([], [], lookup_secret=lookup_secret, origin=origin,
                              sequence=sequence, now=now, valid_for=valid_for),
              **wording, "content_digest": publication.content_digest, "format": version}
    tally.add_to(header, _programmes(wording))
    return UnsignedTable(header, body, count, skipped)


def prepare(dbsession: Session, publication: Publication, *, lookup_secret: bytes,
            cache: Path) -> None:
    """A request's table, made while it waits for its approval and kept in the builder's
    cache under the request's content digest; ContentMismatch if its frozen rows no longer
    reproduce that digest (nothing is kept then).

    Why: reading and checking a million frozen rows is most of the time from the approving
    click to the resident's answer. The approval names the same digest, so the table made
    here is exactly the approved content: the cache's tag (a key only this builder holds)
    proves the builder made it, after the rows reproduced that digest."""
    _entries(dbsession, publication, content.wording_of(publication), lookup_secret, cache)


def _entries(dbsession: Session, publication: Publication, wording: dict[str, Any],
             lookup_secret: bytes, cache: Path | None) -> tuple[bytes, int, ProgrammeTally]:
    """The body (widest format, sorted), rows left out and residents' progress figures of
    the publication's frozen content, the table kept in ``cache`` for the next build."""
    statuses = _statuses(wording)
    parameters = build_cache.parameters(wording)
    last = None if cache is None else build_cache.load(cache, lookup_secret)
    if last is not None and last.content_digest == publication.content_digest \
            and last.parameters == parameters and _rows_all_there(dbsession, publication):
        log.info("publication %s: its table was made before (publication %s, the same "
                 "content digest); no frozen row read", publication.id, last.publication)
        if cache is not None and last.publication != publication.id:
            # The next build's difference is read against this publication: named as its base.
            _keep(cache, lookup_secret, replace(last, publication=publication.id))
        return last.body, last.skipped, ProgrammeTally.of_counts(last.tally, statuses)
    lines: list[str] | None = [] if last is not None else None
    # One read of the frozen rows: their digest first, and only if it matches are they hashed.
    found, rows = content.read_frozen(dbsession, publication, lines_into=lines)
    if found != publication.content_digest:
        raise ContentMismatch("the frozen rows no longer reproduce the approved digest")
    programmes = _programmes(wording)
    built = None
    if last is not None and lines is not None:
        built = _from_last(dbsession, publication, last, parameters, rows, lines,
                           Packer(programmes, statuses, lookup_secret), statuses)  # type: ignore[arg-type]
    if built is None:
        tally = ProgrammeTally(rows, statuses)   # residents' progress figures, from the frozen rows
        body, _count, skipped = make_body(tally, programmes, statuses, lookup_secret)  # type: ignore[arg-type]
    else:
        body, skipped, tally = built
    if cache is not None:
        _keep(cache, lookup_secret, build_cache.LastBuild(
            publication.id, publication.content_digest, parameters, body, skipped,
            tally.as_counts()))
    return body, skipped, tally


def _rows_all_there(dbsession: Session, publication: Publication) -> bool:
    """As many frozen rows as the request froze: a row deleted since (a programme disposed
    of while the request waited cuts its rows) sends the build to read them, and so to
    refuse, as before there was a prepared table — the deleted rows are never published
    from it. One count by the primary key's first column. (A row edited in place is the
    recorder's to find: recorder._frozen_rows_checked.)"""
    return dbsession.execute(select(func.count()).select_from(PublicationRow).where(
        PublicationRow.publication_id == publication.id)).scalar_one() == publication.content_rows


def _programmes(wording: dict[str, Any]) -> list[_FrozenProgramme]:
    return [_FrozenProgramme(p["code"], p["code"], p["needs_birth_date"])
            for p in wording["programmes"]]


def _statuses(wording: dict[str, Any]) -> list[_FrozenStatus]:
    return [_FrozenStatus(s["code"], "scheduled_payment_on" in s["dates"],
                          "paid_on" in s["dates"], bool(s.get("action_needed")))
            for s in wording["statuses"]]


def _from_last(dbsession: Session, publication: Publication, last: build_cache.LastBuild,
               parameters: str, rows: list, lines: list[str], packer: Packer,
               statuses: list[_FrozenStatus]) -> tuple[bytes, int, ProgrammeTally] | None:
    """The table from the last build and what changed since, or None (logged: why) for a
    full build."""
    if last.parameters != parameters:
        log.info("publication %s built in full: its programmes or statuses are not "
                 "those its last table was built for", publication.id)
        return None
    try:
        return incremental.rebuild(dbsession, publication, last, rows, lines, packer, statuses)
    except incremental.NotIncremental as why:
        log.info("publication %s built in full: %s", publication.id, why)
        return None


def _keep(cache: Path, lookup_secret: bytes, last: build_cache.LastBuild) -> None:
    """The table for the next build to start from. Only a speed-up: a cache that cannot be
    written (a full disk, a wrong mode) is logged and removed, and the publication goes on."""
    try:
        build_cache.save(cache, lookup_secret, last)
    except OSError as error:
        log.warning("builder cache not written in %s (%s): the next build is a full one",
                    cache, error)
        with contextlib.suppress(OSError):
            build_cache.forget(cache)
