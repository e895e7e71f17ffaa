"""Reading the few columns a snapshot needs from the intranet database, and signing them.

``build_publication`` is what the publication job signs: a request's frozen content
(intranet.publications.content), never live data. ``build_snapshot`` reads live data for
the operator's ``shinsei-transfer build`` (a snapshot made by hand by whoever holds the
signing key, outside the publication workflow).

Only programme, normalised receipt number, birth date (for the HMAC, where the programme
asks for it), status and the status's dates are selected; names, addresses, phones and
notes never are. Turning rows into signed bytes is ``transfer.build``'s job.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from intranet.applications.models import Application
from intranet.audit.checkpoints import Checkpoint
from intranet.programmes.models import Programme
from intranet.publications import content
from intranet.publications.models import Publication
from intranet.statuses.models import Status
from transfer.build import BuildResult, Row, header_fields, make_entries, sign_snapshot
from transfer.keys import SigningKey
from transfer.verify import Origin


def build_snapshot(dbsession: Session, *, signing_keys: list[SigningKey], lookup_secret: bytes,
                   origin: Origin, sequence: int, now: datetime,
                   valid_for: timedelta) -> BuildResult:
    programmes = dbsession.execute(select(Programme).order_by(Programme.code)).scalars().all()
    statuses = dbsession.execute(select(Status).order_by(Status.sort_order)).scalars().all()
    # Result rows unpack as the tuples make_entries reads.
    rows: Iterable[Row] = dbsession.execute(
        select(Application.programme_id, Application.receipt_number_normalised,
               Application.birth_date, Application.status_code,
               Application.scheduled_payment_on, Application.paid_on)
        .execution_options(yield_per=20_000))
    entries, skipped = make_entries(rows, programmes, statuses, lookup_secret)
    header = header_fields(programmes, statuses, lookup_secret=lookup_secret, origin=origin,
                           sequence=sequence, now=now, valid_for=valid_for)
    return sign_snapshot(entries, skipped, signing_keys=signing_keys, header=header)


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


def build_publication(dbsession: Session, publication: Publication, *,
                      signing_keys: list[SigningKey], lookup_secret: bytes, origin: Origin,
                      sequence: int, now: datetime, valid_for: timedelta,
                      checkpoint: Checkpoint | None = None) -> BuildResult:
    """Sign exactly what was approved: the publication's frozen rows and wording, after
    reproducing its digest from them. Live data is never read here."""
    if not publication.approved_digest or publication.approved_digest != publication.content_digest:
        raise ContentMismatch("the approval does not name this request's content digest")
    if content.digest(dbsession, publication) != publication.content_digest:
        raise ContentMismatch("the frozen rows no longer reproduce the approved digest")
    wording = content.wording_of(publication)
    programmes = [_FrozenProgramme(p["code"], p["code"], p["needs_birth_date"])
                  for p in wording["programmes"]]
    statuses = [_FrozenStatus(s["code"], "scheduled_payment_on" in s["dates"],
                              "paid_on" in s["dates"]) for s in wording["statuses"]]
    rows: Iterable[Any] = content.frozen_rows(dbsession, publication.id)
    entries, skipped = make_entries(rows, programmes, statuses, lookup_secret)  # type: ignore[arg-type]
    header = {**header_fields([], [], lookup_secret=lookup_secret, origin=origin,
                              sequence=sequence, now=now, valid_for=valid_for),
              **wording, "content_digest": publication.content_digest}
    if checkpoint is not None:
        # Every public host that accepts this snapshot keeps this witness of the audit.
        header["audit_checkpoint"] = checkpoint.as_dict()
    return sign_snapshot(entries, skipped, signing_keys=signing_keys, header=header)
