"""Each limit of an .xlsx import, tried by a file made to break it (issue 25 item 4).

Every refusal names the file and what is wrong, and comes before openpyxl parses anything:
the bomb in well under a second and a few megabytes, whatever its central directory says."""

import dataclasses
import io
import time
import tracemalloc
import zipfile

import openpyxl
import pytest

from intranet.imports import workbook
from intranet.imports.errors import ImportRefused
from intranet.imports.workbook_check import LIMITS, check
from lab import hostile_workbooks as hostile

NAME = "申請者一覧.xlsx"


def refusal(data, limits=LIMITS) -> str:
    with pytest.raises(ImportRefused) as caught:
        check(data, NAME, limits)
    message = str(caught.value)
    assert NAME in message and "${" not in message
    return message


def test_the_zip_bomb_is_refused_in_well_under_a_second_and_a_few_megabytes():
    data = hostile.zip_bomb()
    assert len(data) < 4 * 2**20
    tracemalloc.start()
    started = time.perf_counter()
    message = refusal(data)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "展開すると大きすぎます" in message and "sheet1.xml" in message
    assert seconds < 0.5 and peak < 16 * 2**20, (seconds, peak)


def test_a_bomb_that_declares_a_modest_size_is_stopped_by_its_ratio_while_inflating():
    # Declared 200 MB: under the part cap and, against its whole compressed size, under the
    # ratio; the ratio of what has come out to what has gone in gives it away after 1 MB.
    data = hostile.workbook(dataclasses.replace(hostile.bomb_member(), declared_size=200 * 2**20))
    started = time.perf_counter()
    assert "圧縮率が異常に高く" in refusal(data)
    assert time.perf_counter() - started < 0.5


def test_a_central_directory_that_lies_is_caught_at_the_first_byte_past_its_word():
    data = hostile.lying_bomb()
    started = time.perf_counter()
    assert "zip に書かれた大きさと違います" in refusal(data)
    assert time.perf_counter() - started < 0.5


def test_many_parts_are_refused_from_the_end_record():
    assert "多すぎます（20,005 個、上限 1,000 個）" in refusal(hostile.many_parts())


def test_a_million_columns_in_one_row_are_refused_by_the_ratio_and_by_the_count():
    assert "圧縮率" in refusal(hostile.wide_row())
    # With the ratio out of the way the cell count in the row stops it, before openpyxl.
    lenient = dataclasses.replace(LIMITS, ratio=10**9)
    assert "1 行目は列が多すぎます（上限 1,000 列）" in refusal(hostile.wide_row(), lenient)


def test_a_cell_reference_past_the_last_column_and_a_row_past_the_last_row_are_refused():
    far = hostile.SHEET_HEAD + '<row r="1"><c r="ZZZ1"><v>1</v></c></row>' + hostile.SHEET_TAIL
    assert "列が多すぎます" in refusal(hostile.workbook(far))
    low = hostile.SHEET_HEAD + '<row r="2000000"><c><v>1</v></c></row>' + hostile.SHEET_TAIL
    assert "行が多すぎます" in refusal(hostile.workbook(low))


def test_cells_rows_and_children_of_one_element_have_their_limits():
    rows = [["受付番号", "氏名"], *[[str(n), "a"] for n in range(60)]]
    small = dataclasses.replace(LIMITS, cells=100)
    assert "セルが多すぎます（上限 100 個）" in refusal(hostile.workbook(hostile.sheet_xml(rows)), small)
    merged = (hostile.SHEET_HEAD + '<row r="1"><c><v>1</v></c></row></sheetData><mergeCells>'
              + '<mergeCell ref="A1:B1"/>' * 200 + "</mergeCells></worksheet>")
    assert "sheet1.xml は XML の要素が多すぎます" in refusal(hostile.workbook(merged),
                                  dataclasses.replace(LIMITS, children=100))


def test_any_dtd_and_any_external_entity_are_refused_in_any_part():
    assert "sheet1.xml に DTD" in refusal(hostile.billion_laughs())
    assert "sharedStrings.xml に DTD" in refusal(hostile.external_entity())
    for part in ("xl/workbook.xml", "xl/styles.xml", "_rels/.rels", "[Content_Types].xml"):
        assert f"{part} に DTD" in refusal(hostile.external_entity(part))


def test_a_relationship_out_of_the_package_is_refused():
    message = refusal(hostile.external_target())
    assert "workbook.xml.rels にブックの外への参照（file:///etc/passwd）" in message


def test_a_cells_hyperlink_passes_as_excel_makes_one_of_every_typed_mail_address():
    book = openpyxl.Workbook()
    book.active.append(["受付番号", "メールアドレス"])
    book.active.append(["00000001", "taro@example.jp"])
    book.active["B2"].hyperlink = "mailto:taro@example.jp"
    saved = io.BytesIO()
    book.save(saved)
    assert b'TargetMode="External"' in _part(saved.getvalue(), "xl/worksheets/_rels/sheet1.xml.rels")
    check(saved.getvalue(), NAME)
    assert list(workbook.records(saved.getvalue(), NAME))[1][1] == ["00000001", "taro@example.jp"]


def _part(data: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(name)


def test_an_encrypted_part_and_a_file_over_the_upload_limit_are_refused():
    data = bytearray(hostile.workbook(hostile.sheet_xml([["受付番号"]])))
    data[6] |= 1                                   # the first local header's "encrypted" bit
    at = data.find(b"PK\x01\x02")
    data[at + 8] |= 1                              # and the central directory's
    assert "パスワード" in refusal(bytes(data))
    assert "上限 0 MB" in refusal(bytes(data), dataclasses.replace(LIMITS, compressed=1000))


def test_what_openpyxl_cannot_read_after_the_check_is_a_refusal_not_a_crash():
    broken = hostile.workbook(hostile.SHEET_HEAD + "<row><c><v>1</v></row>")
    with pytest.raises(ImportRefused, match="として読めません"):
        list(workbook.records(broken, NAME))


def test_a_workbook_from_excel_or_libreoffice_passes_every_check():
    rows = [["受付番号", "氏名"], *[[f"{n:08d}", "髙橋　一郎"] for n in range(2000)]]
    data = hostile.workbook(hostile.sheet_xml(rows))
    check(data, NAME)
    assert len(list(workbook.records(data, NAME))) == 2001
