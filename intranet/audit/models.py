"""The hash-chained audit trail: staff actions and transfers in one chain."""

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intranet.meta import Base


class AuditRecord(Base):
    __tablename__ = "audit_records"
    # The screen's filters list records newest first: by user through (actor, seq); by
    # dates, (at, seq) gives the range's first and last record numbers (oversight.search.AuditFilter).
    __table_args__ = (Index("ix_audit_records_actor_seq", "actor", "seq"),
                      Index("ix_audit_records_at_seq", "at", "seq"))

    # Assigned by the writer, contiguous from 1: a gap means a deleted record.
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    actor_role: Mapped[str] = mapped_column(String(32), default="")
    os_user: Mapped[str] = mapped_column(String(64), default="")
    host: Mapped[str] = mapped_column(String(255), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(255), default="")
    # Canonical JSON (sorted keys): before/after values and whatever the action needs.
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditClockStep(Base):
    """A record dated earlier than the record before it: the clock went back
    (``intranet.audit.clock``; noted by a trigger, never by the app)."""

    __tablename__ = "audit_clock_steps"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


class AuditHead(Base):
    """The chain's single head row: writers lock it, so the chain has one writer at a time.

    ``base_seq``/``base_hash`` name the last record removed by retention: the chain in the
    table starts right after it (0 and the genesis hash until anything is pruned).
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
    base_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    base_hash: Mapped[str] = mapped_column(String(64), default="0" * 64,
                                           server_default="0" * 64)


class AuditPrunePermit(Base):
    """Lets the append-only trigger allow one retention DELETE (records through
    ``through_seq``). Written and removed inside the prune's own transaction; on
    PostgreSQL only the pruner role may write it (see intranet.audit.append_only)."""

    __tablename__ = "audit_prune_permits"

    id: Mapped[int] = mapped_column(primary_key=True)
    through_seq: Mapped[int]
