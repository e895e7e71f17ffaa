"""Each public host's usage counts per programme and day, as its last fetch said them.

A later fetch replaces a day's counts (the host's counts for today grow during the day;
the same file fetched twice changes nothing); the dashboard adds the hosts up.
"""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from intranet.meta import Base


class UsageCount(Base):
    __tablename__ = "usage_counts"

    # The destination as the pusher is configured with it (sftp://user@host:port/dir).
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"),
                                              primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    lookups: Mapped[int] = mapped_column(BigInteger)
    found: Mapped[int] = mapped_column(BigInteger)
    not_found: Mapped[int] = mapped_column(BigInteger)
    limited: Mapped[int] = mapped_column(BigInteger)
    fetched_at: Mapped[datetime]


class InquiryViewDay(Base):
    """Records the call centre opened (``application.view`` audit records) per Japan day,
    kept exact by the database as records are added and pruned (``intranet.usage.openings``);
    never written by the app."""

    __tablename__ = "audit_view_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
