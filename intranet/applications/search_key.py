"""The stored search key: name, kana and phone folded the way people type them.

Folding: width (NFKC), every space (U+3000 too), case, katakana → hiragana, and the common
異体字 of family names (髙→高, 﨑→崎, 邊/邉→辺, 齋/齊→斉, 濵/濱→浜 …), so 「髙橋　大輔」,
「高橋大輔」, 「たかはし」 and 「タカハシ」 all find the same person. Phone numbers keep their
digits only.

The folded text is stored encoded as ``x`` + five hex digits per character: an ASCII word
that PostgreSQL's pg_trgm indexes under any database locale (with ``--locale=C`` — the usual
choice for Japanese databases — pg_trgm finds no trigrams in Japanese text at all). ``x`` is
not a hex digit, so a match always starts on a character boundary; ``y`` separates the
fields, so a query never matches across them.
"""

import re
import unicodedata

# Old or variant forms → the form people type. Family names first; NFKC leaves these alone.
VARIANTS = str.maketrans({
    "髙": "高", "﨑": "崎", "嵜": "崎", "邊": "辺", "邉": "辺", "齋": "斉", "齊": "斉",
    "斎": "斉", "濵": "浜", "濱": "浜", "廣": "広", "國": "国", "澤": "沢", "櫻": "桜",
    "冨": "富", "槇": "槙", "眞": "真", "瀨": "瀬", "惠": "恵", "德": "徳", "𠮷": "吉",
    "曻": "昇", "栁": "柳", "舘": "館", "圓": "円", "實": "実", "龍": "竜", "藪": "薮",
    "籔": "薮", "鄕": "郷", "黑": "黒", "ヶ": "ケ",
})
_SPACES = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"[^0-9]")
_KATAKANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}


def fold(text: str) -> str:
    """The text as compared: the same for every way of writing the same name."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _SPACES.sub("", text).translate(VARIANTS)
    return text.translate(_KATAKANA)


def phone_digits(text: str) -> str:
    return _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", text or ""))


class _Codes(dict):
    """Character → its ``x`` + five hex digits, made on first use: ``str.translate`` then
    encodes a whole key in C (an import computes a million keys)."""

    def __missing__(self, code: int) -> str:
        self[code] = value = f"x{code:05x}"
        return value


_CODES = _Codes()


def encode(folded: str) -> str:
    return folded.translate(_CODES)


def search_key(name: str, kana: str, phone: str) -> str:
    """What the ``search_key`` column holds for one application."""
    return "y".join((encode(fold(name)), encode(fold(kana)), encode(phone_digits(phone))))


def query_pattern(query: str) -> str | None:
    """The LIKE substring for what was typed (a phone number by its digits), or None."""
    folded = fold(query)
    digits = phone_digits(query)
    if digits and re.fullmatch(r"[0-9()\-‐－―ー−]+", folded):
        folded = digits
    return encode(folded) or None
