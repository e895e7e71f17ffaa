"""Pure functions over the audit chain: how a record is hashed and how a chain is checked.

Each record's hash covers its own fields and the previous record's hash, so editing,
deleting or reordering any record breaks every link after it. Nothing here touches the
database; ``verify_chain`` takes any iterable of records in sequence order.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256

GENESIS_HASH = "0" * 64


# One encoder for every call: json.dumps with options builds a new one each time, which
# cost as much as the encoding when the full check hashes millions of records.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                              default=str)


def canonical_json(value) -> str:
    """JSON with sorted keys and no insignificant spaces: one text per value."""
    return _CANONICAL.encode(value)


def format_time(at: datetime) -> str:
    # Stored naive in UTC; microseconds always present so the text is the same after a
    # round trip through either database. isoformat is strftime's text for a naive
    # time, at a third of the cost.
    if at.tzinfo is None:
        return at.isoformat(timespec="microseconds") + "Z"
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_hash(record) -> str:
    fields = [record.seq, format_time(record.at), record.actor, record.actor_role,
              record.os_user, record.host, record.action, record.target, record.details,
              record.prev_hash]
    return sha256(_CANONICAL.encode(fields).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    count: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""
    # How many signed checkpoints the chain was held against (None: none were given).
    checkpoints: int | None = None
    # Where the check began when it began at a signed checkpoint instead of the start:
    # the checkpoint's record (its hash checked against the signature), else None.
    verified_from: int | None = None


# Records after a checkpoint are written after it was signed (it is taken under the head
# lock); a second's slack covers the clocks of two processes on one host.
CLOCK_SLACK = timedelta(seconds=1)


def anchor_is_signed(base_seq: int, base_hash: str, checkpoints) -> bool:
    """A chain starting after record 0 must start at a signed checkpoint."""
    return not base_seq or any(c.count == base_seq and c.head_hash == base_hash
                               for c in checkpoints)


def verify_chain(records, head_seq: int, head_hash: str, base_seq: int = 0,
                 base_hash: str = GENESIS_HASH, checkpoints=None) -> ChainVerdict:
    """Check every link; name the first record that breaks the chain and why.

    ``base_seq``/``base_hash``: where the chain starts when older records were archived
    and removed by retention (the anchor kept in the head row and in the audit itself).
    ``checkpoints``: signed checkpoints (already verified, any order) the chain must
    agree with — see ``intranet.audit.checkpoints`` for what each check catches.
    """
    signed = sorted(checkpoints or (), key=lambda c: c.count)
    if checkpoints is not None and not anchor_is_signed(base_seq, base_hash, signed):
        return broken(0, base_seq + 1, f"the retention anchor (record {base_seq}) is not "
                      "a signed checkpoint: records may have been deleted behind it")
    pending = [c for c in signed if c.count > base_seq]
    # Starting at a signed checkpoint (a retention anchor, or the screens' incremental
    # check): what follows it was written after it, so may not be dated before it.
    passed = next((c for c in reversed(signed)
                   if c.count == base_seq and c.head_hash == base_hash), None)
    expected_seq, prev = base_seq + 1, base_hash
    for record in records:
        if record.seq != expected_seq:
            return broken(expected_seq - 1, expected_seq, f"record {expected_seq} is missing")
        if record.prev_hash != prev:
            return broken(expected_seq - 1, record.seq, "does not link to the previous record")
        if record_hash(record) != record.hash:
            return broken(expected_seq - 1, record.seq, "contents do not match its hash")
        if passed is not None and record.at < passed.at - CLOCK_SLACK:
            return broken(expected_seq - 1, record.seq,
                           f"dated before the signed checkpoint of {format_time(passed.at)} "
                           f"that ends at record {passed.count}: appended afterwards")
        while pending and pending[0].count == record.seq:
            checkpoint = pending.pop(0)
            if checkpoint.head_hash != record.hash:
                return broken(expected_seq - 1, record.seq,
                               f"differs from the signed checkpoint of "
                               f"{format_time(checkpoint.at)}: the chain was recomputed or "
                               "records were inserted before it")
            passed = checkpoint
        prev = record.hash
        expected_seq += 1
    count = expected_seq - 1 - base_seq
    if pending:
        checkpoint = pending[-1]
        return broken(count, expected_seq,
                       f"the signed checkpoint of {format_time(checkpoint.at)} counts "
                       f"{checkpoint.count} records, the database ends at {expected_seq - 1}: "
                       "records were cut off and the head moved back")
    if head_seq != expected_seq - 1 or head_hash != prev:
        return broken(count, expected_seq,
                       f"chain head says it ends at {head_seq}, found {expected_seq - 1}")
    return ChainVerdict(ok=True, count=count, head_hash=prev,
                        checkpoints=None if checkpoints is None else len(signed))


def broken(count, seq, reason) -> ChainVerdict:
    """A failed check: ``count`` records before record ``seq`` intact, then ``reason``."""
    return ChainVerdict(ok=False, count=count, head_hash="", broken_seq=seq, reason=reason)
