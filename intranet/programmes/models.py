"""Benefit programmes (e.g. 特別定額給付金 2020): each application belongs to one."""

from datetime import date

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from intranet.meta import Base


class Programme(Base):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    # Whether a resident must also give the birth date to look up a status.
    needs_birth_date: Mapped[bool] = mapped_column(default=False)
    lookup_opens_on: Mapped[date | None]
    lookup_closes_on: Mapped[date | None]
