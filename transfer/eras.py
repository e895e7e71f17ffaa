"""The Japanese eras (元号): one table for every reader of a 和暦 date — the intranet's import
(a cell such as 令和2年6月1日 or R2.6.1, ``intranet.dates``, which also reads the birth date
the call centre types and the audit search's dates) and the residents' birth date form on
the public host (``public_mirror.birthdate``). Both sides must agree on the day
an era begins, so the table sits on the floor both stand on.
"""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Era:
    code: str            # the form's value (ASCII)
    name: str            # as written: 令和
    letter: str          # as municipal systems abbreviate it: R
    reading: str         # in hiragana, as typed before the input method converts it: れいわ
    first: date          # the era's first day (its year 1, 元年)
    last: date | None    # its last day; None: the present era

    def last_year(self) -> int | None:
        return None if self.last is None else self.last.year - self.first.year + 1

    def holds(self, day: date) -> bool:
        return self.first <= day and (self.last is None or day <= self.last)


# Newest first, as the residents' form lists them.
ERAS = (
    Era("reiwa", "令和", "R", "れいわ", date(2019, 5, 1), None),
    Era("heisei", "平成", "H", "へいせい", date(1989, 1, 8), date(2019, 4, 30)),
    Era("showa", "昭和", "S", "しょうわ", date(1926, 12, 25), date(1989, 1, 7)),
    Era("taisho", "大正", "T", "たいしょう", date(1912, 7, 30), date(1926, 12, 24)),
    Era("meiji", "明治", "M", "めいじ", date(1868, 10, 23), date(1912, 7, 29)),
)
# An era by its name or its letter (an import cell may use either).
BY_NAME = {**{era.name: era for era in ERAS}, **{era.letter: era for era in ERAS}}
