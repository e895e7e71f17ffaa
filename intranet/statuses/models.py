"""The status catalogue: what each status means to staff and to residents, and its flow."""

import re

from sqlalchemy import ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.meta import Base

# Resident-facing languages ("ja-easy" is やさしい日本語): the ones the snapshot carries.
from transfer.snapshot import RESIDENT_LANGUAGES

__all__ = ["RESIDENT_LANGUAGES", "Status", "StatusTransition", "StatusWording"]


class Status(Base):
    __tablename__ = "statuses"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_label: Mapped[str] = mapped_column(String(64))
    staff_label_en: Mapped[str] = mapped_column(String(64))
    sort_order: Mapped[int]
    is_final: Mapped[bool] = mapped_column(default=False)
    needs_scheduled_payment_date: Mapped[bool] = mapped_column(default=False)
    needs_paid_date: Mapped[bool] = mapped_column(default=False)
    needs_deficiency_reason: Mapped[bool] = mapped_column(default=False)
    # The resident must do something (send papers again, give a new account): the public
    # page marks it with a line, an icon and a border, never with colour alone.
    needs_resident_action: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Other names staff and banks write this status with (short label, former labels,
    # a bank's wording), one a line; import files match them width- and space-folded.
    aliases: Mapped[str] = mapped_column(Text, default="", server_default="")

    wordings: Mapped[list["StatusWording"]] = relationship(
        back_populates="status", cascade="all, delete-orphan", lazy="selectin"
    )
    transitions: Mapped[list["StatusTransition"]] = relationship(
        foreign_keys="StatusTransition.from_code", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def allowed_next(self) -> set[str]:
        return {t.to_code for t in self.transitions}

    def wording(self, lang: str) -> "StatusWording | None":
        return next((w for w in self.wordings if w.lang == lang), None)

    def alias_list(self) -> list[str]:
        return [line.strip() for line in (self.aliases or "").splitlines() if line.strip()]

    def names(self) -> list[str]:
        """Every name an import cell may give this status: the code, the labels, the label
        without its bracketed note (不備あり（書類返送） → 不備あり), the aliases."""
        short = _QUALIFIER.sub("", self.staff_label).strip()
        return [self.code, self.staff_label, short, self.staff_label_en, *self.alias_list(),
                *(w.resident_label for w in self.wordings)]

    def label_for(self, locale: str) -> str:
        return getattr(self, self.label_attribute(locale))

    @staticmethod
    def label_attribute(locale: str) -> str:
        """The column holding the staff label in ``locale``."""
        return "staff_label_en" if locale == "en" else "staff_label"


_QUALIFIER = re.compile(r"[(（][^)）]*[)）]")


class StatusWording(Base):
    """What a resident reads for a status, in one language."""

    __tablename__ = "status_wordings"

    status_code: Mapped[str] = mapped_column(ForeignKey("statuses.code"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(16), primary_key=True)
    resident_label: Mapped[str] = mapped_column(String(128))
    explanation: Mapped[str] = mapped_column(Text)
    next_step: Mapped[str] = mapped_column(Text)

    status: Mapped[Status] = relationship(back_populates="wordings")


class StatusTransition(Base):
    """An allowed move from one status to another."""

    __tablename__ = "status_transitions"

    from_code: Mapped[str] = mapped_column(ForeignKey("statuses.code"), primary_key=True)
    to_code: Mapped[str] = mapped_column(ForeignKey("statuses.code"), primary_key=True)
