"""CSV export helpers."""

import pytest

from intranet.exports import csv_lines, neutralise


@pytest.mark.parametrize("cell", ["=1+1", "+81", "-1", "@SUM(A1)", "\t=1", "\r=1",
                                  "＝１＋１", "＝HYPERLINK(\"http://x\")", "＋81", "－1", "−1",
                                  "＠SUM(A1)"])
def test_formula_cells_are_neutralised(cell):
    assert neutralise(cell).startswith("'")


def test_plain_cells_are_untouched():
    assert neutralise("山田 太郎") == "山田 太郎" and neutralise(None) == ""


def test_utf8_has_exactly_one_bom_and_cp932_none():
    utf8 = b"".join(csv_lines(["氏名"], [["髙橋"], ["山﨑"]]))
    assert utf8.startswith(b"\xef\xbb\xbf") and utf8.count(b"\xef\xbb\xbf") == 1
    cp932 = b"".join(csv_lines(["氏名"], [["髙橋"]], encoding="cp932"))
    assert cp932.decode("cp932") == "氏名\r\n髙橋\r\n"
