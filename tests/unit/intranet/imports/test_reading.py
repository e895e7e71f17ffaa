"""Encodings, delimiters, quoting and the column rules."""

import pytest

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


def test_people_fixture_is_consistent():
    assert len(PEOPLE[0]) == len(HEADER)
