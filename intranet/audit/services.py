"""Reading the audit trail: filters, and the one chain check (CLI and screen alike)."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from intranet.audit import checkpoints, writer
from intranet.audit.chain import GENESIS_HASH, ChainVerdict, verify_chain
from intranet.audit.checkpoints import Checkpoint
from intranet.audit.models import AuditHead, AuditRecord
from intranet.web import JST


def verify(dbsession, checkpoints=None) -> ChainVerdict:
    """The chain, and (when given) its agreement with the signed checkpoints."""
    head = dbsession.get(AuditHead, 1)
    # Streamed (a server-side cursor on PostgreSQL): the chain may be millions of records.
    result = dbsession.execute(
        select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=2000)
    )
    try:
        if head is None:
            return verify_chain(result.scalars(), 0, "", checkpoints=checkpoints)
        return verify_chain(result.scalars(), head.seq, head.hash, head.base_seq,
                            head.base_hash, checkpoints=checkpoints)
    finally:
        # A broken chain stops early; the cursor must not outlive the check.
        result.close()


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


@dataclass(frozen=True)
class AuditFilter:
    date_from: date | None = None
    date_to: date | None = None
    actor: str = ""
    action: str = ""

    @classmethod
    def from_params(cls, params):
        return cls(_date(params.get("from")), _date(params.get("to")),
                   params.get("actor", "").strip(), params.get("action", "").strip())

    def query(self):
        query = select(AuditRecord)
        # Dates are Japan dates; records are stored in UTC.
        if self.date_from:
            query = query.where(AuditRecord.at >= utc_start_of(self.date_from))
        if self.date_to:
            query = query.where(AuditRecord.at < utc_start_of(self.date_to + timedelta(days=1)))
        if self.actor:
            query = query.where(AuditRecord.actor == self.actor)
        if self.action:
            query = query.where(AuditRecord.action.startswith(self.action, autoescape=True))
        return query


def utc_start_of(day):
    """Midnight of a Japan date, as the naive UTC the database stores."""
    return datetime.combine(day, time.min, tzinfo=JST).astimezone(UTC).replace(tzinfo=None)


def _date(text):
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
