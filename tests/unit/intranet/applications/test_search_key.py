"""One fold for every way of writing a name: widths, spaces, kana, 異体字; and a stored form
in which a query finds exactly the folded substrings, never a piece across two characters."""

import re
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intranet.applications.search_key import (
    BLOCKS,
    CODE_LETTERS,
    FIELD_SEPARATOR,
    KANA,
    KANA_MARKERS,
    VARIANTS,
    encode,
    fold,
    phone_digits,
    query_pattern,
    query_text,
    search_key,
    token,
)


@pytest.mark.parametrize(("typed", "stored"), [
    ("髙橋　大輔", "高橋 大輔"), ("高橋大輔", "髙橋　大輔"), ("たかはし", "タカハシ"),
    ("ﾀｶﾊｼ", "たかはし"), ("山崎", "山﨑"), ("渡辺", "渡邊"), ("渡辺", "渡邉"), ("斉藤", "齋藤"),
    ("斉藤", "齊藤"), ("浜田", "濵田"), ("浜田", "濱田"), ("吉田", "𠮷田"), ("ＡＢＣ", "abc"),
    ("沢", "澤"), ("広田", "廣田"), ("ケ", "ヶ"),
])
def test_every_way_of_writing_a_name_folds_the_same(typed, stored):
    assert fold(typed) == fold(stored)


def test_the_stored_key_finds_name_kana_and_phone_but_never_across_fields():
    key = search_key("髙橋　大輔", "タカハシ　ダイスケ", "042-000-0001")
    for typed in ("高橋", "髙橋 大輔", "だいすけ", "ﾀﾞｲｽｹ", "042-000-0001", "０４２０００", "0001"):
        assert query_pattern(typed) in key, typed
    assert query_pattern("大輔たかはし") not in key       # the end of one field + the next
    assert query_pattern("髙橋　一郎") not in key
    assert query_pattern("   ") is None


def test_phone_digits_are_stored_as_digits_and_names_as_letters():
    # What makes the trigram index narrow: a phone number's trigrams are its digits'.
    assert search_key("髙橋　大輔", "タカハシ", "042-111-2222").endswith(" 0421112222")
    assert query_pattern("042-111-2222") == query_pattern("０４２（１１１）２２２２") == "0421112222"
    assert query_pattern("2222") == "2222"
    assert re.fullmatch(r"[a-z]+", query_pattern("髙橋　たかはし　ＡＢＣ"))
    assert len(query_pattern("高")) == 5 and len(query_pattern("た")) == len(query_pattern("々")) == 2


# --- The stored form, read back: the proof that tokens are whole characters -------------

_BLOCK = {marker: (start, length) for marker, start, length in BLOCKS}


def decode(encoded: str) -> tuple[str, list[int]]:
    """The characters an encoded field holds, and where each token starts: a digit is
    itself; a marker says how many code letters follow and what they count from."""
    assert not set(CODE_LETTERS) & {*KANA_MARKERS, *_BLOCK}
    text, starts, at = [], [], 0
    while at < len(encoded):
        starts.append(at)
        marker = encoded[at]
        if marker.isdigit():
            text.append(marker)
            at += 1
            continue
        start, length = _BLOCK.get(marker, (None, 1))
        letters = encoded[at + 1:at + 1 + length]
        assert len(letters) == length and set(letters) <= set(CODE_LETTERS), encoded
        offset = sum(CODE_LETTERS.index(c) * len(CODE_LETTERS) ** n
                     for n, c in enumerate(letters))
        if start is None:
            text.append(KANA[KANA_MARKERS.index(marker) * len(CODE_LETTERS) + offset])
        else:
            text.append(chr(start + offset))
        at += 1 + length
    return "".join(text), starts


def test_every_code_point_has_one_token_and_reads_back():
    # Every block's edges, every ASCII and kana code, and a stride through all of Unicode.
    edges = [c + d for c in (0, 0x121, 0x3000, 0x3040, 0x30A0, 0x30FC, 0x4E00, 0xA000,
                             0x18641, 0x20000, 0x10FFFF) for d in (-1, 0, 1)]
    codes = {c for c in [*edges, *range(0x200), *range(0x3000, 0x3200),
                         *range(0, 0x110000, 97)] if 0 <= c <= 0x10FFFF}
    tokens = {c: token(c) for c in codes}
    assert len(set(tokens.values())) == len(codes)
    for code, encoded in tokens.items():
        assert decode(encoded) == (chr(code), [0]), hex(code)


def test_a_kanji_takes_five_letters_a_kana_two_a_digit_itself():
    assert {len(token(c)) for c in range(0x4E00, 0xA000)} == {5}
    assert {len(token(ord(c))) for c in KANA} == {2} and len(set(KANA)) == len(KANA) == 102
    assert {len(token(ord(c))) for c in fold("アイウエオァヴヵーヽヾ々")} == {2}
    assert {token(c) for c in range(0x30, 0x3A)} == set("0123456789")


# --- Property: the key finds exactly the folded substrings -----------------------------

class _Previous(dict):
    def __missing__(self, code):
        self[code] = value = f"x{code:05x}"
        return value


_PREVIOUS = _Previous()


def previous_key(name, kana, phone):
    """The stored form before revision 0011 (``x`` + five hex digits, fields joined by y)."""
    return "y".join((fold(name).translate(_PREVIOUS), fold(kana).translate(_PREVIOUS),
                     phone_digits(phone).translate(_PREVIOUS)))


# What names, kana and phone numbers are written in, each block's edges, the 異体字, spaces
# and dashes, and characters no name has.
_TYPICAL = ("0123456789０１２３４５６７８９aAｚＺé"
            "たかはしタカハシﾀｶﾊｼﾞーぁゔ高髙橋崎﨑嵜辺邊邉斉齋齊斎浜濵濱吉𠮷田大輔一丁"
            "\u4e00\u6d3f\u6d40\u8c7f\u8c80\u9fff\u3000\u318f\u3190\u018f\u0190\u00ff"
            "　 -‐－―−()（）①㈱・々〆ヽヾ\u3040\u309f\u30a0\U0001f600\U00020b9f")
_CHARACTERS = st.one_of(st.sampled_from(_TYPICAL), st.characters(exclude_categories=("Cs",)))
_TEXT = st.text(_CHARACTERS, max_size=8)


@st.composite
def row_and_query(draw):
    name, kana, phone = draw(_TEXT), draw(_TEXT), draw(_TEXT)
    # A piece of one field, a piece across two (never a match), or anything at all.
    joined = name + kana + phone
    start = draw(st.integers(0, len(joined)))
    end = draw(st.integers(start, len(joined)))
    query = draw(st.one_of(st.just(joined[start:end]), _TEXT))
    return name, kana, phone, query


@settings(max_examples=3000, deadline=None, database=None)
@given(row_and_query())
def test_a_query_finds_exactly_what_the_plain_substring_rule_finds(case):
    name, kana, phone, query = case
    key, pattern, wanted = search_key(name, kana, phone), query_pattern(query), query_text(query)
    if not wanted:
        assert pattern is None
        return
    expected = any(wanted in field for field in (fold(name), fold(kana), phone_digits(phone)))
    assert (pattern in key) == expected
    # … and exactly what the earlier stored form found.
    assert pattern == encode(wanted)
    assert (wanted.translate(_PREVIOUS) in previous_key(name, kana, phone)) == expected


@settings(max_examples=3000, deadline=None, database=None)
@given(row_and_query())
def test_a_pattern_is_only_ever_found_where_a_character_begins(case):
    name, kana, phone, query = case
    key, pattern = search_key(name, kana, phone), query_pattern(query) or "-"
    # Each field reads back as its folded text, token by token.
    fields = key.split(FIELD_SEPARATOR)
    assert len(fields) == 3
    assert [decode(f)[0] for f in fields] == [fold(name), fold(kana), phone_digits(phone)]
    for encoded in fields:
        starts = set(decode(encoded)[1])
        found = encoded.find(pattern)
        while found != -1:
            assert found in starts, (encoded, pattern, found)
            found = encoded.find(pattern, found + 1)


@settings(max_examples=500, deadline=None, database=None)
@given(_TEXT)
def test_the_key_and_pattern_hold_only_what_pg_trgm_indexes_and_like_reads_plainly(text):
    # Lowercase ASCII letters and digits: pg_trgm's word characters under LC_CTYPE=C, and
    # nothing LIKE takes for a wildcard or an escape; the space only between fields.
    assert re.fullmatch(r"[a-z0-9]* [a-z0-9]* [0-9]*", search_key(text, text, text))
    assert re.fullmatch(r"[a-z0-9]*", query_pattern(text) or "")


def _fold_in_steps(text):
    """fold() as first written: spaces, 異体字, katakana, one step after another."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return re.sub(r"\s+", "", text).translate(VARIANTS).translate(
        {code: code - 0x60 for code in range(0x30A1, 0x30F7)})


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.one_of(st.characters(), st.sampled_from(
    "".join(map(chr, VARIANTS)) + "ァアヶヵヴー　 \t\u00a0\u2003\u3000ｶﾞ髙"))))
def test_fold_in_one_table_is_fold_in_steps(text):
    assert fold(text) == _fold_in_steps(text)


def test_no_whitespace_lies_above_the_fold_tables_reach():
    assert not [code for code in range(0x3001, 0x110000) if chr(code).isspace()]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.one_of(st.characters(), st.sampled_from(
    "".join(map(chr, VARIANTS)) + "ァアヶヵヴー　 \t0１２ｶﾞ髙İ"))), st.text(), st.text())
def test_the_key_in_one_pass_is_encode_of_fold(name, kana, phone):
    assert search_key(name, kana, phone) == FIELD_SEPARATOR.join(
        (encode(fold(name)), encode(fold(kana)), phone_digits(phone)))
