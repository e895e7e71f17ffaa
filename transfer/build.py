"""Building and signing a snapshot from the intranet database (intranet host only).

Only three things per application are read: programme, normalised receipt number, birth
date (only when the programme asks for it, and only into the HMAC), and the status with
the dates that status needs. Names, addresses, phones, notes are never selected.
"""

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from intranet.applications.models import Application
from intranet.programmes.models import Programme
from intranet.statuses.models import RESIDENT_LANGUAGES, Status
from transfer.keys import SigningKey
from transfer.lookup import LookupHasher, lookup_key_id
from transfer.snapshot import (
    ENTRY,
    ENTRY_SIZE,
    FORMAT_VERSION,
    PAYLOAD_TYPE,
    assemble,
    canonical_json,
    day_number,
    format_time,
    pae,
)
from transfer.verify import Origin


@dataclass(frozen=True)
class BuildResult:
    data: bytes
    header: dict
    skipped: int  # applications that cannot be looked up (e.g. birth date missing)


def build_snapshot(dbsession, *, signing_keys: list[SigningKey], lookup_secret: bytes,
                   origin: Origin, sequence: int, now: datetime,
                   valid_for: timedelta) -> BuildResult:
    programmes = dbsession.execute(select(Programme).order_by(Programme.code)).scalars().all()
    statuses = dbsession.execute(select(Status).order_by(Status.sort_order)).scalars().all()
    entries, skipped = collect_entries(dbsession, programmes, statuses, lookup_secret)
    return sign_snapshot(entries, skipped, signing_keys=signing_keys,
                         header=_header_fields(programmes, statuses, lookup_secret, origin,
                                               sequence, now, valid_for))


def collect_entries(dbsession, programmes, statuses, lookup_secret):
    """Read the few columns a snapshot needs and turn them into sorted entries."""
    rows = dbsession.execute(
        select(Application.programme_id, Application.receipt_number_normalised,
               Application.birth_date, Application.status_code,
               Application.scheduled_payment_on, Application.paid_on)
        .execution_options(yield_per=20_000))
    return make_entries(rows, programmes, statuses, lookup_secret)


def make_entries(rows, programmes, statuses, lookup_secret):
    """(lookup key, status index, scheduled day, paid day) per row, sorted; and how many
    rows were left out because they cannot be looked up (birth date needed, none known)."""
    index = {status.code: i for i, status in enumerate(statuses)}
    needs = {s.code: (s.needs_scheduled_payment_date, s.needs_paid_date) for s in statuses}
    hashers = {p.id: (LookupHasher(lookup_secret, p.code), p.needs_birth_date)
               for p in programmes}
    entries, skipped = [], 0
    for programme_id, receipt, birth_date, status, scheduled, paid in rows:
        hasher, needs_birth_date = hashers[programme_id]
        if needs_birth_date and birth_date is None:
            skipped += 1
            continue
        # Receipt numbers are stored normalised; the hasher takes them as they are.
        key = hasher.key(receipt, birth_date if needs_birth_date else None)
        wants_scheduled, wants_paid = needs[status]
        entries.append((key, index[status], day_number(scheduled) if wants_scheduled else 0,
                        day_number(paid) if wants_paid else 0))
    entries.sort()
    return entries, skipped


def sign_snapshot(entries, skipped, *, signing_keys, header) -> BuildResult:
    body = b"".join(ENTRY.pack(*entry) for entry in entries)
    header = {**header, "entry_size": ENTRY_SIZE, "entry_count": len(entries),
              "body_length": len(body), "body_sha256": hashlib.sha256(body).hexdigest()}
    header_bytes = canonical_json(header)
    message = pae(header["payload_type"], header_bytes)
    signatures = [{"keyid": key.key_id, "sig": _b64(key.sign(message))} for key in signing_keys]
    return BuildResult(assemble(header_bytes, signatures, body), header, skipped)


def _header_fields(programmes, statuses, lookup_secret, origin, sequence, now, valid_for):
    return {
        "format": FORMAT_VERSION,
        "payload_type": PAYLOAD_TYPE,
        "origin": origin.as_header(),
        "sequence": sequence,
        "created_at": format_time(now),
        "expires_at": format_time(now + valid_for),
        "lookup_key_id": lookup_key_id(lookup_secret),
        "programmes": [_programme(p) for p in programmes],
        "statuses": [_status(s) for s in statuses],
    }


def _programme(programme):
    return {
        "code": programme.code,
        "name": {"ja": programme.name, "en": programme.name_en or programme.name},
        "needs_birth_date": programme.needs_birth_date,
        "lookup_opens_on": programme.lookup_opens_on and programme.lookup_opens_on.isoformat(),
        "lookup_closes_on": programme.lookup_closes_on and programme.lookup_closes_on.isoformat(),
    }


def _status(status):
    dates = [name for name, needed in (("scheduled_payment_on", status.needs_scheduled_payment_date),
                                       ("paid_on", status.needs_paid_date)) if needed]
    wording = {}
    for lang in RESIDENT_LANGUAGES:
        text = status.wording(lang)
        if text is not None:
            wording[lang] = {"label": text.resident_label, "explanation": text.explanation,
                             "next_step": text.next_step}
    return {"code": status.code, "final": status.is_final, "dates": dates, "wording": wording}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
