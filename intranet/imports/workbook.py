"""Reading an Excel (.xlsx) import file: the first sheet, row by row, as the text a CSV of
it would hold — so it goes through the same column plan and the same checks.

A date cell becomes 2020/06/01, a whole number 12345678 (Excel keeps no leading zeros in a
number cell: such numbers must be typed as text), an empty cell "". Formulas are read as the
values Excel last computed, never evaluated here. The workbook is read in
openpyxl's read-only mode, a row at a time, and only after ``workbook_check`` has measured
every part of it (sizes, ratio, parts, rows, columns, cells, no DTD, no external target).
"""

import io
from datetime import date, datetime

from openpyxl import load_workbook

from intranet.exports import neutralise
from intranet.imports import workbook_check
from intranet.imports.errors import ImportRefused

SIGNATURE = b"PK\x03\x04"


def is_workbook(data: bytes) -> bool:
    return data.startswith(SIGNATURE)


def records(data: bytes, filename: str = ""):
    """Yield (row number, cells as text) for every non-empty row of the first sheet."""
    workbook_check.check(data, filename)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # Whatever openpyxl's readers meet in a file that passed the check (a missing part,
        # a ParseError, an IndexError on a broken reference) is a file we cannot read: a
        # refusal naming it, never a 500.
        raise workbook_check.unreadable(filename) from None
    try:
        yield from _rows(book, filename)
    finally:
        book.close()


def _rows(book, filename):
    try:
        sheet = book.worksheets[0]
        # The file's own <dimension> would widen every row and add empty rows up to it.
        sheet.reset_dimensions()
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
    except ImportRefused:
        raise
    except Exception:
        raise workbook_check.unreadable(filename) from None


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
