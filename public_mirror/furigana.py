"""Furigana the page writes itself on やさしい日本語 pages, and ruby read back as kana.

Wording and site texts bring their furigana with them (``transfer.ruby``); what the page
makes up on its own — a date, the "as of" time, a number of minutes — gets it here, each
number with its counter read as one word (1日 ついたち, 4月 しがつ, 1分 いっぷん), since the
reading of the counter changes with the number. Where markup cannot go (a page title, an
attribute, a select's option), ``as_text`` leaves the reading in place of the ruby.
"""

import re

from markupsafe import Markup, escape

_UNITS = ("", "いち", "に", "さん", "よん", "ご", "ろく", "なな", "はち", "きゅう")
_TENS = ("", "じゅう", "にじゅう", "さんじゅう", "よんじゅう", "ごじゅう")
MONTHS = ("", "いちがつ", "にがつ", "さんがつ", "しがつ", "ごがつ", "ろくがつ", "しちがつ",
          "はちがつ", "くがつ", "じゅうがつ", "じゅういちがつ", "じゅうにがつ")
# Days of the month read in the old way; the others are the number and にち.
_DAYS = {1: "ついたち", 2: "ふつか", 3: "みっか", 4: "よっか", 5: "いつか", 6: "むいか",
         7: "なのか", 8: "ようか", 9: "ここのか", 10: "とおか", 14: "じゅうよっか",
         20: "はつか", 24: "にじゅうよっか"}
_DAY_UNITS = ("", "いち", "に", "さん", "よん", "ご", "ろく", "しち", "はち", "く")
_HOUR_UNITS = ("", "いち", "に", "さん", "よ", "ご", "ろく", "しち", "はち", "く")
# 分 after each last digit: 1 いっぷん, 2 にふん, 3 さんぷん … 0 (10, 20 …) じゅっぷん.
_MINUTE_UNITS = ("っぷん", "いっぷん", "にふん", "さんぷん", "よんぷん", "ごふん", "ろっぷん",
                 "ななふん", "はっぷん", "きゅうふん")
_RUBY = re.compile(r"<ruby>(.*?)</ruby>", re.S)
_READING = re.compile(r"<rt>(.*?)</rt>", re.S)
_TAG = re.compile(r"<[^>]*>")


def ruby(base: str, reading: str) -> Markup:
    # An f-string of escaped parts: Markup.format costs ten times as much, on every page.
    return Markup(f"<ruby>{escape(base)}<rp>（</rp><rt>{escape(reading)}</rt><rp>）</rp></ruby>")  # noqa: S704


def _number(n: int, units: tuple = _UNITS) -> str:
    """0–59 in kana, as counted (じゅうに, にじゅうご); the last digit from ``units``."""
    return _TENS[n // 10] + units[n % 10] if n else "れい"


def day_of_month(day: int) -> str:
    return _DAYS.get(day) or _number(day, _DAY_UNITS) + "にち"


def hour(n: int) -> str:
    return _number(n, _HOUR_UNITS) + "じ" if n % 10 or n == 0 else _TENS[n // 10] + "じ"


def minutes(n: int) -> str:
    if not 0 < n < 60:   # never on the hour; a long wait: the number and ふん
        return f"{n}ふん"
    return _TENS[n // 10] + _MINUTE_UNITS[n % 10] if n % 10 else _TENS[n // 10][:-1] + "っぷん"


def month_day(month: int, day: int) -> Markup:
    return ruby(f"{month}月", MONTHS[month]) + ruby(f"{day}日", day_of_month(day))


def date_html(value) -> Markup:
    """2026年4月1日 with furigana: 年 ねん, and month and day each read as one word."""
    return _spaced(_parts(value))


def time_html(moment) -> Markup:
    """The date, then 9時5分 (the minutes left out on the hour)."""
    parts = [*_parts(moment), ruby(f"{moment.hour}時", hour(moment.hour))]
    if moment.minute:
        parts.append(ruby(f"{moment.minute}分", minutes(moment.minute)))
    return _spaced(parts)


def _parts(value) -> list[Markup]:
    return [escape(value.year) + ruby("年", "ねん"), ruby(f"{value.month}月", MONTHS[value.month]),
            ruby(f"{value.day}日", day_of_month(value.day))]


def _spaced(parts: list[Markup]) -> Markup:
    # Each reading is wider than its word: the words are set apart so that the readings
    # above them do not run into one another (.when in mirror.css).
    return Markup('<span class="when">') + Markup(" ").join(parts) + Markup("</span>")


def minutes_html(n: int) -> Markup:
    return ruby(f"{n}分", minutes(n))


def as_text(html: str) -> Markup:
    """HTML as plain text where markup cannot go: each ruby becomes its reading (kana is
    what every reader of やさしい日本語 reads), other tags are dropped; still escaped."""
    def reading(found: re.Match) -> str:
        rt = _READING.search(found.group(1))
        return rt.group(1) if rt else found.group(1)
    return Markup(_TAG.sub("", _RUBY.sub(reading, str(escape(html)))))  # noqa: S704
