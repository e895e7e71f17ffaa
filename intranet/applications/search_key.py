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
- every other character is a *token*: a marker letter ``r``–``z`` saying which kind of
  character it is (and so how long the token is), then code letters ``a``–``q`` (base 17,
  lowest digit first), with no leading zeros shared by a whole block (the earlier form's
  ``x0``/``00``). A kana — what the kana field is written in — is two letters: one of six
  markers and one code letter, so each trigram spans one and a half kana and narrows the
  search far more than a trigram inside one kana would. A kanji is ``x`` and four letters,
  a Latin letter ``y`` and two, anything else ``z`` and five.

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
_NOT_DIGIT = re.compile(r"[^0-9]")
_KATAKANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
# What a query is when it is a phone number: digits, dashes, brackets (after fold()).
_PHONE_TYPED = re.compile(r"[0-9()\-‐－―ー−]+")

# The separator between the three fields: not a word character for pg_trgm, never in a token.
FIELD_SEPARATOR = " "
CODE_LETTERS = "abcdefghijklmnopq"          # base-17 digits, lowest first
KANA_MARKERS = "rstuvw"
# The 102 (6 × 17) characters written as kana tokens: the hiragana block (katakana is folded
# into it), then the marks names use beside kana: 々 〆 ー ・ ヽ ヾ.
KANA = "".join(map(chr, range(0x3040, 0x30A0))) + "々〆ー・ヽヾ"
_KANA_INDEX = {ord(c): i for i, c in enumerate(KANA)}
# (marker, first code point, code letters) for everything else; the first that holds it.
BLOCKS = (
    ("x", 0x4E00, 4),      # CJK ideographs from U+4E00: 17**4 reaches U+18640
    ("y", 0x0000, 2),      # Latin letters and signs, U+0000–U+0120 (ASCII digits excepted)
    ("z", 0x0000, 5),      # anything else: 17**5 covers every code point
)


# fold()'s three steps after NFKC and lower() as one table: every whitespace character
# (what the regex \s matches; none lies above U+3000) dropped, 異体字 to the typed form,
# katakana to hiragana — a 異体字's replacement folded on (ヶ → ケ → け), as the steps ran.
_FOLD = {**_KATAKANA, **{code: text.translate(_KATAKANA) for code, text in VARIANTS.items()},
         **{code: None for code in range(0x3001) if chr(code).isspace()}}


def fold(text: str) -> str:
    """The text as compared: the same for every way of writing the same name."""
    return unicodedata.normalize("NFKC", text or "").lower().translate(_FOLD)


def phone_digits(text: str) -> str:
    return _NOT_DIGIT.sub("", unicodedata.normalize("NFKC", text or ""))


def token(code: int) -> str:
    """One character as stored: itself for an ASCII digit, else marker + code letters."""
    if 0x30 <= code <= 0x39:
        return chr(code)
    base = len(CODE_LETTERS)
    if code in _KANA_INDEX:
        group, digit = divmod(_KANA_INDEX[code], base)
        return KANA_MARKERS[group] + CODE_LETTERS[digit]
    for marker, start, length in BLOCKS:
        offset = code - start
        if 0 <= offset < base ** length:
            letters = []
            for _ in range(length):
                offset, digit = divmod(offset, base)
                letters.append(CODE_LETTERS[digit])
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


class _FoldedTokens(dict):
    """Character (after NFKC and lower()) → the tokens of what fold() makes of it: fold()'s
    table and encode()'s in one, so a key's field is one ``str.translate`` (both tables map
    one character at a time, so the two passes and the one agree)."""

    def __missing__(self, code: int) -> str:
        self[code] = value = encode(chr(code).translate(_FOLD))
        return value


_FOLDED_TOKENS = _FoldedTokens()


def search_key(name: str, kana: str, phone: str) -> str:
    """What the ``search_key`` column holds for one application: encode(fold(…)) of the
    name and the kana, the phone's digits."""
    normalize = unicodedata.normalize
    return FIELD_SEPARATOR.join((
        normalize("NFKC", name or "").lower().translate(_FOLDED_TOKENS),
        normalize("NFKC", kana or "").lower().translate(_FOLDED_TOKENS), phone_digits(phone)))


def is_phone(text: str) -> bool:
    """Whether ``text`` is written as a phone number: digits, dashes and brackets only."""
    return bool(phone_digits(text)) and bool(_PHONE_TYPED.fullmatch(fold(text)))


def query_text(query: str) -> str:
    """What is looked for, folded: a phone number by its digits, anything else by fold()."""
    return phone_digits(query) if is_phone(query) else fold(query)


def query_pattern(query: str) -> str | None:
    """The LIKE substring for what was typed (a phone number by its digits), or None.
    Letters and digits only: nothing in it for LIKE to read as a wildcard."""
    return encode(query_text(query)) or None
