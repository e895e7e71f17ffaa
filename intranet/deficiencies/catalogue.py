"""One programme's 不備の種類, as the forms, the bulk change and the import read them: by
name or code (width, case and spaces folded), into the bit set an application keeps.

A list is written as people write one: 「本人確認書類の写しがない、署名がない」, codes
(``id_copy, signature``), one a line, or mixed. Each name that is not the programme's, or
that names a retired kind, is refused naming it and the names that are accepted.
"""

import re
from collections.abc import Iterable

from sqlalchemy import select

from intranet.deficiencies.defaults import default_kinds
from intranet.deficiencies.models import MAX_DEFICIENCY_KINDS, DeficiencyKind
from intranet.programmes.events import ProgrammeCreated
from intranet.refusals import Refused
from intranet.statuses.names import fold

UNKNOWN_KIND = ("不備の種類「${value}」はこの事業にありません。"
                "名前かコードで書いてください（${known}）。")
RETIRED_KIND = "不備の種類「${value}」は使わなくなった種類です。"
TOO_LONG = "不備の種類の書き方が長すぎます（${limit}文字まで）。"
# A list of every kind the programme has, by name, is far shorter than this.
TEXT_LIMIT = 2000
_SEPARATORS = re.compile(r"[、,，;；\n\r]+")


class KindRefused(Refused):
    """A written kind the programme's catalogue does not accept."""


class KindCatalogue:
    """One programme's kinds in display order, retired ones included (applications and
    publications may still name them)."""

    def __init__(self, kinds: Iterable[DeficiencyKind]):
        self.kinds = sorted(kinds, key=lambda kind: (kind.sort_order, kind.bit))
        self._by_bit = {kind.bit: kind for kind in self.kinds}
        self._by_name: dict[str, DeficiencyKind] = {}
        for kind in self.kinds:
            for name in (kind.code, kind.name, kind.resident_text("ja")):
                if name:
                    self._by_name.setdefault(fold(name), kind)

    @property
    def active(self) -> list[DeficiencyKind]:
        return [kind for kind in self.kinds if not kind.retired]

    def of(self, bits: int) -> list[DeficiencyKind]:
        """The kinds a bit set names, in display order (a bit no kind has: left out)."""
        return [kind for kind in self.kinds if bits >> kind.bit & 1]

    def names(self, bits: int) -> list[str]:
        return [kind.name for kind in self.of(bits)]

    def unknown_bits(self, bits: int) -> int:
        return bits & ~sum(1 << bit for bit in self._by_bit)

    def read(self, text: str, keep: int = 0) -> int | None:
        """The bit set a written list names; None when it names nothing (left blank).

        A retired kind is accepted only where ``keep`` (what the application already has)
        names it: what is stored reads back, and no one chooses a retired kind anew."""
        if len(text) > TEXT_LIMIT:
            raise KindRefused(TOO_LONG, limit=TEXT_LIMIT)
        bits = 0
        for part in _SEPARATORS.split(text):
            if not part.strip():
                continue
            kind = self._by_name.get(fold(part))
            if kind is None:
                raise KindRefused(UNKNOWN_KIND, value=part.strip(),
                                  known="、".join(k.name for k in self.active) or "なし")
            if kind.retired and not keep >> kind.bit & 1:
                raise KindRefused(RETIRED_KIND, value=part.strip())
            bits |= 1 << kind.bit
        return bits or None

    def newly_retired(self, bits: int, kept: int) -> DeficiencyKind | None:
        """The first retired kind ``bits`` names that ``kept`` does not (for a reader that
        could not know what the application has when it read the cell)."""
        return next((kind for kind in self.of(bits & ~kept) if kind.retired), None)

    def written(self, bits: int) -> str:
        """The set as a list an import reads back (an export's cell)."""
        return "、".join(self.names(bits))


def load(dbsession, programme_id: int) -> KindCatalogue:
    return KindCatalogue(dbsession.execute(
        select(DeficiencyKind).where(DeficiencyKind.programme_id == programme_id)).scalars())


def free_bit(catalogue: KindCatalogue) -> int | None:
    """The lowest bit no kind of the programme has ever taken, or None when all are taken
    (retired kinds keep theirs: applications and publications may still name them)."""
    taken = {kind.bit for kind in catalogue.kinds}
    return next((bit for bit in range(MAX_DEFICIENCY_KINDS) if bit not in taken), None)


def add_defaults(dbsession, programme_id: int) -> list[DeficiencyKind]:
    """A new programme's starting kinds (intranet.deficiencies.defaults)."""
    kinds = default_kinds(programme_id)
    dbsession.add_all(kinds)
    return kinds


def add_defaults_to_new(created: ProgrammeCreated) -> None:
    """A programme made on its screen starts with the shipped kinds, for supervisors to
    change: staff can choose them at once."""
    add_defaults(created.request.dbsession, created.programme.id)
