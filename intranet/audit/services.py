"""Reading the audit trail: filters, and the one chain check (CLI and screen alike)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from intranet.audit.chain import ChainVerdict, verify_chain
from intranet.audit.models import AuditHead, AuditRecord
from intranet.web import JST


def verify(dbsession) -> ChainVerdict:
    head = dbsession.get(AuditHead, 1)
    # Streamed (a server-side cursor on PostgreSQL): the chain may be millions of records.
    result = dbsession.execute(
        select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=2000)
    )
    try:
        if head is None:
            return verify_chain(result.scalars(), 0, "")
        return verify_chain(result.scalars(), head.seq, head.hash, head.base_seq, head.base_hash)
    finally:
        # A broken chain stops early; the cursor must not outlive the check.
        result.close()


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
