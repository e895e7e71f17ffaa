"""Encodings, delimiters, quoting and the column rules."""

import pytest

from intranet.imports.columns import load_mapping, map_header
from intranet.imports.errors import ImportRefused
from intranet.imports.reading import decode, records
from tests.import_files import HEADER, PEOPLE, encoded


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig", "utf-16"])
def test_every_encoding_keeps_difficult_characters(encoding):
    text, _used = decode(encoded(encoding=encoding))
    assert "髙橋" in text and "山﨑" in text and "①" in text and "㈱" in text
    rows = list(records(text))
    assert rows[0][1] == HEADER
    assert rows[2][1][12] == "改行を含む\n備考"        # quoted field with a newline
    assert [line for line, _ in rows] == [1, 2, 3, 5]  # the record after it starts on line 5


def test_binary_and_empty_and_undecodable_files_are_refused():
    with pytest.raises(ImportRefused, match="バイナリ"):
        decode(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(ImportRefused, match="空"):
        decode(b"  \r\n")
    with pytest.raises(ImportRefused, match="文字コード"):
        decode(b"\xff\xfe\xfd abc \x81")


def test_my_number_column_is_refused_outright():
    with pytest.raises(ImportRefused, match="個人番号"):
        map_header([*HEADER, "個人番号"])
    with pytest.raises(ImportRefused, match="個人番号"):
        map_header([*HEADER, "マイナンバー（12桁）"])


def test_required_and_unknown_columns():
    with pytest.raises(ImportRefused, match="申請日"):
        map_header(["受付番号", "氏名"])
    fields, unknown, kind = map_header([*HEADER, "世帯番号"])
    assert unknown == ["世帯番号"] and kind == "full" and fields[0] == "receipt_number"
    assert map_header(["Receipt Number", "Status"])[2] == "status"


def test_mapping_file_for_another_layout():
    mapping = load_mapping('{"お客様番号": "受付番号", "処理状況": "状況"}')
    assert map_header(["お客様番号", "処理状況"], mapping)[0] == ["receipt_number", "status"]
    with pytest.raises(ImportRefused):
        load_mapping('{"x": "口座番号"}')


def test_people_fixture_is_consistent():
    assert len(PEOPLE[0]) == len(HEADER)
