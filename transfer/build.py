"""Turning rows into a signed snapshot: entries, header, signatures (no database here).

The caller (the intranet's publication job, or a test) reads the rows; this module only
sees, per application, programme id, normalised receipt number, birth date (only into the
HMAC, and only when the programme asks for it), status code and the two dates. Names,
addresses, phones and notes never reach it.
"""

import base64
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from transfer.keys import SigningKey
from transfer.lookup import LookupHasher, lookup_key_id
from transfer.snapshot import (
    ENTRY,
    ENTRY_SIZE,
    FORMAT_VERSION,
    PAYLOAD_TYPE,
    RESIDENT_LANGUAGES,
    assemble,
    canonical_json,
    day_number,
    format_time,
    pae,
)
from transfer.verify import Origin

# (lookup key, status index, scheduled payment day, paid day)
Entry = tuple[bytes, int, int, int]
# (programme id, normalised receipt number, birth date, status code, scheduled, paid)
Row = tuple[int, str, date | None, str, date | None, date | None]


class ProgrammeInfo(Protocol):
    """What the snapshot needs to know about a programme."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def name_en(self) -> str | None: ...
    @property
    def needs_birth_date(self) -> bool: ...
    @property
    def lookup_opens_on(self) -> date | None: ...
    @property
    def lookup_closes_on(self) -> date | None: ...


class WordingInfo(Protocol):
    @property
    def resident_label(self) -> str: ...
    @property
    def explanation(self) -> str: ...
    @property
    def next_step(self) -> str: ...


class StatusInfo(Protocol):
    """What the snapshot needs to know about a status."""

    @property
    def code(self) -> str: ...
    @property
    def is_final(self) -> bool: ...
    @property
    def needs_scheduled_payment_date(self) -> bool: ...
    @property
    def needs_paid_date(self) -> bool: ...
    def wording(self, lang: str) -> WordingInfo | None: ...


@dataclass(frozen=True)
class BuildResult:
    data: bytes
    header: dict[str, Any]
    skipped: int  # applications that cannot be looked up (e.g. birth date missing)


def make_entries(rows: Iterable[Row], programmes: Sequence[ProgrammeInfo],
                 statuses: Sequence[StatusInfo], lookup_secret: bytes) -> tuple[list[Entry], int]:
    """(lookup key, status index, scheduled day, paid day) per row, sorted; and how many
    rows were left out because they cannot be looked up (birth date needed, none known)."""
    index = {status.code: i for i, status in enumerate(statuses)}
    needs = {s.code: (s.needs_scheduled_payment_date, s.needs_paid_date) for s in statuses}
    hashers = {p.id: (LookupHasher(lookup_secret, p.code), p.needs_birth_date)
               for p in programmes}
    entries: list[Entry] = []
    skipped = 0
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


def sign_snapshot(entries: Sequence[Entry], skipped: int, *, signing_keys: Sequence[SigningKey],
                  header: dict[str, Any]) -> BuildResult:
    body = b"".join(ENTRY.pack(*entry) for entry in entries)
    header = {**header, "entry_size": ENTRY_SIZE, "entry_count": len(entries),
              "body_length": len(body), "body_sha256": hashlib.sha256(body).hexdigest()}
    header_bytes = canonical_json(header)
    message = pae(header["payload_type"], header_bytes)
    signatures = [{"keyid": key.key_id, "sig": _b64(key.sign(message))} for key in signing_keys]
    return BuildResult(assemble(header_bytes, signatures, body), header, skipped)


def header_fields(programmes: Sequence[ProgrammeInfo], statuses: Sequence[StatusInfo], *,
                  lookup_secret: bytes, origin: Origin, sequence: int, now: datetime,
                  valid_for: timedelta) -> dict[str, Any]:
    """Everything in the header except what describes the body (added when signing)."""
    return {
        "format": FORMAT_VERSION,
        "payload_type": PAYLOAD_TYPE,
        "origin": origin.as_header(),
        "sequence": sequence,
        "created_at": format_time(now),
        "expires_at": format_time(now + valid_for),
        "lookup_key_id": lookup_key_id(lookup_secret),
        "programmes": [programme_fields(p) for p in programmes],
        "statuses": [status_fields(s) for s in statuses],
    }


def programme_fields(programme: ProgrammeInfo) -> dict[str, Any]:
    """A programme as the header carries it (also what a publication request freezes)."""
    opens, closes = programme.lookup_opens_on, programme.lookup_closes_on
    return {
        "code": programme.code,
        "name": {"ja": programme.name, "en": programme.name_en or programme.name},
        "needs_birth_date": programme.needs_birth_date,
        "lookup_opens_on": opens and opens.isoformat(),
        "lookup_closes_on": closes and closes.isoformat(),
    }


def status_fields(status: StatusInfo) -> dict[str, Any]:
    """A status and its resident wording as the header carries it (frozen likewise)."""
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
