"""The dashboard's tallies: exact counts kept by the database itself.

One row per (programme, kind, bucket): kind "status" counts applications per status code;
"received" and "paid" count applications per received_on / paid_on day; "decided" counts
status changes to the decided status per Japan day (intranet.days). Triggers
(intranet.dashboard.tallies) change them in the same statement as every insert, update and
delete of applications and status_changes — single change, bulk change, import (COPY
included), retention — so the dashboard reads a few hundred rows instead of grouping a
million, and is never stale.
"""

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from intranet.meta import Base


class Tally(Base):
    __tablename__ = "dashboard_tallies"

    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
