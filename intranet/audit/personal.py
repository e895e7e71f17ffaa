"""Personal values named by audit records, kept beside the chain so disposal can cut them.

An audit record that concerns applicants (a receipt number, a free-text reason, a
deficiency note) carries in its hashed details only ``personal``: the SHA-256 over the
side rows, each a random salt, the application id and the values. The chain therefore
stays checkable after disposal deletes a programme's side rows, and what remains in the
chain (a salted digest) says nothing about the applicant.
"""

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Index, String, Text, delete
from sqlalchemy.orm import Mapped, mapped_column

from intranet.audit.chain import canonical_json
from intranet.meta import Base


class AuditPersonal(Base):
    __tablename__ = "audit_personal"
    __table_args__ = (Index("ix_audit_personal_application", "application_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(index=True)
    application_id: Mapped[int]
    salt: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)


def rows_for(values: Mapping[int, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Side rows (without seq) for {application id: values}, each with its own salt."""
    return [{"application_id": app_id, "salt": secrets.token_hex(16),
             "value": canonical_json(value)} for app_id, value in sorted(values.items())]


def digest(rows: Iterable[Mapping[str, Any]]) -> str:
    """What the chain holds: one SHA-256 over every side row of the record."""
    parts = [[r["application_id"], r["salt"], r["value"]] for r in rows]
    return hashlib.sha256(canonical_json(sorted(parts)).encode("utf-8")).hexdigest()


def cut(dbsession, application_ids: list[int], chunk: int = 1000) -> int:
    """Delete the side rows of these applications (disposal); return how many."""
    removed = 0
    for start in range(0, len(application_ids), chunk):
        removed += dbsession.execute(delete(AuditPersonal).where(
            AuditPersonal.application_id.in_(application_ids[start:start + chunk]))).rowcount
    return removed
