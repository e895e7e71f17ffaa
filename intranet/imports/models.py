"""Every confirmed import: which file (name and SHA-256), what it did, who, when."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.auth.models import User
from intranet.meta import Base


class ImportRecord(Base):
    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    encoding: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int]
    created: Mapped[int]
    changed: Mapped[int]
    unchanged: Mapped[int]

    user: Mapped[User | None] = relationship(lazy="joined")
