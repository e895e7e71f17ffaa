"""Applications and the history of their statuses."""

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import BigInteger, ForeignKey, Index, String, Table, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.applications.search_key import search_key
from intranet.auth.models import User
from intranet.meta import Base
from intranet.programmes.models import Programme
from intranet.statuses.models import Status

# How the application reached the municipality.
ROUTES = ("online", "postal", "push")


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("programme_id", "receipt_number_normalised"),
        # Keyset pagination orders by (column, id); each sortable column has its index.
        Index("ix_applications_received", "received_on", "id"),
        Index("ix_applications_updated", "updated_at", "id"),
        Index("ix_applications_status", "status_code", "id"),
        Index("ix_applications_receipt", "receipt_number_normalised", "id"),
        # Staff narrow a common name by 生年月日 (applications/search.py).
        Index("ix_applications_birth_date", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    # As printed on the letter or form, and the one normalised form used for matching.
    receipt_number: Mapped[str] = mapped_column(String(64))
    receipt_number_normalised: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    kana: Mapped[str] = mapped_column(String(200), default="")
    birth_date: Mapped[date | None]
    address: Mapped[str] = mapped_column(String(400), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    route: Mapped[str] = mapped_column(String(16))
    received_on: Mapped[date]
    status_code: Mapped[str] = mapped_column(ForeignKey("statuses.code"))
    scheduled_payment_on: Mapped[date | None]
    paid_on: Mapped[date | None]
    # 不備内容: staff's own words about this application. Internal: never published.
    deficiency_reason: Mapped[str] = mapped_column(Text, default="")
    # The action details residents read, as codes and dates: which of the programme's
    # 不備の種類 apply (bit n = DeficiencyKind.bit n), 書類送付日 and 返送期限.
    deficiency_kinds: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    documents_sent_on: Mapped[date | None]
    return_by: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
    # Name, kana and phone folded for search (applications/search_key.py); kept in step by
    # the listener below and by the import's bulk writes.
    search_key: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Optimistic locking: a form carries the version it was drawn from.
    version: Mapped[int] = mapped_column(default=1)

    programme: Mapped[Programme] = relationship(lazy="joined")
    status: Mapped[Status] = relationship(lazy="joined")

    __mapper_args__: Any = {"version_id_col": version}  # noqa: RUF012  (read once, by the mapper)


@event.listens_for(Application, "before_insert")
@event.listens_for(Application, "before_update")
def _refresh_search_key(_mapper, _connection, application):
    application.search_key = search_key(application.name or "", application.kana or "",
                                        application.phone or "")


class StatusChange(Base):
    """One step in an application's history."""

    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_application", "application_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"))
    from_code: Mapped[str | None] = mapped_column(ForeignKey("statuses.code"))
    to_code: Mapped[str] = mapped_column(ForeignKey("statuses.code"))
    changed_at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # manual | bulk | import | create
    source: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    scheduled_payment_on: Mapped[date | None]
    paid_on: Mapped[date | None]

    user: Mapped[User | None] = relationship(lazy="joined")


# The Core tables, for the bulk paths (executemany INSERT/UPDATE without ORM objects).
APPLICATIONS = cast(Table, Application.__table__)
STATUS_CHANGES = cast(Table, StatusChange.__table__)
