"""Disposal of a programme's personal data, and its record (廃棄記録).

requested → approved (erased at once; the row is then the disposal record) | rejected
"""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.auth.models import User
from intranet.meta import Base
from intranet.programmes.models import Programme

REQUESTED, APPROVED, REJECTED = "requested", "approved", "rejected"
STATE_LABELS = {REQUESTED: "承認待ち", APPROVED: "承認・廃棄済み", REJECTED: "却下済み"}


class Disposal(Base):
    __tablename__ = "disposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    # The retention's end as it stood at the request; before it, an override and its reason.
    retention_ends_on: Mapped[date | None]
    override: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    # Filled when the erasure runs (in the approving transaction).
    applications: Mapped[int] = mapped_column(default=0)
    history_entries: Mapped[int] = mapped_column(default=0)
    audit_values: Mapped[int] = mapped_column(default=0)
    publication_rows: Mapped[int] = mapped_column(default=0)
    spool_files: Mapped[int] = mapped_column(default=0)
    # JSON: the fields erased, and what statistics keep (counts per status and per date).
    erased_fields: Mapped[str] = mapped_column(Text, default="[]")
    statistics: Mapped[str] = mapped_column(Text, default="{}")
    # The last day a backup taken before the erasure may still hold the data.
    backups_age_out_on: Mapped[date | None]

    programme: Mapped[Programme] = relationship(lazy="joined")
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")
