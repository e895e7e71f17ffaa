"""Reading the few columns a snapshot needs from the intranet database, and signing them.

Only programme, normalised receipt number, birth date (for the HMAC, where the programme
asks for it), status and the status's dates are selected; names, addresses, phones and
notes never are. Turning rows into signed bytes is ``transfer.build``'s job.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from intranet.applications.models import Application
from intranet.programmes.models import Programme
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
