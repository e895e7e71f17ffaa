"""Encodings, delimiters, quoting and the column rules."""

import tracemalloc

import pytest

from intranet.imports.errors import ImportRefused
from intranet.imports.reading import MAX_LINE_BYTES, decode, records
from lab.import_files import HEADER, PEOPLE, encoded


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


def test_people_fixture_is_consistent():
    assert len(PEOPLE[0]) == len(HEADER)


def test_a_shift_jis_file_with_a_bad_byte_is_told_the_line_the_byte_and_the_encoding():
    data = encoded()
    lines = data.split(b"\r\n")
    lines[2] = lines[2][:6] + b"\x85\xff" + lines[2][8:]
    with pytest.raises(ImportRefused) as refused:
        decode(b"\r\n".join(lines))
    assert str(refused.value).startswith(
        "3 行目の 7 バイト目（0x85）が Shift_JIS（CP932） として読めません（")


def test_a_utf8_file_with_a_bom_and_a_bad_byte_is_told_it_was_read_as_utf8():
    with pytest.raises(ImportRefused) as refused:
        decode("受付番号,状況\r\n1234,受付済".encode("utf-8-sig") + b"\xff\r\n")
    assert str(refused.value).startswith("2 行目の 15 バイト目（0xFF）が UTF-8 として読めません（")


def test_a_utf16_file_with_a_lone_surrogate_is_told_it_was_read_as_utf16():
    with pytest.raises(ImportRefused, match="UTF-16 として読めません"):
        decode("受付番号\t状況\r\n".encode("utf-16") + b"\x00\xd8a\x00")


def test_a_50_mb_file_of_one_line_is_refused_before_it_is_decoded_with_memory_flat():
    data = b"1234," + b"a" * (50 * 2**20)
    tracemalloc.start()
    try:
        with pytest.raises(ImportRefused, match="1 行目が長すぎます（1行 64 KB まで）"):
            decode(data)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20          # a scan of its bytes, never a copy or a string of them


def test_a_long_line_after_good_ones_is_named_by_its_number():
    data = "受付番号,状況\r\n1,受付済\r\n".encode() + b"2," + b"x" * (MAX_LINE_BYTES + 1)
    with pytest.raises(ImportRefused, match="3 行目が長すぎます"):
        decode(data)


def test_an_unclosed_quote_is_a_field_too_long_not_a_python_message():
    text = '受付番号,備考\r\n1,"開いたまま\r\n' + ("あ" * 200 + "\r\n") * 100
    with pytest.raises(ImportRefused) as refused:
        list(records(text))
    assert "2 行目から始まる項目が長すぎます" in str(refused.value)
    assert "field" not in str(refused.value)
