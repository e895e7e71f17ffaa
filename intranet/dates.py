"""Dates as municipal files write them and as staff hear them: 西暦 and 和暦, full-width or not.

2020/6/1, 2020-06-01, 20200601, 2020年6月1日, 令和2年6月1日, 令和元年5月1日, R2.6.1,
R02/06/01, H31.4.30, 平成31年4月30日, S55.1.1 — and, typed by the call centre as a caller
says it, しょうわ55年4月1日 (the era in kana, before the input method converts it) or
昭和 55年 4月 1日生まれ. A 和暦 date outside its era is refused. The import reads cells
with it, the application search a birth date, the audit search its dates (intranet.audit.
filters). The eras are the one table in transfer.eras.
"""

import re
import unicodedata
from datetime import date
from functools import lru_cache

from transfer.eras import BY_NAME, ERAS


def _katakana(hiragana: str) -> str:
    return "".join(chr(ord(c) + 0x60) for c in hiragana)


# Era names in kana, as typed before conversion (NFKC leaves kana as it is): the readings of
# the one era table, in hiragana and katakana.
_KANA = {**{era.reading: era.name for era in ERAS},
         **{_katakana(era.reading): era.name for era in ERAS}}
# "…生まれ", "…生": said after a birth date, dropped.
_BORN = re.compile(r"(生まれ|うまれ|生)$")

_WESTERN = re.compile(r"^(\d{4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_JAPANESE = re.compile(rf"^({'|'.join(BY_NAME)})\.?(\d{{1,2}}|元)"
                       r"[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?$")


class DateError(ValueError):
    pass


@lru_cache(maxsize=8192)
def parse_date(text: str) -> date:
    """The date a cell means; DateError says why not. Cached: a file repeats its dates."""
    folded = _BORN.sub("", unicodedata.normalize("NFKC", text).strip().upper().replace(" ", ""))
    for kana, name in _KANA.items():
        if folded.startswith(kana):
            folded = name + folded[len(kana):]
            break
    if not folded:
        raise DateError("empty")
    for pattern in (_WESTERN, _COMPACT):
        match = pattern.match(folded)
        if match:
            return _make(*(int(g) for g in match.groups()))
    match = _JAPANESE.match(folded)
    if not match:
        raise DateError("format")
    era = BY_NAME[match.group(1)]
    year_in_era = 1 if match.group(2) == "元" else int(match.group(2))
    result = _make(era.first.year + year_in_era - 1, int(match.group(3)), int(match.group(4)))
    if not era.holds(result):
        raise DateError("era")
    return result


def _make(year, month, day):
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError("impossible") from None


def wareki(day: date) -> str:
    """``day`` in its era, as the call centre reads it back: 昭和55年4月1日, 令和元年5月1日."""
    era = next(era for era in ERAS if era.first <= day)   # newest first
    year = day.year - era.first.year + 1
    return f"{era.name}{'元' if year == 1 else year}年{day.month}月{day.day}日"
