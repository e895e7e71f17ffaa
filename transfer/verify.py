"""Verifying a snapshot: a pure function over bytes, in the design's order.

size cap → parse → signature → payload type and origin → sequence → expiry →
body length and hash → entries sorted, unique, counted → content (transfer.content: the
header's programmes, statuses and times, every entry's status index and deficiency kinds).
Formats 1 and 2 both verify (``transfer.snapshot.ENTRY_FORMATS``).

Nothing here touches a file, the network or a database, and nothing here imports
SQLAlchemy, paramiko or the intranet: the public host runs this module alone.
Every refusal is a SnapshotError subclass naming the failed check.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from transfer import errors
from transfer.content import check_content
from transfer.envelope import pae
from transfer.keys import key_id
from transfer.snapshot import (
    PAYLOAD_TYPE,
    Parsed,
    decode_signature,
    entry_layout,
    parse,
    parse_time,
)
from transfer.table import SnapshotTable

DEFAULT_MAX_SIZE = 256 * 1024 * 1024


@dataclass(frozen=True)
class Origin:
    municipality: str
    environment: str

    @classmethod
    def parse(cls, text: str) -> "Origin":
        municipality, _, environment = text.partition(":")
        return cls(municipality, environment)

    @classmethod
    def checked(cls, text: str) -> "Origin":
        """A configured origin (the intranet's, a public host's, one typed on the command
        line): 団体コード:prod or 団体コード:test, else ValueError saying so. A misspelt one
        is refused where it is written, not by every snapshot that then never matches."""
        read = cls.parse(text)
        if not read.municipality or read.environment not in ("prod", "test"):
            raise ValueError(f"団体コード:prod または 団体コード:test です（{text!r}）")
        return read

    def as_header(self) -> dict[str, str]:
        return {"municipality": self.municipality, "environment": self.environment}


@dataclass(frozen=True)
class TrustPolicy:
    """What the public side believes: these keys, this many of them, for this origin."""

    keys: list[Ed25519PublicKey]
    origin: Origin
    threshold: int = 1
    max_size: int = DEFAULT_MAX_SIZE
    payload_type: str = PAYLOAD_TYPE
    _by_id: dict[str, Ed25519PublicKey] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("threshold must be at least 1")
        object.__setattr__(self, "_by_id", {key_id(k): k for k in self.keys})


@dataclass(frozen=True)
class VerifiedSnapshot:
    header: dict[str, Any]
    table: SnapshotTable
    signed_by: frozenset[str]

    @property
    def sequence(self) -> int:
        return int(self.header["sequence"])


def check_size(length: int, policy: TrustPolicy) -> None:
    if length > policy.max_size:
        raise errors.SnapshotTooLarge(f"{length} bytes is over the cap of {policy.max_size}")


def verify_snapshot(data: bytes, policy: TrustPolicy, *, last_sequence: int | None,
                    now: datetime | None) -> VerifiedSnapshot:
    """Every check, in order; raise the SnapshotError subclass of the first that fails.

    ``now=None`` skips only the expiry check, for re-loading a snapshot this host already
    accepted (a web worker starting up): the page itself refuses to show expired data.
    """
    check_size(len(data), policy)
    parsed = parse(data)
    signed_by = _check_signatures(parsed, policy)
    header = parsed.header
    _check_fields(header)
    if header["payload_type"] != policy.payload_type:
        raise errors.WrongPayloadType(f"payload type {header['payload_type']!r}")
    if header["origin"] != policy.origin.as_header():
        raise errors.WrongOrigin(f"snapshot is for {header['origin']}, this host trusts "
                                 f"{policy.origin.as_header()}")
    if last_sequence is not None and header["sequence"] <= last_sequence:
        raise errors.RollbackRefused(
            f"sequence {header['sequence']} is not greater than {last_sequence}")
    if now is not None and parse_time(header["expires_at"]) <= now:
        raise errors.SnapshotExpired(f"expired at {header['expires_at']}")
    _check_body(parsed.body, header)
    table = SnapshotTable(bytes(parsed.body), header["entry_count"],
                          entry_layout(header["format"]))
    _check_entries(table)
    check_content(header, table)
    return VerifiedSnapshot(header, table, frozenset(signed_by))


def _check_signatures(parsed: Parsed, policy: TrustPolicy) -> set[str]:
    """Count the distinct trusted keys whose signature over (payload type, header) holds.

    The key id selects which trusted key to check a signature with (as in TUF); whether
    it is trusted is decided only by the signature verifying. A signature naming a key
    this host does not trust is ignored, so a snapshot signed by an old and a new key
    still verifies where only the new one is trusted.
    """
    message = pae(policy.payload_type, parsed.header_bytes)
    signed_by: set[str] = set()
    for entry in parsed.signatures:
        keyid, signature = decode_signature(entry)
        public_key = policy._by_id.get(keyid)
        if public_key is None or keyid in signed_by:
            continue  # unknown key, or a key already counted: each key counts once
        try:
            public_key.verify(signature, message)
        except InvalidSignature:
            continue
        signed_by.add(keyid)
    if len(signed_by) < policy.threshold:
        raise errors.SignatureRejected(
            f"{len(signed_by)} valid signature(s) from trusted keys, {policy.threshold} needed")
    return signed_by


_FIELDS = {
    "format": int, "payload_type": str, "origin": dict, "sequence": int, "created_at": str,
    "expires_at": str, "lookup_key_id": str, "programmes": list, "statuses": list,
    "entry_size": int, "entry_count": int, "body_length": int, "body_sha256": str,
}


def _check_fields(header: dict[str, Any]) -> None:
    for name, kind in _FIELDS.items():
        value = header.get(name)
        # JSON true/false are ints to Python; a count or a sequence must be a real number.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise errors.MalformedSnapshot(f"header field {name!r} missing or not {kind.__name__}")
    if header["sequence"] < 1 or header["entry_count"] < 0:
        raise errors.MalformedSnapshot("sequence must be positive and entry_count not negative")
    # Every format this verifier knows (1 and 2): an older snapshot still verifies and
    # answers as before. The entry size is the format's, never a free choice.
    size = entry_layout(header["format"]).size
    if header["entry_size"] != size:
        raise errors.MalformedSnapshot(f"entry size {header['entry_size']} is not {size} "
                                       f"(format {header['format']})")
    if not 0 < len(header["statuses"]) <= 256:
        raise errors.MalformedSnapshot("status catalogue must have 1 to 256 statuses")


def _check_body(body: memoryview, header: dict[str, Any]) -> None:
    if len(body) != header["body_length"]:
        raise errors.BodyMismatch(f"body is {len(body)} bytes, header says {header['body_length']}")
    if hashlib.sha256(body).hexdigest() != header["body_sha256"]:
        raise errors.BodyMismatch("body SHA-256 differs from the header's")


def _check_entries(table: SnapshotTable) -> None:
    if table.body_length != table.count * table.entry_size:
        raise errors.InvalidEntries(f"{table.body_length} bytes do not hold {table.count} entries")
    problem = table.first_disorder()
    if problem is not None:
        raise errors.InvalidEntries(f"entry {problem} is not greater than the one before it "
                                    "(unsorted or duplicated)")
