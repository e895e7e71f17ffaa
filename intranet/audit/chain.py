"""Pure functions over the audit chain: how a record is hashed and how a chain is checked.

Each record's hash covers its own fields and the previous record's hash, so editing,
deleting or reordering any record breaks every link after it. Nothing here touches the
database; ``verify_chain`` takes any iterable of records in sequence order.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

GENESIS_HASH = "0" * 64


def canonical_json(value) -> str:
    """JSON with sorted keys and no insignificant spaces: one text per value."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def format_time(at: datetime) -> str:
    # Stored naive in UTC; microseconds always present so the text is the same after a
    # round trip through either database.
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(record) -> str:
    fields = [
        record.seq,
        format_time(record.at),
        record.actor,
        record.actor_role,
        record.os_user,
        record.host,
        record.action,
        record.target,
        record.details,
        record.prev_hash,
    ]
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    count: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""


def verify_chain(records, head_seq: int, head_hash: str, base_seq: int = 0,
                 base_hash: str = GENESIS_HASH) -> ChainVerdict:
    """Check every link; name the first record that breaks the chain and why.

    ``base_seq``/``base_hash``: where the chain starts when older records were archived
    and removed by retention (the anchor kept in the head row and in the audit itself).
    """
    expected_seq, prev = base_seq + 1, base_hash
    for record in records:
        if record.seq != expected_seq:
            return _broken(expected_seq - 1, expected_seq, f"record {expected_seq} is missing")
        if record.prev_hash != prev:
            return _broken(expected_seq - 1, record.seq, "does not link to the previous record")
        if record_hash(record) != record.hash:
            return _broken(expected_seq - 1, record.seq, "contents do not match its hash")
        prev = record.hash
        expected_seq += 1
    count = expected_seq - 1 - base_seq
    if head_seq != expected_seq - 1 or head_hash != prev:
        return _broken(count, expected_seq,
                       f"chain head says it ends at {head_seq}, found {expected_seq - 1}")
    return ChainVerdict(ok=True, count=count, head_hash=prev)


def _broken(count, seq, reason):
    return ChainVerdict(ok=False, count=count, head_hash="", broken_seq=seq, reason=reason)
