"""The snapshot's byte format: the only thing that crosses from the intranet to the public host.

    magic            8 bytes   b"SHSNAP\\x00\\x01"
    header_length    4 bytes   unsigned big-endian
    header           canonical JSON (UTF-8, sorted keys, no spaces)
    signatures_len   4 bytes   unsigned big-endian
    signatures       JSON {"signatures": [{"keyid": hex, "sig": base64}, ...]}
    body             entry_count fixed-size entries, sorted by lookup key, unique

Each signature is Ed25519 over ``transfer.envelope.pae(PAYLOAD_TYPE, header)``: the payload type is bound
into what is signed, so a signature over any other kind of file never verifies as a
snapshot. The body is bound through the header's length and SHA-256. See
docs/snapshot-format.md for the full specification.
"""

import base64
import json
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from transfer.envelope import canonical_json
from transfer.errors import MalformedSnapshot

MAGIC = b"SHSNAP\x00\x01"
# Format 2 added each entry's action details (docs/snapshot-format.md §4); a verifier reads
# both, so a mirror keeps answering from the format-1 snapshot it holds after an upgrade.
FORMAT_VERSION = 2
PAYLOAD_TYPE = "application/vnd.shinsei.status-snapshot.v1+json"
MAX_HEADER = 4 * 1024 * 1024
MAX_SIGNATURE_BLOCK = 64 * 1024
MAX_SIGNATURES = 16

# One entry: lookup key (16) | status index (u8) | scheduled payment day | paid day, and
# from format 2 on: deficiency kinds (u32, bit n = the programme's kind with "bit": n) |
# documents sent day | return-by day. Days are counted from EPOCH_DAY (0 = no date), which
# reaches the year 2179. Codes and day numbers only: never a text typed about one person.
ENTRY_V1 = struct.Struct(">16sBHH")
ENTRY = struct.Struct(">16sBHHIHH")
ENTRY_SIZE = ENTRY.size
ENTRY_FORMATS = {1: ENTRY_V1, 2: ENTRY}
# A programme's deficiency kinds fit the entry's 32-bit set.
MAX_DEFICIENCY_KINDS = 32
# How long a snapshot is valid when transfer.valid_hours is not set: a public host answers
# from it this long without a newer one (three days: a weekend without a publication).
VALID_HOURS = 72
EPOCH_DAY = date(2000, 1, 1)
# A snapshot's times (created_at, expires_at): UTC to the second.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_LENGTH = struct.Struct(">I")
# The languages whose resident wording a snapshot carries (the public page's languages).
RESIDENT_LANGUAGES = ("ja", "en", "ja-easy")
# Header keys added within format 1 for the residents' page — a status's "action_needed", a
# programme's "receipt_digits_only" and "progress" — are optional and read as false / none
# when absent, so a mirror of any age and a snapshot of any age still agree (checked in
# transfer.content; written by transfer.build and transfer.progress; docs/snapshot-format.md).


def entry_layout(format_version: object) -> struct.Struct:
    """The entry layout of a snapshot format; MalformedSnapshot for a format not known here."""
    layout = ENTRY_FORMATS.get(format_version) if isinstance(format_version, int) \
        and not isinstance(format_version, bool) else None
    if layout is None:
        raise MalformedSnapshot(f"format {format_version!r} is not supported")
    return layout


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except (TypeError, ValueError):
        raise MalformedSnapshot(f"bad timestamp {text!r}") from None


def day_number(day: date | None) -> int:
    return 0 if day is None else (day - EPOCH_DAY).days


def day_from_number(number: int) -> date | None:
    return None if number == 0 else EPOCH_DAY + timedelta(days=number)


@dataclass(frozen=True)
class Parsed:
    """The three parts of a snapshot file, not yet trusted."""

    header_bytes: bytes
    header: dict[str, Any]
    signatures: list[Any]
    body: memoryview


def assemble(header_bytes: bytes, signatures: list[dict[str, str]], body: bytes) -> bytes:
    block = canonical_json({"signatures": signatures})
    return b"".join([MAGIC, _LENGTH.pack(len(header_bytes)), header_bytes,
                     _LENGTH.pack(len(block)), block, body])


def parse(data: bytes) -> Parsed:
    """Split a file into header, signatures and body; check only the framing."""
    view = memoryview(data)
    if bytes(view[:8]) != MAGIC:
        raise MalformedSnapshot("not a shinsei snapshot (bad magic)")
    header_bytes, offset = _framed(view, 8, MAX_HEADER, "header")
    block, offset = _framed(view, offset, MAX_SIGNATURE_BLOCK, "signature block")
    header = _json(header_bytes, "header")
    signatures = _json(block, "signature block").get("signatures")
    if not isinstance(header, dict):
        raise MalformedSnapshot("header is not a JSON object")
    if not isinstance(signatures, list) or not 0 < len(signatures) <= MAX_SIGNATURES:
        raise MalformedSnapshot("signature block must hold 1 to 16 signatures")
    return Parsed(header_bytes, header, signatures, view[offset:])


def decode_signature(entry: Any) -> tuple[str, bytes]:
    if not isinstance(entry, dict) or not isinstance(entry.get("sig"), str):
        raise MalformedSnapshot("signature entry malformed")
    try:
        signature = base64.b64decode(entry["sig"], validate=True)
    except ValueError:
        raise MalformedSnapshot("signature is not base64") from None
    # Base64 can spell the same bytes several ways (unused trailing bits): only the
    # canonical spelling is accepted, so no byte of a snapshot is free to change.
    if base64.b64encode(signature).decode("ascii") != entry["sig"]:
        raise MalformedSnapshot("signature is not in canonical base64")
    return str(entry.get("keyid", "")), signature


def _framed(view: memoryview, offset: int, limit: int, name: str) -> tuple[bytes, int]:
    if len(view) < offset + 4:
        raise MalformedSnapshot(f"truncated before the {name} length")
    (length,) = _LENGTH.unpack(view[offset:offset + 4])
    assert isinstance(length, int)
    if length > limit:
        raise MalformedSnapshot(f"{name} length {length} over the limit {limit}")
    end = offset + 4 + length
    if len(view) < end:
        raise MalformedSnapshot(f"truncated inside the {name}")
    return bytes(view[offset + 4:end]), end


def _json(raw: bytes, name: str) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedSnapshot(f"{name} is not UTF-8 JSON") from None
    except RecursionError:   # "[[[[…" a few hundred thousand deep: refused, not a crash
        raise MalformedSnapshot(f"{name} is nested too deeply") from None
