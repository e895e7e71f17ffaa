"""Every confirmed import: which file (name and SHA-256), what it did, who, when; and the
import layouts a programme's staff saved for the files they receive."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
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


class ImportLayout(Base):
    """A saved column layout: the file's header → a field, as the CLI's ``--mapping`` takes
    it (JSON; intranet/imports/columns.py reads it)."""

    __tablename__ = "import_layouts"
    __table_args__ = (UniqueConstraint("programme_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    name: Mapped[str] = mapped_column(String(100))
    mapping: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
