"""One fold for every way of writing a name: widths, spaces, kana, 異体字."""

import random

import pytest

from intranet.applications.search_key import fold, query_pattern, search_key


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


def test_a_match_always_starts_on_a_character():
    # Each character is x + five hex digits, and x is no hex digit: a character's code can
    # never be read out of the middle of two others.
    rng = random.Random(14)
    for _ in range(200):
        name = "".join(chr(rng.choice([0x3041, 0x3042, 0x4E00, 0x9AD9, 0x30, 0x31]))
                       for _ in range(6))
        key = search_key(name, "", "")
        for length in (1, 2):
            for start in range(len(name) - length + 1):
                pattern = query_pattern(name[start:start + length])
                found = key.find(pattern)
                while found != -1:
                    assert found % 6 == 0
                    found = key.find(pattern, found + 1)
    assert query_pattern("   ") is None
