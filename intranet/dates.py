"""Dates as municipal files write them and as staff hear them: 西暦 and 和暦, full-width or not.

2020/6/1, 2020-06-01, 20200601, 2020年6月1日, 令和2年6月1日, 令和元年5月1日, R2.6.1,
R02/06/01, H31.4.30, 平成31年4月30日, S55.1.1 — and, typed by the call centre as a caller
says it, しょうわ55年4月1日 (the era in kana, before the input method converts it) or
昭和 55年 4月 1日生まれ. A 和暦 date outside its era is refused. The import reads cells
with it, the application search a birth date.
"""

import re
import unicodedata
from datetime import date
from functools import lru_cache

# era: (first day, last day or None)
ERAS = {
    "明治": (date(1868, 10, 23), date(1912, 7, 29)),
    "大正": (date(1912, 7, 30), date(1926, 12, 24)),
    "昭和": (date(1926, 12, 25), date(1989, 1, 7)),
    "平成": (date(1989, 1, 8), date(2019, 4, 30)),
    "令和": (date(2019, 5, 1), None),
}
_LETTERS = {"M": "明治", "T": "大正", "S": "昭和", "H": "平成", "R": "令和"}
# Era names in kana, as typed before conversion (NFKC leaves kana as it is).
_KANA = {"めいじ": "明治", "たいしょう": "大正", "しょうわ": "昭和", "へいせい": "平成",
         "れいわ": "令和", "メイジ": "明治", "タイショウ": "大正", "ショウワ": "昭和",
         "ヘイセイ": "平成", "レイワ": "令和"}
# "…生まれ", "…生": said after a birth date, dropped.
_BORN = re.compile(r"(生まれ|うまれ|生)$")

_WESTERN = re.compile(r"^(\d{4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_JAPANESE = re.compile(r"^(明治|大正|昭和|平成|令和|[MTSHR])\.?(\d{1,2}|元)"
                       r"[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?$")


class DateError(ValueError):
    pass


@lru_cache(maxsize=8192)
def parse_date(text: str) -> date:
    """The date a cell means; DateError says why not. Cached: a file repeats its dates."""
    folded = _BORN.sub("", unicodedata.normalize("NFKC", text).strip().upper().replace(" ", ""))
    for kana, era in _KANA.items():
        if folded.startswith(kana):
            folded = era + folded[len(kana):]
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
    era = _LETTERS.get(match.group(1), match.group(1))
    year_in_era = 1 if match.group(2) == "元" else int(match.group(2))
    first, last = ERAS[era]
    result = _make(first.year + year_in_era - 1, int(match.group(3)), int(match.group(4)))
    if result < first or (last and result > last):
        raise DateError("era")
    return result


def _make(year, month, day):
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError("impossible") from None


def wareki(day: date) -> str:
    """``day`` in its era, as the call centre reads it back: 昭和55年4月1日, 令和元年5月1日."""
    name, (first, _last) = next((name, span) for name, span in reversed(ERAS.items())
                                if span[0] <= day)
    year = day.year - first.year + 1
    return f"{name}{'元' if year == 1 else year}年{day.month}月{day.day}日"
