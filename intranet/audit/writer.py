"""The one audit writer. Staff actions, CLI commands and the transfer job all append here."""

import getpass
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from intranet.audit import personal as personal_values
from intranet.audit.chain import GENESIS_HASH, record_hash
from intranet.audit.models import AuditHead, AuditRecord
from transfer.envelope import canonical_text


@dataclass(frozen=True)
class Actor:
    """Who did it: a staff account, or a system identity such as ``cli`` or ``transfer``."""

    name: str
    role: str = ""
    host: str = field(default_factory=socket.gethostname)
    os_user: str = field(default_factory=getpass.getuser)


def utcnow() -> datetime:
    """Naive UTC, microsecond precision: what every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def append(dbsession, actor: Actor, action: str, target: str = "", *,
           personal=None, programme_personal=None, **details) -> AuditRecord:
    """Append one record to the chain, inside the caller's transaction.

    ``personal``: {application id: values naming the applicant}; ``programme_personal``:
    {programme id: values typed about its applicants (a search's filter)}. Both are kept
    beside the chain (``intranet.audit.personal``) so that disposal can cut them without
    breaking it; a personal key among ``details`` is refused before anything is written.

    The head row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises
    writers itself), so two concurrent transactions can never fork the chain: the second
    waits, then links to the first.
    """
    personal_values.refuse_personal(details)
    head = dbsession.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS_HASH)
        dbsession.add(head)
    side_rows = personal_values.rows_for(personal, programme_personal)
    if side_rows:
        details["personal"] = personal_values.digest(side_rows)
    record = AuditRecord(
        seq=head.seq + 1,
        at=utcnow(),
        actor=actor.name,
        actor_role=actor.role,
        os_user=actor.os_user,
        host=actor.host,
        action=action,
        target=target,
        details=canonical_text(details),
        prev_hash=head.hash,
    )
    record.hash = record_hash(record)
    dbsession.add(record)
    head.seq, head.hash = record.seq, record.hash
    dbsession.flush()
    if side_rows:
        # A bulk change names thousands of applications: written by the driver.
        personal_values.insert(dbsession, record.seq, side_rows)
    return record
