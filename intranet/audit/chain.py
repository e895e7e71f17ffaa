"""Pure functions over the audit chain: how a record is hashed and how a chain is checked.

Each record's hash covers its own fields and the previous record's hash, so editing,
deleting or reordering any record breaks every link after it. Nothing here touches the
database; ``verify_chain`` takes any iterable of records in sequence order, and ``walk``
checks one stretch of it (the full check splits a long chain into stretches walked by
worker processes: ``intranet.audit.ranges``).
"""

from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256
from json.encoder import encode_basestring
from operator import attrgetter
from types import SimpleNamespace

from transfer.checkpoints import format_time
from transfer.envelope import canonical_text

GENESIS_HASH = "0" * 64

# The hashed columns in hashing order, then the stored hash: the rows ``walk`` reads.
COLUMNS = ("seq", "at", "actor", "actor_role", "os_user", "host", "action", "target",
           "details", "prev_hash", "hash")
as_row = attrgetter(*COLUMNS)

def record_hash(record) -> str:
    """The hash every record stores: SHA-256 of the canonical JSON list of its fields."""
    fields = [record.seq, format_time(record.at), record.actor, record.actor_role,
              record.os_user, record.host, record.action, record.target, record.details,
              record.prev_hash]
    return sha256(canonical_text(fields).encode("utf-8")).hexdigest()


# The same canonical line written out for the types the database returns (an int, a
# naive time, eight strings), without building a list for the encoder: `encode_basestring`
# is the encoder's own string writer (ensure_ascii=False).
_LINE = '[%d,"%sZ",%s,%s,%s,%s,%s,%s,%s,%s]'
_ESCAPE = encode_basestring


def row_hash(row) -> str | None:
    """`record_hash` of a row in COLUMNS order, at half the cost; None for a row of any
    other shape (then `record_hash` judges it, so every row is judged exactly as before —
    tests hold the two equal over arbitrary text and times)."""
    seq, at, actor, role, os_user, host, action, target, details, prev_hash = row[:10]
    try:
        if seq.__class__ is not int or at.tzinfo is not None:   # a float, a bool: "3.0"
            return None
        text = at.isoformat()
        if not at.microsecond:
            text += ".000000"
        esc = _ESCAPE
        return sha256((_LINE % (seq, text, esc(actor), esc(role), esc(os_user), esc(host),
                                esc(action), esc(target), esc(details), esc(prev_hash))
                       ).encode("utf-8")).hexdigest()
    except (AttributeError, TypeError, ValueError):
        return None


def _reference_hash(row) -> str:
    """`record_hash` of a row in COLUMNS order, exactly as it hashes a record."""
    return record_hash(SimpleNamespace(**dict(zip(COLUMNS, row, strict=True))))


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


@dataclass(frozen=True)
class Walked:
    """Where a walk over a stretch of records ended: the next expected record, the last
    hash, the checkpoint last passed, and the first break (None: none). ``opened``: the
    walk began without the hash before it (a later range of a split chain) and its first
    record was there; ``first_prev`` is that record's link, for the caller to check."""

    expected_seq: int
    prev: str | None
    passed: object
    error: ChainVerdict | None = None
    opened: bool = False
    first_prev: str | None = None


def walk(rows, expected_seq: int, prev: str | None, pending, passed) -> Walked:
    """Check records (tuples in COLUMNS order) from ``expected_seq`` on: sequence, link,
    hash, dating after the last passed checkpoint, agreement with the ``pending`` signed
    checkpoints (in count order). Stops at the first break, naming it as the whole-chain
    check does. ``prev`` None: the first record's link is the caller's to check."""
    pending = list(pending)
    index, opened, first_prev = 0, False, None
    next_count = pending[0].count if pending else None
    limit = passed.at - CLOCK_SLACK if passed is not None else None
    for row in rows:
        seq, at, prev_hash, stored = row[0], row[1], row[9], row[10]
        if seq != expected_seq:
            return Walked(expected_seq, prev, passed, missing(expected_seq), opened, first_prev)
        if prev_hash != prev or prev is None:
            if prev is not None:
                return Walked(expected_seq, prev, passed, broken(
                    expected_seq - 1, seq, "does not link to the previous record"), opened,
                    first_prev)
            opened, first_prev = True, prev_hash
        if row_hash(row) != stored and _reference_hash(row) != stored:
            return Walked(expected_seq, prev, passed, broken(
                expected_seq - 1, seq, "contents do not match its hash"), opened, first_prev)
        if limit is not None and at < limit:
            return Walked(expected_seq, prev, passed, broken(
                expected_seq - 1, seq, f"dated before the signed checkpoint of "
                f"{format_time(passed.at)} that ends at record {passed.count}: appended "
                "afterwards"), opened, first_prev)
        while seq == next_count:
            checkpoint = pending[index]
            if checkpoint.head_hash != stored:
                return Walked(expected_seq, prev, passed, broken(
                    expected_seq - 1, seq, f"differs from the signed checkpoint of "
                    f"{format_time(checkpoint.at)}: the chain was recomputed or records "
                    "were inserted before it"), opened, first_prev)
            passed, limit = checkpoint, checkpoint.at - CLOCK_SLACK
            index += 1
            next_count = pending[index].count if index < len(pending) else None
        prev = stored
        expected_seq += 1
    return Walked(expected_seq, prev, passed, None, opened, first_prev)


def signed_in_order(checkpoints) -> list:
    """The signed checkpoints in count order (stable: equal counts keep their order)."""
    return sorted(checkpoints or (), key=lambda c: c.count)


def passed_at_start(signed, base_seq: int, base_hash: str):
    """Starting at a signed checkpoint (a retention anchor, or the screens' incremental
    check): what follows it was written after it, so may not be dated before it."""
    return next((c for c in reversed(signed)
                 if c.count == base_seq and c.head_hash == base_hash), None)


def unsigned_anchor(base_seq: int) -> ChainVerdict:
    return broken(0, base_seq + 1, f"the retention anchor (record {base_seq}) is not "
                  "a signed checkpoint: records may have been deleted behind it")


def verify_chain(records, head_seq: int, head_hash: str, base_seq: int = 0,
                 base_hash: str = GENESIS_HASH, checkpoints=None) -> ChainVerdict:
    """Check every link; name the first record that breaks the chain and why.

    ``base_seq``/``base_hash``: where the chain starts when older records were archived
    and removed by retention (the anchor kept in the head row and in the audit itself).
    ``checkpoints``: signed checkpoints (already verified, any order) the chain must
    agree with — see ``transfer.checkpoints`` for what each check catches.
    """
    return verify_rows(map(as_row, records), head_seq, head_hash, base_seq, base_hash,
                       checkpoints)


def verify_rows(rows, head_seq: int, head_hash: str, base_seq: int = 0,
                base_hash: str = GENESIS_HASH, checkpoints=None) -> ChainVerdict:
    """``verify_chain`` over rows already in COLUMNS order (as the database reads them)."""
    signed = signed_in_order(checkpoints)
    if checkpoints is not None and not anchor_is_signed(base_seq, base_hash, signed):
        return unsigned_anchor(base_seq)
    walked = walk(rows, base_seq + 1, base_hash,
                  [c for c in signed if c.count > base_seq],
                  passed_at_start(signed, base_seq, base_hash))
    if walked.error is not None:
        return walked.error
    return chain_end(walked, head_seq, head_hash, base_seq, signed, checkpoints is not None)


def chain_end(walked: Walked, head_seq: int, head_hash: str, base_seq: int, signed,
              with_checkpoints: bool) -> ChainVerdict:
    """After the last record: no signed checkpoint beyond it, and the head row agrees."""
    expected_seq, prev = walked.expected_seq, walked.prev
    count = expected_seq - 1 - base_seq
    pending = [c for c in signed if c.count > max(base_seq, expected_seq - 1)]
    if pending:
        checkpoint = pending[-1]
        return broken(count, expected_seq,
                      f"the signed checkpoint of {format_time(checkpoint.at)} counts "
                      f"{checkpoint.count} records, the database ends at {expected_seq - 1}: "
                      "records were cut off and the head moved back")
    if head_seq != expected_seq - 1 or head_hash != prev:
        return broken(count, expected_seq,
                      f"chain head says it ends at {head_seq}, found {expected_seq - 1}")
    return ChainVerdict(ok=True, count=count, head_hash=prev or "",
                        checkpoints=len(signed) if with_checkpoints else None)


def missing(expected_seq: int) -> ChainVerdict:
    return broken(expected_seq - 1, expected_seq, f"record {expected_seq} is missing")


def broken(count, seq, reason) -> ChainVerdict:
    """A failed check: ``count`` records before record ``seq`` intact, then ``reason``."""
    return ChainVerdict(ok=False, count=count, head_hash="", broken_seq=seq, reason=reason)
