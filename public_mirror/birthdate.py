"""A birth date as residents write it: an era (令和・平成・昭和・大正) or 西暦, then year, month, day.

Older residents know their birth year as 昭和55年, not 1980; a two-digit year such as "55"
or "92" typed as 西暦 would be the year 55 and answer "not found" — the worst answer, as
it sends them to check a number that was right. So every date that cannot be meant is an
error saying what to type instead, and nothing is guessed.

Errors are message ids (Japanese) with their values; ``date`` values are written in the
reader's language and ``TranslationString`` values (era names) translated, by the page.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("mirror")


@dataclass(frozen=True)
class Era:
    code: str
    name: str
    first: date          # the era's first day (its year 1, 元年)
    last: date | None    # its last day; None: the present era

    def last_year(self) -> int | None:
        return None if self.last is None else self.last.year - self.first.year + 1


# The eras a living resident's birth date can be in, newest first (as the form lists them).
ERAS = {era.code: era for era in (
    Era("reiwa", "令和", date(2019, 5, 1), None),
    Era("heisei", "平成", date(1989, 1, 8), date(2019, 4, 30)),
    Era("showa", "昭和", date(1926, 12, 25), date(1989, 1, 7)),
    Era("taisho", "大正", date(1912, 7, 30), date(1926, 12, 24)),
)}
WESTERN = "western"
EARLIEST = date(1900, 1, 1)   # no resident was born before this: a typing slip

MISSING = "生年月日を入力してください。"
INCOMPLETE = "生年月日の年・月・日を、すべて入力してください。"
NOT_DIGITS = "年・月・日は数字で入力してください（例: 昭和55年4月1日なら 55、4、1）。"
NO_ERA = ("元号（昭和・平成など）を選んでください。西暦で入力するときは、"
          "年を4けたで入力してください（例: 1980）。")
SHORT_WESTERN = ("西暦の年は4けたで入力してください（例: 1980）。昭和・平成などで入力するときは、"
                 "元号を選んでください。")
ERA_YEAR = "${era}は${last_year}年までです。年か元号を確かめてください。"
NOT_IN_ERA = "その日は${era}ではありません。${era}は${first}から${last}までです。"
NOT_IN_ERA_YET = "その日は${era}ではありません。${era}は${first}からです。"
NO_SUCH_DAY = "${month}月${day}日という日はありません。月と日を確かめてください。"
IN_FUTURE = "生年月日が今日より後になっています。年を確かめてください。"
TOO_OLD = "西暦${year}年は、生年月日として古すぎます。年を確かめてください。"
INVALID = "生年月日が正しくありません。年・月・日を数字で入力してください。"
# A birth date shown as it was entered (``month_day`` written in the page's language).
IN_ERA = "${era}${year}年${month_day}"

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_NUMBER = re.compile(r"^[0-9]{1,4}$")
# What residents add around the numbers ("55年", "4月", "1日", 元年): accepted and dropped.
_UNIT = re.compile(r"[年月日\s]+$")


def era_name(code: str):
    return _(ERAS[code].name) if code in ERAS else ""


@dataclass(frozen=True)
class Entered:
    """A birth date in the form it was typed, to show and fill in again."""

    era: str     # an era's code, or WESTERN
    year: int    # the year in that era (1 for 元年), or the western year
    month: int
    day: int


def entered(birth: date, era: str) -> Entered:
    """``birth`` in the era the resident chose; in 西暦 when none was (or an ISO date)."""
    if era in ERAS:
        return Entered(era, birth.year - ERAS[era].first.year + 1, birth.month, birth.day)
    return Entered(WESTERN, birth.year, birth.month, birth.day)


def era_typed(params, text) -> str:
    """The era a birth date was typed in: an era's code, WESTERN (chosen, or a year typed
    without an era), or "" when it came as one ISO date (the API's ``birth_date``)."""
    if not any(text(params, f"birth_{name}").strip() for name in ("year", "month", "day")):
        return ""
    era = text(params, "birth_era").strip()
    return era if era in ERAS else WESTERN


def read(params, text, today: date) -> tuple[date | None, object]:
    """(the date, None) or (None, the problem); ``text(params, name)`` reads one field.

    The form sends birth_era, birth_year, birth_month, birth_day; the API may send
    ``birth_date`` as YYYY-MM-DD instead."""
    parts = [_clean(text(params, f"birth_{name}")) for name in ("year", "month", "day")]
    era = text(params, "birth_era").strip()
    if not any(parts):
        return _iso(_clean(text(params, "birth_date")), today)
    if not all(parts):
        return None, INCOMPLETE
    year, month, day = parts
    if era in ERAS and year == "元":
        year = "1"
    if not all(_NUMBER.match(p) for p in (year, month, day)) or len(month) > 2 or len(day) > 2:
        return None, NOT_DIGITS
    if era in ERAS:
        return _in_era(ERAS[era], int(year), int(month), int(day), today)
    if len(year) != 4:
        return None, (SHORT_WESTERN if era == WESTERN else NO_ERA)
    return _checked(int(year), int(month), int(day), today)


def _clean(value: str) -> str:
    value = unicodedata.normalize("NFKC", value).strip()
    return _UNIT.sub("", value.replace("元年", "元"))


def _iso(value: str, today: date):
    if not value:
        return None, MISSING
    if not _ISO_DATE.match(value):
        return None, INVALID
    year, month, day = (int(p) for p in value.split("-"))
    return _checked(year, month, day, today)


def _in_era(era: Era, year: int, month: int, day: int, today: date):
    last_year = era.last_year()
    if year < 1 or (last_year is not None and year > last_year):
        return None, _(ERA_YEAR, mapping={"era": era_name(era.code),
                                          "last_year": last_year or 1})
    birth, problem = _checked(era.first.year + year - 1, month, day, today)
    if problem:
        return None, problem
    if birth < era.first or (era.last is not None and birth > era.last):
        if era.last is None:
            return None, _(NOT_IN_ERA_YET, mapping={"era": era_name(era.code),
                                                    "first": era.first})
        return None, _(NOT_IN_ERA, mapping={"era": era_name(era.code), "first": era.first,
                                            "last": era.last})
    return birth, None


def _checked(year: int, month: int, day: int, today: date):
    if year < EARLIEST.year:
        return None, _(TOO_OLD, mapping={"year": year})
    try:
        birth = date(year, month, day)
    except ValueError:
        return None, _(NO_SUCH_DAY, mapping={"month": month, "day": day})
    if birth > today:
        return None, IN_FUTURE
    return birth, None
