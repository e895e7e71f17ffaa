"""The .xlsx export as Excel reads it back: text stays text, dates stay dates."""

import io
from datetime import date

from openpyxl import load_workbook

from intranet.applications import workbook


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
