"""intranet.characters: what a CP932 export's 〓 stood for, and 外字."""

import pytest

from intranet import characters
from intranet.characters import gaiji_in, geta_verdict
from intranet.exports import as_cp932_export_writes, csv_lines, unrepresentable


@pytest.mark.parametrize("before, after, verdict", [
    ("𠮷田　次郎", "〓田　次郎", "kept"),             # exactly the export: keep the stored
    ("相模原市♥", "相模原市〓", "kept"),
    ("髙\ue000の字", "髙〓の字", "kept"),               # a 外字 is exported as 〓 too
    ("𠮷田　次郎", "〓田　三郎", ["𠮷"]),             # edited and 〓 where 𠮷 stood
    ("𠮷田　次郎", "〓田　次郎様", ["𠮷"]),           # another length: 𠮷 is gone
    ("吉田　次郎", "〓田　次郎", None),               # 吉 is CP932: a deliberate 〓
    ("〓田", "〓田　一郎", None),                     # the stored 〓 was a 〓
    (None, "〓田", None),                            # a new row
    ("𠮷田", "𠮷田　一郎", None),                     # no 〓 at all
])
def test_geta_verdict(before, after, verdict):
    assert geta_verdict(before, after) == verdict


def test_the_export_and_the_check_agree_on_what_cp932_holds():
    text = "𠮷田♥\ue000髙﨑①㈱"
    written = b"".join(csv_lines(["x"], [[text]], "cp932")).decode("cp932").splitlines()[1]
    assert written == as_cp932_export_writes(text) == "〓田〓〓髙﨑①㈱"
    assert unrepresentable([text]) == ["𠮷", "♥", "\ue000"]


def test_gaiji_in_names_the_first_code_point_and_position():
    assert gaiji_in("山\ue000\uf8ff") == {"code": "U+E000", "position": 2}
    assert gaiji_in("山田") is None and gaiji_in(None) is None


@pytest.mark.parametrize("text", ["中央区\r\n1丁目", "a_x0041_b", "_x000D_", "\r", "_x12_", ""])
def test_xlsx_text_escapes_round_trip(text):
    from intranet.applications.workbook import ooxml_text
    from intranet.imports.workbook import _unescaped

    assert "\r" not in ooxml_text(text)
    assert _unescaped(ooxml_text(text)) == text


@pytest.mark.parametrize("before, after, message, named", [
    ("山田　太郎", "〓田　太郎", characters.GETA_ADDED, "山"),
    ("田中", "?中", characters.QUESTION_ADDED, "田"),
    ("𠮷田　太郎", "??田　太郎", characters.QUESTION_ADDED, "𠮷"),   # a converter's ?? for 𠮷
    ("中央1丁目1番1号", "中央1丁目", characters.CHARACTERS_DROPPED, "1番1号"),
    ("髙橋", "橋", characters.CHARACTERS_DROPPED, "髙"),
])
def test_a_change_that_loses_a_character_is_flagged_naming_it(before, after, message, named):
    assert characters.change_warning(before, after) == (
        message, {"before": before, "after": after, "characters": named})


@pytest.mark.parametrize("before, after", [
    ("山田", "山田"), ("", "〓田"), ("山田", "山田?"), ("髙橋", "高橋"), ("山田", "山田太"),
    ("〓田", "〓田花子"),
])
def test_a_change_that_loses_nothing_is_not_flagged(before, after):
    assert characters.change_warning(before, after) is None


def test_a_long_value_is_quoted_by_its_start():
    _, values = characters.change_warning("あ" * 100 + "い", "あ" * 100)
    assert values["before"] == "あ" * 60 + "…" and values["characters"] == "い"
