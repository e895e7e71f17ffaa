"""The city's 外字 table is read at start; a table that cannot be used stops the start with
the file, the line and why — never a silent default."""

import pytest

from intranet import gaiji
from intranet.settings import SettingsError, load

URL = "sqlite:///:memory:"


def _table(tmp_path, text, encoding="utf-8"):
    path = tmp_path / "gaiji.csv"
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_a_table_maps_code_points_to_one_character_or_geta(tmp_path):
    path = _table(tmp_path, "\ufeff外字,置き換え\n\n# comment\nU+E000,髙,はしごだか\ne001 , 〓\n")
    assert gaiji.load(path) == {"\ue000": "髙", "\ue001": "〓"}
    assert load({"sqlalchemy.url": URL, "imports.gaiji_table": str(path)},
                environ={}, web=False)["imports.gaiji"] == {"\ue000": "髙", "\ue001": "〓"}
    assert load({"sqlalchemy.url": URL}, environ={}, web=False)["imports.gaiji"] == {}


@pytest.mark.parametrize("text, why", [
    ("U+E000,髙\nU+0041,A\n", r"2 行目: U\+0041 は外字（U\+E000〜U\+F8FF）ではありません"),
    ("E000,髙\nE000,高\n", r"2 行目: U\+E000 は前の行にもあります"),
    ("E000,\n", r"1 行目: 2 列目には置き換える標準の文字を 1 文字か 〓"),
    ("E000,髙橋\n", r"1 行目: .*「髙橋」は使えません"),
    ("E000,\ue001\n", r"1 行目: 2 列目には"),
    ("髙,E000\n", r"1 行目: 1 列目は外字の番号（U\+E000 の形）です。「髙」は読めません"),
    ("E000,髙\nE001,〓\n".encode("cp932"), r"1 行目: UTF-8 で保存してください"),
    # Beyond Unicode, a mark that joins the character before it, a symbol, a space.
    ("U+FFFFFF,髙\n", r"1 行目: U\+FFFFFF は外字（U\+E000〜U\+F8FF）ではありません"),
    ("E000,\u0301\n", r"1 行目: .*「\u0301」は使えません"),
    ("E000,=\n", r"1 行目: .*「=」は使えません"),
    ("E000,\u3000\n", r"1 行目: 2 列目には"),
])
def test_a_bad_table_stops_the_start_naming_file_line_and_why(tmp_path, text, why):
    path = _table(tmp_path, text)
    with pytest.raises(SettingsError, match=rf"imports\.gaiji_table: .*gaiji\.csv, {why}"):
        load({"sqlalchemy.url": URL, "imports.gaiji_table": str(path)}, environ={}, web=False)


def test_a_missing_table_is_named(tmp_path):
    with pytest.raises(SettingsError, match=r"nothere\.csv: 外字表のファイルがありません"):
        load({"sqlalchemy.url": URL, "imports.gaiji_table": str(tmp_path / "nothere.csv")},
             environ={}, web=False)


def test_replace_keeps_unmapped_and_memos_are_added_once():
    text, replaced = gaiji.replace({"\ue000": "髙"}, "\ue000橋\ue002")
    assert text == "髙橋\ue002" and replaced == [(1, "\ue000", "髙")]
    memo = gaiji.memo("氏名", 1, "\ue000", "髙")
    assert memo == "【外字】氏名 1 文字目: U+E000 → 髙"
    assert gaiji.with_memos("", [memo]) == memo
    assert gaiji.with_memos(f"至急\n{memo}", [memo]) == f"至急\n{memo}"


def test_a_table_too_large_for_any_city_is_refused_before_it_is_parsed(tmp_path):
    path = _table(tmp_path, "E000," + "x" * 200_000 + "\n")
    with pytest.raises(SettingsError, match=r"gaiji\.csv: 外字表が大きすぎます"):
        load({"sqlalchemy.url": URL, "imports.gaiji_table": str(path)}, environ={}, web=False)
