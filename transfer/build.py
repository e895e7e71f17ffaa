"""Turning rows into a signed snapshot: entries, header, signatures (no database here).

The caller (the intranet's publication job, or a test) reads the rows; this module only
sees, per application, programme id, normalised receipt number, birth date (only into the
HMAC, and only when the programme asks for it), status code, the two payment dates and
the action details — deficiency kinds as a bit set, documents sent and return-by dates.
Names, addresses, phones, notes and the internal 不備内容 text never reach it.
"""

import base64
import hashlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from transfer.envelope import canonical_json, pae
from transfer.keys import SigningKey
from transfer.lookup import LookupHasher, lookup_key_id
from transfer.snapshot import (
    ENTRY,
    ENTRY_V1,
    FORMAT_VERSION,
    MAX_DEFICIENCY_KINDS,
    PAYLOAD_TYPE,
    RESIDENT_LANGUAGES,
    assemble,
    day_number,
    entry_layout,
    format_time,
)
from transfer.verify import Origin

# Below this many rows forking costs more than it saves.
PARALLEL_FROM = 100_000
# (lookup key, status index, scheduled payment day, paid day[, kinds, sent day, return-by day])
Entry = tuple[int | bytes, ...]
# (programme id, normalised receipt number, birth date, status code, scheduled, paid,
#  deficiency kind bits, documents sent on, return by)
Row = tuple[int, str, date | None, str, date | None, date | None, int | None, date | None,
            date | None]


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


class Packer:
    """Rows to packed entries: the per-row work, the same in one process or several."""

    def __init__(self, programmes: Sequence[ProgrammeInfo], statuses: Sequence[StatusInfo],
                 lookup_secret: bytes) -> None:
        self.hashers = {p.id: (LookupHasher(lookup_secret, p.code), p.needs_birth_date)
                        for p in programmes}
        # The action details go out only with a status that asks the resident to act.
        self.statuses = {s.code: (i, s.needs_scheduled_payment_date, s.needs_paid_date,
                                  bool(getattr(s, "needs_resident_action", False)))
                         for i, s in enumerate(statuses)}

    def pack(self, rows: Iterable[Row]) -> tuple[list[bytes], int]:
        """Sorted packed entries, and how many rows were left out because they cannot be
        looked up (birth date needed, none known)."""
        hashers, statuses, pack = self.hashers, self.statuses, ENTRY.pack
        days: dict[date | None, int] = {None: 0}  # a million rows share a few hundred dates
        packed: list[bytes] = []
        append = packed.append
        skipped = 0
        for programme_id, receipt, birth_date, status, scheduled, paid, kinds, sent, by in rows:
            hasher, needs_birth_date = hashers[programme_id]
            if needs_birth_date and birth_date is None:
                skipped += 1
                continue
            # Receipt numbers are stored normalised; the hasher takes them as they are.
            key = hasher.key(receipt, birth_date if needs_birth_date else None)
            index, wants_scheduled, wants_paid, wants_action = statuses[status]
            scheduled_day = paid_day = kind_bits = sent_day = by_day = 0
            if wants_scheduled:
                scheduled_day = days.get(scheduled, -1)
                if scheduled_day < 0:
                    scheduled_day = days[scheduled] = day_number(scheduled)
            if wants_paid:
                paid_day = days.get(paid, -1)
                if paid_day < 0:
                    paid_day = days[paid] = day_number(paid)
            if wants_action:
                kind_bits = kinds or 0
                if kind_bits >> MAX_DEFICIENCY_KINDS:
                    raise ValueError(f"deficiency kind bits {kind_bits:#x} past the entry's set")
                sent_day, by_day = day_number(sent), day_number(by)
            append(pack(key, index, scheduled_day, paid_day, kind_bits, sent_day, by_day))
        # The key leads each entry, so sorting the packed bytes sorts by key.
        packed.sort()
        return packed, skipped


# What forked workers read: set just before the pool forks, never pickled.
_shared: tuple[Packer, Sequence[Row]] | None = None


def _pack_slice(bounds: tuple[int, int]) -> tuple[bytes, int]:
    assert _shared is not None
    packer, rows = _shared
    packed, skipped = packer.pack(rows[bounds[0]:bounds[1]])
    return b"".join(packed), skipped


def make_body(rows: Iterable[Row], programmes: Sequence[ProgrammeInfo],
              statuses: Sequence[StatusInfo], lookup_secret: bytes,
              workers: int | None = None) -> tuple[bytes, int, int]:
    """The snapshot body (entries sorted by lookup key), its entry count, and the rows left out.

    Hashing is CPU-bound Python that holds the GIL, so a large build is split across
    processes: forked workers read their slice of the rows from the memory they inherit
    (pickling a million rows costs as much as hashing them) and send back packed, sorted
    bytes; one sort of those sorted runs (timsort merges runs) makes the body.
    """
    global _shared
    packer = Packer(programmes, statuses, lookup_secret)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        packed, skipped = packer.pack(rows)
        return b"".join(packed), len(packed), skipped
    materialised = rows if isinstance(rows, Sequence) else list(rows)
    if len(materialised) < PARALLEL_FROM:
        packed, skipped = packer.pack(materialised)
        return b"".join(packed), len(packed), skipped
    step = -(-len(materialised) // workers)
    bounds = [(start, start + step) for start in range(0, len(materialised), step)]
    _shared = (packer, materialised)
    try:
        parts = _map_in_forks(workers, bounds)
    finally:
        _shared = None
    size = ENTRY.size
    merged = [part[i:i + size] for part, _ in parts for i in range(0, len(part), size)]
    merged.sort()
    return b"".join(merged), len(merged), sum(skipped for _, skipped in parts)


def _map_in_forks(workers: int, bounds):
    """``_pack_slice`` over ``bounds`` in forked workers that end when the work is done
    (close + join: each takes its end-of-work sentinel). ``with Pool`` ends by terminate(),
    which takes the task queue's lock for good and leaves a worker still waiting for it to
    SIGTERM; a fork inherits the parent's Python SIGTERM handler, and one that did not end
    the worker hung a test run for 35 minutes. The workers' SIGTERM is the default, too."""
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_plain_sigterm)
    try:
        parts = pool.map(_pack_slice, bounds)
        pool.close()
        return parts
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def _plain_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def oldest_format(body: bytes) -> tuple[bytes, int]:
    """A ``make_body`` body in the oldest format that holds it, and that format's number:
    format 1 while no entry carries action details (every byte past the first 21 of each
    entry is zero), else format 2 as it is.

    Why: a public host not yet upgraded reads format 1 only; it keeps taking every
    publication until staff first set action details, so the intranet host may be upgraded
    before the public hosts (docs/snapshot-format.md). Checked a byte column at a time and
    cut a byte column at a time too (strided slices: C speed for millions of entries, three
    times the speed of a slice per entry)."""
    size, kept = ENTRY.size, ENTRY_V1.size
    if any(body[column::size].strip(b"\0") for column in range(kept, size)):
        return body, FORMAT_VERSION
    cut = bytearray(len(body) // size * kept)
    for column in range(kept):
        cut[column::kept] = body[column::size]
    return bytes(cut), 1


def sign_snapshot(entries: Sequence[Entry], skipped: int, *, signing_keys: Sequence[SigningKey],
                  header: dict[str, Any]) -> BuildResult:
    """Sign entries given as tuples (tests and tools; the job builds through make_body), in
    the layout of the header's format: a format-2 entry given without its action details
    gets none."""
    layout = entry_layout(header["format"])
    width = len(layout.unpack(bytes(layout.size)))
    body = b"".join(layout.pack(*entry, *(0,) * (width - len(entry))) for entry in entries)
    return sign_body(body, len(entries), skipped, signing_keys=signing_keys, header=header)


def sign_body(body: bytes, entry_count: int, skipped: int, *,
              signing_keys: Sequence[SigningKey], header: dict[str, Any]) -> BuildResult:
    header = {**header, "entry_size": entry_layout(header["format"]).size,
              "entry_count": entry_count,
              "body_length": len(body), "body_sha256": hashlib.sha256(body).hexdigest()}
    header_bytes = canonical_json(header)
    message = pae(header["payload_type"], header_bytes)
    signatures = [{"keyid": key.key_id, "sig": _b64(key.sign(message))} for key in signing_keys]
    return BuildResult(assemble(header_bytes, signatures, body), header, skipped)


@dataclass(frozen=True)
class LookupEnded:
    """A programme whose lookup has ended: the day it ended and whom residents contact."""

    on: date
    contact: str = ""


def header_fields(programmes: Sequence[ProgrammeInfo], statuses: Sequence[StatusInfo], *,
                  lookup_secret: bytes, origin: Origin, sequence: int, now: datetime,
                  valid_for: timedelta,
                  ended: Mapping[str, LookupEnded] | None = None) -> dict[str, Any]:
    """Everything in the header except what describes the body (added when signing).

    ``ended``: programme code → LookupEnded, for programmes whose lookup has ended (their
    entries are no longer in the body)."""
    ended = ended or {}
    return {
        "format": FORMAT_VERSION,
        "payload_type": PAYLOAD_TYPE,
        "origin": origin.as_header(),
        "sequence": sequence,
        "created_at": format_time(now),
        "expires_at": format_time(now + valid_for),
        "lookup_key_id": lookup_key_id(lookup_secret),
        "programmes": [programme_fields(p, ended.get(p.code)) for p in programmes],
        "statuses": [status_fields(s) for s in statuses],
    }


def programme_fields(programme: ProgrammeInfo, ended: "LookupEnded | None" = None) -> dict[str, Any]:
    """A programme as the header carries it (also what a publication request freezes)."""
    opens, closes = programme.lookup_opens_on, programme.lookup_closes_on
    fields: dict[str, Any] = {
        "code": programme.code,
        "name": programme_names(programme),
        "needs_birth_date": programme.needs_birth_date,
        "lookup_opens_on": opens and opens.isoformat(),
        "lookup_closes_on": closes and closes.isoformat(),
    }
    if ended is not None:
        # Added in format 1 without a version bump: a mirror that does not know these keys
        # still reads the period as over, because the closing day moves to the end.
        if closes is None or closes > ended.on:
            fields["lookup_closes_on"] = ended.on.isoformat()
        fields["lookup_ended"] = True
        fields["contact"] = ended.contact
    return fields


def programme_names(programme: ProgrammeInfo) -> dict[str, str]:
    """Per language, as typed; やさしい日本語 (with furigana markup) only when staff gave one —
    readers show the Japanese name for a language the header lacks (as older snapshots do)."""
    names = {"ja": programme.name, "en": programme.name_en or programme.name}
    easy = getattr(programme, "name_easy", "")   # added in format 1 without a version change
    if easy:
        names["ja-easy"] = easy
    return names


class KindInfo(Protocol):
    """A deficiency kind (不備の種類) of a programme, as the snapshot needs it."""

    @property
    def code(self) -> str: ...
    @property
    def bit(self) -> int: ...
    def resident_text(self, lang: str) -> str: ...


def action_fields(kinds: Sequence[KindInfo], return_to: Mapping[str, str],
                  enclose: Mapping[str, str]) -> dict[str, Any]:
    """A programme's action details as the header carries them (format 2): its deficiency
    kinds — the code and bit an entry names, and what a resident reads, per language — and
    where to send the papers and what to enclose, per language (empty texts left out;
    readers show Japanese for a language the header lacks)."""
    def texts(per_language: Callable[[str], str]) -> dict[str, str]:
        return {lang: text for lang in RESIDENT_LANGUAGES if (text := per_language(lang))}

    fields: dict[str, Any] = {"deficiency_kinds": [
        {"code": kind.code, "bit": kind.bit, "wording": texts(kind.resident_text)}
        for kind in kinds]}
    for name, given in (("return_to", return_to), ("enclose", enclose)):
        if given.get("ja"):   # without a Japanese text there is nothing to fall back on
            fields[name] = {lang: given[lang] for lang in RESIDENT_LANGUAGES if given.get(lang)}
    return fields


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
    return {"code": status.code, "final": status.is_final, "dates": dates, "wording": wording,
            # Added in format 1 without a version change: readers treat it as false if absent.
            "action_needed": bool(getattr(status, "needs_resident_action", False))}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
