"""Publications: a request to publish, its approval, and what happened at each destination."""

from datetime import date, datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.auth.models import User
from intranet.meta import Base

# requested → approved → spooled → published | failed ; or requested → rejected ;
# approved → superseded (a later approved request was published instead).
# spooled: the builder has handed its table to the signer; the recorder settles it from what
# the pusher reports (intranet.publications.recorder).
REQUESTED, APPROVED, REJECTED, PUBLISHED, FAILED, SUPERSEDED, SPOOLED = (
    "requested", "approved", "rejected", "published", "failed", "superseded", "spooled")


class Publication(Base):
    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(Text, default="")
    # Frozen at the request (intranet.publications.content): the header wording, how many
    # rows, and the SHA-256 of both. The approver approves this digest (approved_digest);
    # the job publishes only content that reproduces it.
    frozen_header: Mapped[str] = mapped_column(Text, default="", server_default="")
    content_rows: Mapped[int | None]
    content_digest: Mapped[str] = mapped_column(String(64), default="", server_default="")
    approved_digest: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # The publication its changed applications (PublicationChange) were compared with.
    changes_since: Mapped[int | None]
    # What the freeze saw (PostgreSQL's snapshot, the cluster, the programmes' and statuses'
    # shape): the preview compares only the applications written since (publications.since).
    frozen_mark: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Filled by the transfer job once the snapshot is built and pushed.
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    # The snapshot header's created_at (the residents' page's "as of") and expires_at.
    built_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int | None]
    entries: Mapped[int | None]
    signing_key_ids: Mapped[str] = mapped_column(String(255), default="")
    finished_at: Mapped[datetime | None]

    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id], lazy="joined")
    deliveries: Mapped[list["Delivery"]] = relationship(
        back_populates="publication", lazy="selectin", order_by="Delivery.id")


class Delivery(Base):
    """One push of one snapshot to one destination."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
    destination: Mapped[str] = mapped_column(String(255), index=True)
    delivered: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text, default="")
    host_key_fingerprint: Mapped[str] = mapped_column(String(80), default="")
    attempts: Mapped[int] = mapped_column(default=1)
    # A later run's copy of the same signed file, for a host that missed it (catchup.py).
    redelivery: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The pusher's report the row was recorded from: each report is recorded once.
    report: Mapped[str] = mapped_column(String(32), default="", server_default="", index=True)

    publication: Mapped[Publication] = relationship(back_populates="deliveries")


class PublicationRow(Base):
    """One application as a publication request froze it: only what the snapshot needs."""

    __tablename__ = "publication_rows"

    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), primary_key=True)
    programme_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    receipt: Mapped[str] = mapped_column(String(64), primary_key=True)
    birth_date: Mapped[date | None]
    status_code: Mapped[str] = mapped_column(String(32))
    scheduled_payment_on: Mapped[date | None]
    paid_on: Mapped[date | None]
    # The action details, only for a status that needs the resident's action (else NULL):
    # a row frozen before they existed reads, and hashes, as it did.
    deficiency_kinds: Mapped[int | None] = mapped_column(BigInteger)
    documents_sent_on: Mapped[date | None]
    return_by: Mapped[date | None]


class DifferenceRow:
    """One entry as ``changes.difference`` gives it: its key, added, removed, moved or
    altered, and its status before and after."""

    programme_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    receipt: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    before: Mapped[str | None] = mapped_column(String(32))
    after: Mapped[str | None] = mapped_column(String(32))


class PublicationChange(DifferenceRow, Base):
    """An application a request changes against ``Publication.changes_since`` (added,
    taken off, or any frozen value different), as ``changes.difference`` gave it then: the
    approval counts these, the builder hashes only these — and never trusts the list alone
    (intranet.publications.incremental proves it whole)."""

    __tablename__ = "publication_changes"

    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), primary_key=True)


class PreviewEntry(DifferenceRow, Base):
    """An application today's rows change against the last delivered publication, kept
    between views of the publications screen and brought up to date from what was written
    since the last (publications.since)."""

    __tablename__ = "preview_entries"


class PreviewMark(Base):
    """The one row that says what ``PreviewEntry`` holds: the difference from publication
    ``baseline_id`` of what ``mark`` saw (as ``Publication.frozen_mark``). Locked while the
    entries are brought up to date, so two views never do it at once."""

    __tablename__ = "preview_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    baseline_id: Mapped[int | None]
    mark: Mapped[str] = mapped_column(Text, default="", server_default="")
