"""不備の種類: a programme's catalogue of what may be missing from an application, in words
residents read (日本語 / English / やさしい日本語).

An application names its kinds by ``bit`` (``Application.deficiency_kinds`` is a bit set),
and the snapshot carries that set and the catalogue — codes shared by many residents,
never a text typed about one person. A kind's bit is given once, when it is made, and never
reused: a kind no longer wanted is retired (staff cannot choose it any more), so every
application and every publication that names it still reads it.
"""

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.meta import Base
from transfer.snapshot import MAX_DEFICIENCY_KINDS, RESIDENT_LANGUAGES

__all__ = ["MAX_DEFICIENCY_KINDS", "RESIDENT_LANGUAGES", "DeficiencyKind", "DeficiencyKindWording"]


class DeficiencyKind(Base):
    __tablename__ = "deficiency_kinds"
    __table_args__ = (UniqueConstraint("programme_id", "code", name="uq_deficiency_kinds_code"),
                      UniqueConstraint("programme_id", "bit", name="uq_deficiency_kinds_bit"))

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    # 0 to MAX_DEFICIENCY_KINDS - 1: its place in an application's set and a snapshot entry's.
    bit: Mapped[int]
    # What staff choose and import files write (short); residents read the wording.
    name: Mapped[str] = mapped_column(String(64))
    sort_order: Mapped[int]
    retired: Mapped[bool] = mapped_column(default=False, server_default=false())

    wordings: Mapped[list["DeficiencyKindWording"]] = relationship(
        back_populates="kind", cascade="all, delete-orphan", lazy="selectin")

    def resident_text(self, lang: str) -> str:
        """What a resident reads in ``lang`` (furigana markup as typed); "" if none."""
        return next((w.text for w in self.wordings if w.lang == lang), "")

    def set_wording(self, lang: str, text: str) -> None:
        wording = next((w for w in self.wordings if w.lang == lang), None)
        if wording is None:
            self.wordings.append(DeficiencyKindWording(lang=lang, text=text))
        else:
            wording.text = text


class DeficiencyKindWording(Base):
    """What a resident reads for a kind, in one language."""

    __tablename__ = "deficiency_kind_wordings"

    kind_id: Mapped[int] = mapped_column(ForeignKey("deficiency_kinds.id"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(16), primary_key=True)
    text: Mapped[str] = mapped_column(Text)

    kind: Mapped[DeficiencyKind] = relationship(back_populates="wordings")
