"""Reading the audit trail: the one chain check (CLI and screen alike), and its signed
checkpoints. The officer's search over it is ``intranet.oversight.search``."""

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from pathlib import Path

from sqlalchemy import select

from intranet.audit import ranges, truncation, writer
from intranet.audit.chain import (
    GENESIS_HASH,
    ChainVerdict,
    anchor_is_signed,
    broken,
    format_time,
    record_hash,
    verify_rows,
)
from intranet.audit.models import AuditHead, AuditRecord
from intranet.days import JST
from transfer import checkpoints
from transfer.checkpoints import Checkpoint


@dataclass(frozen=True)
class Witnesses:
    """What `verify` holds the chain's ends against beyond the signed checkpoints:
    ``retention_days`` (a pruned start must be older; None: not checked), the checkpoints a
    public host witnessed (None: none given) and the checkpoint file's name for messages."""

    retention_days: int | None = None
    witnessed: list | None = None
    where: str = ""

    @classmethod
    def from_settings(cls, settings, witnessed=None) -> "Witnesses":
        from intranet.settings import DEFAULTS

        days = settings.get("audit.retention_days", DEFAULTS["audit.retention_days"])
        return cls(int(days), witnessed,
                   str(settings.get("audit.checkpoint_file") or ""))


def verify(dbsession, checkpoints=None, *, workers: int = 1,
           min_range: int = ranges.MIN_RANGE, witnesses: Witnesses | None = None) -> ChainVerdict:
    """The chain, and (when given) its agreement with the signed checkpoints.

    ``workers`` > 1 (``audit verify``): a chain of at least two ``min_range`` records is
    split into ranges checked by that many worker processes (``intranet.audit.ranges``),
    with the same verdict and the same words as the check in this process.
    ``witnesses``: the truncation checks (``intranet.audit.truncation``) — the chain's
    start, the checkpoints it notes and those a public host kept.
    """
    witnesses = witnesses or Witnesses()
    head = dbsession.get(AuditHead, 1)
    refused = _ends_refused(dbsession, head, checkpoints, witnesses)
    if refused is not None:
        return refused
    checkpoints = truncation.held_against(checkpoints, witnesses.witnessed)
    if head is not None and workers > 1 and head.seq - head.base_seq >= 2 * min_range:
        return ranges.verify(dbsession.get_bind().url, checkpoints, workers, min_range)
    with _records(dbsession, 0) as rows:
        if head is None:
            return verify_rows(rows, 0, "", checkpoints=checkpoints)
        return verify_rows(rows, head.seq, head.hash, head.base_seq, head.base_hash,
                           checkpoints=checkpoints)


def _ends_refused(dbsession, head, signed, witnesses: Witnesses) -> ChainVerdict | None:
    """The first truncation check that fails, else None (read before the walk: a few
    indexed rows, so the screens make them too)."""
    base_seq, base_hash = (head.base_seq, head.base_hash) if head else (0, GENESIS_HASH)
    return (truncation.check_witnessed(signed, witnesses.witnessed, witnesses.where)
            or truncation.check_start(dbsession, base_seq, base_hash,
                                      truncation.held_against(signed, witnesses.witnessed),
                                      witnesses.retention_days, writer.utcnow())
            or truncation.check_noted(dbsession, base_seq, signed, witnesses.where))


def _records(dbsession, after: int):
    """The records after ``after`` in order, streamed (a server-side cursor on PostgreSQL:
    the chain may be millions of records) as plain rows in the order the check reads
    them, closed when the check ends (a broken chain stops early)."""
    return ranges.streamed(dbsession.connection(), ranges.records_query(after, None))


def verify_since_checkpoint(dbsession, signed, witnesses: Witnesses | None = None) -> ChainVerdict:
    """The screens' check: from the last signed checkpoint to the head, not the whole chain.

    A page view then reads the records written since the transfer job last signed the
    head (at most a day's worth), not millions. What it still catches: any record after
    the checkpoint edited, deleted, inserted or back-dated; the chain recomputed (the
    record at the checkpoint no longer has the signed hash, or its contents no longer
    match it); the head moved back behind a checkpoint. Records before the checkpoint
    were fixed by its signature when it was taken; the full `audit verify` re-reads them.
    Without signed checkpoints (none configured, or none inside the chain) this is the
    full check.
    """
    witnesses = witnesses or Witnesses()
    head = dbsession.get(AuditHead, 1)
    if head is None or not signed:
        return verify(dbsession, signed, witnesses=witnesses)
    refused = _ends_refused(dbsession, head, signed, witnesses)
    if refused is not None:
        return refused
    ahead = [c for c in signed if c.count > head.seq]
    if ahead:    # a head behind a signed checkpoint: cut back, however the rest looks
        last = ahead[-1]
        return broken(head.seq - head.base_seq, head.seq + 1,
                       f"the signed checkpoint of {format_time(last.at)} counts "
                       f"{last.count} records, the database ends at {head.seq}: records "
                       "were cut off and the head moved back")
    if not anchor_is_signed(head.base_seq, head.base_hash, signed):
        return verify(dbsession, signed, witnesses=witnesses)   # names the unsigned anchor
    inside = [c for c in signed if head.base_seq < c.count]
    if not inside:
        return verify(dbsession, signed, witnesses=witnesses)
    start = max(inside, key=lambda c: (c.count, c.at))
    at_start = dbsession.get(AuditRecord, start.count)
    if at_start is None:
        return broken(start.count - 1 - head.base_seq, start.count,
                       f"record {start.count} is missing")
    if at_start.hash != start.head_hash or record_hash(at_start) != at_start.hash:
        return broken(start.count - 1 - head.base_seq, start.count,
                       f"differs from the signed checkpoint of {format_time(start.at)}: "
                       "the chain was recomputed or the record edited")
    with _records(dbsession, start.count) as rows:
        verdict = verify_rows(rows, head.seq, head.hash, start.count, start.head_hash,
                              [c for c in signed if c.count >= start.count])
    # Counted from the chain's start: the records up to the checkpoint are the signed ones.
    before = start.count - head.base_seq
    return replace(verdict, count=verdict.count + before, verified_from=start.count)


def screen_verdict(dbsession, settings) -> tuple[ChainVerdict, str | None]:
    """The audit and transfer screens' chain state, and why the signed checkpoints could
    not be read (then the whole chain is checked without them)."""
    try:
        signed = checkpoints.from_settings(settings)
    except (checkpoints.CheckpointError, OSError, ValueError) as error:
        return verify(dbsession), str(error)
    return verify_since_checkpoint(dbsession, signed, Witnesses.from_settings(settings)), None


def take_checkpoint(dbsession, actor, signing_key, path: Path | None) -> Checkpoint:
    """Sign the chain's head (under its lock, so nothing is half-written) and keep the
    signed checkpoint in the transfer user's file and, for the officer's screen, in the
    chain itself."""
    head = head_to_sign(dbsession)
    checkpoint = checkpoints.sign(head.count, head.head_hash, head.at, signing_key)
    if path is not None:
        checkpoints.append_to_file(path, checkpoint)
    note_checkpoint(dbsession, actor, checkpoint)
    return checkpoint


def head_to_sign(dbsession) -> Checkpoint:
    """The chain's head as a checkpoint not yet signed, read under the head lock (nothing is
    half-written). The publication's builder hands it to the signer, which has no database."""
    head = dbsession.execute(select(AuditHead).where(AuditHead.id == 1)
                             .with_for_update()).scalar_one_or_none()
    seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    return Checkpoint(seq, head_hash, writer.utcnow())


def note_checkpoint(dbsession, actor, checkpoint: Checkpoint) -> None:
    """A signed checkpoint noted in the chain, for the officer's screen."""
    writer.append(dbsession, actor, "audit.checkpoint", f"audit:{checkpoint.count}",
                  **checkpoint.as_dict())


def last_checkpoint(dbsession) -> dict | None:
    """The latest checkpoint noted in the chain, for the screen (the signed file and the
    public hosts' activation logs are what it is compared with)."""
    record = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "audit.checkpoint").order_by(AuditRecord.seq.desc())
        .limit(1)).scalar_one_or_none()
    return None if record is None else json.loads(record.details)


def utc_start_of(day):
    """Midnight of a Japan date, as the naive UTC the database stores."""
    return datetime.combine(day, time.min, tzinfo=JST).astimezone(UTC).replace(tzinfo=None)
