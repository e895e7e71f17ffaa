"""Reading the audit trail: filters, and the one chain check (CLI and screen alike)."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from intranet.audit import checkpoints, labels, writer
from intranet.audit.chain import GENESIS_HASH, ChainVerdict, verify_chain
from intranet.audit.checkpoints import Checkpoint
from intranet.audit.models import AuditHead, AuditRecord
from intranet.auth.models import User
from intranet.programmes.models import Programme
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
    head = dbsession.execute(select(AuditHead).where(AuditHead.id == 1)
                             .with_for_update()).scalar_one_or_none()
    seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    checkpoint = checkpoints.sign(seq, head_hash, writer.utcnow(), signing_key)
    if path is not None:
        checkpoints.append_to_file(path, checkpoint)
    writer.append(dbsession, actor, "audit.checkpoint", f"audit:{seq}", **checkpoint.as_dict())
    return checkpoint


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


def vocabulary(request) -> labels.Vocabulary:
    """Names for the ids and codes records hold: accounts and programmes are few."""
    users = dict(request.dbsession.execute(select(User.id, User.username)).all())
    programmes = {}
    for programme in request.dbsession.execute(select(Programme)).scalars():
        name = programme.name_en if request.locale_name == "en" and programme.name_en \
            else programme.name
        programmes[programme.code] = programmes[str(programme.id)] = name
    return labels.Vocabulary.of(request, users, programmes)
