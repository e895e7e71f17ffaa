"""Reading an Excel (.xlsx) import file: the first sheet, row by row, as the text a CSV of
it would hold — so it goes through the same column plan and the same checks.

A date cell becomes 2020/06/01, a whole number 12345678 (Excel keeps no leading zeros in a
number cell: such numbers must be typed as text), an empty cell "". Formulas are read as the
values Excel last computed, never evaluated here. The workbook is read in
openpyxl's read-only mode, a row at a time.
"""

import io
import zipfile
from datetime import date, datetime

from openpyxl import load_workbook

from intranet.exports import neutralise
from intranet.imports.errors import ImportRefused

SIGNATURE = b"PK\x03\x04"


def is_workbook(data: bytes) -> bool:
    return data.startswith(SIGNATURE)


def records(data: bytes):
    """Yield (row number, cells as text) for every non-empty row of the first sheet."""
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise ImportRefused("Excel ファイル（.xlsx）として読めません。Excel で開けるか確かめ、"
                            ".xlsx 形式か CSV で保存し直してください。") from None
    try:
        sheet = book.worksheets[0]
        width = None
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            cells = [_text(v) for v in values]
            if width is None:
                while cells and not cells[-1].strip():
                    cells.pop()
                width = len(cells)
            else:
                cells = _fit(cells, width)
            if any(cell.strip() for cell in cells):
                yield number, cells
    finally:
        book.close()


def _fit(cells, width):
    """Trailing empty cells past the header are no extra column (Excel pads ragged rows)."""
    while len(cells) > width and not cells[-1].strip():
        cells.pop()
    return cells + [""] * (width - len(cells))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return f"{value.year}/{value.month:02d}/{value.day:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    # A text cell is never run by Excel, whatever it begins with: it reads as the CSV
    # export's neutralised form, which the cell rules take as plain text.
    return neutralise(value)
