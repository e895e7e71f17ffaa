"""Benefit programmes (e.g. 特別定額給付金 2020): each application belongs to one.

A programme's life: open → lookup closed → archived → disposed
(``intranet.programmes.lifecycle`` holds the rules and the dates of each step).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from intranet.meta import Base

# A benefit's applications are typically kept five years from the close (文書管理規程).
DEFAULT_RETENTION_YEARS = 5


class Programme(Base):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    # やさしい日本語, with furigana markup ({給付金|きゅうふきん}, transfer.ruby): longer than
    # the name it reads. Empty: residents see the Japanese name.
    name_easy: Mapped[str] = mapped_column(String(400), default="", server_default="")
    # Whether a resident must also give the birth date to look up a status.
    needs_birth_date: Mapped[bool] = mapped_column(default=False)
    lookup_opens_on: Mapped[date | None]
    lookup_closes_on: Mapped[date | None]
    # Whom residents contact once the lookup has ended (shown on the public page).
    contact: Mapped[str] = mapped_column(String(400), default="", server_default="")
    # Where residents send papers back (返送先) and what they enclose, per resident language
    # (やさしい日本語 with furigana markup); shown with an application's action details.
    return_to: Mapped[str] = mapped_column(String(400), default="", server_default="")
    return_to_en: Mapped[str] = mapped_column(String(400), default="", server_default="")
    return_to_easy: Mapped[str] = mapped_column(String(800), default="", server_default="")
    enclose: Mapped[str] = mapped_column(String(400), default="", server_default="")
    enclose_en: Mapped[str] = mapped_column(String(400), default="", server_default="")
    enclose_easy: Mapped[str] = mapped_column(String(800), default="", server_default="")
    retention_years: Mapped[int] = mapped_column(default=DEFAULT_RETENTION_YEARS,
                                                 server_default=str(DEFAULT_RETENTION_YEARS))
    # The lifecycle steps, each set once (naive UTC, as every timestamp column).
    lookup_closed_at: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]
    disposed_at: Mapped[datetime | None]

    def return_details(self) -> tuple[dict[str, str], dict[str, str]]:
        """(返送先, 同封するもの), each per resident language, as staff typed them."""
        return ({"ja": self.return_to, "en": self.return_to_en, "ja-easy": self.return_to_easy},
                {"ja": self.enclose, "en": self.enclose_en, "ja-easy": self.enclose_easy})


def all_programmes(dbsession, by: Any = Programme.id) -> list[Programme]:
    """Every programme, in the order they were made (the order every screen lists them in),
    or ``by`` another column (a snapshot lists them by code)."""
    return list(dbsession.execute(select(Programme).order_by(by)).scalars())
