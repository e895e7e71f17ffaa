"""The stored search key: name, kana and phone folded the way people type them.

Folding: width (NFKC), every space (U+3000 too), case, katakana → hiragana, and the common
異体字 of family names (髙→高, 﨑→崎, 邊/邉→辺, 齋/齊→斉, 濵/濱→浜 …), so 「髙橋　大輔」,
「高橋大輔」, 「たかはし」 and 「タカハシ」 all find the same person. Phone numbers keep their
digits only.

The folded text is stored as lowercase ASCII letters and digits, the only characters
PostgreSQL's pg_trgm takes into its trigrams when the database's LC_CTYPE is C (the usual
choice for Japanese databases; it finds no trigrams in Japanese text at all there):

- an ASCII digit is itself, so a phone number's trigrams are its digits' (``042``, ``421`` …:
  a thousand different ones, where the earlier ``x0003N`` form gave every number the same);
- every other character is a *token*: a marker letter ``u``–``z`` saying which block of
  code points it is in (and so how long it is), then its offset in that block in base 20,
  lowest digit first, as the letters ``a``–``t`` — a kanji is four letters, a kana three,
  with no leading zeros shared by the whole block (the earlier form's ``x0``/``00``).

Why a match can only start on a character boundary: a digit or a marker letter only ever
begins a token, and a code letter never does. Every pattern begins with a digit or a marker,
so it can only be found where a token begins; from there the marker fixes each token's
length, so the pattern covers whole characters and reads as the same characters. The fields
are joined by a space, which no pattern contains, so a match never spans two fields (and
pg_trgm does not waste trigrams across them). tests/unit/intranet/applications/
test_search_key.py checks this over random strings, against the plain substring rule.
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
# What a query is when it is a phone number: digits, dashes, brackets (after fold()).
_PHONE_TYPED = re.compile(r"[0-9()\-‐－―ー−]+")

# The separator between the three fields: not a word character for pg_trgm, never in a token.
FIELD_SEPARATOR = " "
_CODE_LETTERS = "abcdefghijklmnopqrst"          # base-20 digits, lowest first
# (marker, first code point, code letters): the marker says where the block starts and how
# many code letters follow. The blocks are chosen by what names are written in.
_BLOCKS = (
    ("u", 0x0000, 2),      # Latin letters and signs, U+0000–U+018F (ASCII digits excepted)
    ("v", 0x3000, 2),      # CJK signs, hiragana (katakana folded into it), U+3000–U+318F
    ("w", 0x4E00, 3),      # CJK unified ideographs, U+4E00–U+6D3F
    ("x", 0x4E00 + 8000, 3),               # … U+6D40–U+8C7F
    ("y", 0x4E00 + 16000, 3),              # … U+8C80–U+9FFF (and on to U+ABBF)
    ("z", 0x0000, 5),      # anything else: 20**5 covers every code point
)


def fold(text: str) -> str:
    """The text as compared: the same for every way of writing the same name."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _SPACES.sub("", text).translate(VARIANTS)
    return text.translate(_KATAKANA)


def phone_digits(text: str) -> str:
    return _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", text or ""))


def token(code: int) -> str:
    """One character as stored: itself for an ASCII digit, else marker + code letters."""
    if 0x30 <= code <= 0x39:
        return chr(code)
    for marker, start, length in _BLOCKS:
        offset = code - start
        if 0 <= offset < len(_CODE_LETTERS) ** length:
            letters = []
            for _ in range(length):
                offset, digit = divmod(offset, len(_CODE_LETTERS))
                letters.append(_CODE_LETTERS[digit])
            return marker + "".join(letters)
    raise ValueError(f"no token for code point {code:#x}")     # unreachable: "z" takes all


class _Tokens(dict):
    """Character → its token, made on first use: ``str.translate`` then encodes a whole key
    in C (an import computes a million keys)."""

    def __missing__(self, code: int) -> str:
        self[code] = value = token(code)
        return value


_TOKENS = _Tokens()


def encode(folded: str) -> str:
    return folded.translate(_TOKENS)


def search_key(name: str, kana: str, phone: str) -> str:
    """What the ``search_key`` column holds for one application."""
    return FIELD_SEPARATOR.join((encode(fold(name)), encode(fold(kana)),
                                 phone_digits(phone)))


def query_text(query: str) -> str:
    """What is looked for, folded: a phone number by its digits, anything else by fold()."""
    folded = fold(query)
    digits = phone_digits(query)
    if digits and _PHONE_TYPED.fullmatch(folded):
        return digits
    return folded


def query_pattern(query: str) -> str | None:
    """The LIKE substring for what was typed (a phone number by its digits), or None.
    Letters and digits only: nothing in it for LIKE to read as a wildcard."""
    return encode(query_text(query)) or None
