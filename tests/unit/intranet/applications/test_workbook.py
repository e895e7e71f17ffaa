"""The .xlsx export as Excel reads it back: text stays text, dates stay dates."""

import io
from datetime import date, datetime

from openpyxl import load_workbook

from intranet.applications import workbook
from intranet.web import LocalMoment


def test_receipt_numbers_are_text_dates_are_dates_header_frozen_with_filters():
    handle = io.BytesIO()
    rows = [["123456789012345", "00000001", date(2020, 6, 1), "=HYPERLINK(1)", None, "+81"]]
    workbook.write(handle, "申請一覧", ["受付番号", "番号", "申請日", "備考", "振込日", "電話"], rows)
    sheet = load_workbook(io.BytesIO(handle.getvalue())).active
    assert sheet.title == "申請一覧" and sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F2" and sheet["A1"].font.bold
    receipt, number, received, notes, paid, phone = sheet[2]
    assert (receipt.value, receipt.data_type) == ("123456789012345", "s")   # never 1.23E+14
    assert (number.value, number.data_type) == ("00000001", "s")            # the zeros stay
    assert received.value.date() == date(2020, 6, 1) and received.number_format == "yyyy/mm/dd"
    assert (notes.value, notes.data_type) == ("=HYPERLINK(1)", "s")          # shown, never run
    assert phone.value == "+81" and paid.value in (None, "")


def test_widths_count_full_width_twice_hold_dates_and_cap_long_text():
    handle = io.BytesIO()
    when = datetime(2026, 12, 6, 15, 4)
    rows = [["①②③", date(2020, 6, 1), "x" * 500, local_moment_at(when), "a\r\nbbbbbbbbbbbb"]]
    workbook.write(handle, "t", ["番号", "日", "備考", "更新日時", "住所"], rows)
    sheet = load_workbook(io.BytesIO(handle.getvalue())).active
    widths = [sheet.column_dimensions[c].width for c in "ABCDE"]
    assert widths[0] >= 6 and widths[1] >= 10 and widths[2] == 60 and widths[3] >= 16
    assert widths[4] >= 12                       # the longest line, not the whole cell
    moment = sheet["D2"]
    assert moment.value == when and moment.number_format == "yyyy/mm/dd hh:mm"
    assert sheet["A1"].value == "番号" and sheet["C2"].value == "x" * 500


def local_moment_at(local: datetime):
    return LocalMoment(f"{local:%Y年%m月%d日 %H:%M}", local)
