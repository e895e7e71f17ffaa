"""Reading an Excel (.xlsx) import file: the sheet that holds the header, row by row, as the text a CSV of
it would hold — so it goes through the same column plan and the same checks.

A date cell becomes 2020/06/01, a whole number 12345678 (Excel keeps no leading zeros in a
number cell: such numbers must be typed as text), an empty cell "". Formulas are read as the
values Excel last computed, never evaluated here. The workbook is read in
openpyxl's read-only mode, a row at a time, and only after ``workbook_check`` has measured
every part of it (sizes, ratio, parts, rows, columns, cells, no DTD, no external target).
"""

import io
import itertools
import re
from datetime import date, datetime

from intranet.exports import neutralise
from intranet.imports import workbook_check
from intranet.imports.columns import HEADER_SEARCH
from intranet.imports.errors import ImportRefused

SIGNATURE = b"PK\x03\x04"


def is_workbook(data: bytes) -> bool:
    return data.startswith(SIGNATURE)


def records(data: bytes, filename: str = "", pick=None, chosen=None):
    """Yield (row number, cells as text) for every non-empty row of the sheet that holds the
    header: ``pick(candidates)`` scores each sheet's first rows (columns.header_index) and
    the first sheet with the best is read — a cover sheet before the list is passed over.
    ``chosen`` (a dict) is told the sheet read and every sheet's name."""
    # openpyxl is loaded for a workbook only: a CSV import's start (a daily bank file) does
    # not pay its ~70 ms.
    from openpyxl import load_workbook

    workbook_check.check(data, filename)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # Whatever openpyxl's readers meet in a file that passed the check (a missing part,
        # a ParseError, an IndexError on a broken reference) is a file we cannot read: a
        # refusal naming it, never a 500.
        raise workbook_check.unreadable(filename) from None
    try:
        sheet, header_row = _guarded(filename, _choose, book, pick)
        if chosen is not None:
            chosen.update(sheet=sheet.title, sheets=[each.title for each in book.worksheets])
        yield from _rows(sheet, header_row, filename)
    finally:
        book.close()


def _guarded(filename, function, *args):
    try:
        return function(*args)
    except ImportRefused:
        raise
    except Exception:
        raise workbook_check.unreadable(filename) from None


def _choose(book, pick):
    """(the sheet, its header's row number): the first sheet whose first rows name the most
    columns; the first sheet and its first row when none names any."""
    best = None
    for sheet in book.worksheets:
        # The file's own <dimension> would widen every row and add empty rows up to it.
        sheet.reset_dimensions()
        first = list(itertools.islice(_trimmed(sheet), HEADER_SEARCH))
        if not first:
            continue
        index, score = pick([cells for _, cells in first]) if pick else (0, 0)
        if best is None or score > best[0]:
            best = (score, sheet, first[index][0])
    if best is None:
        return book.worksheets[0], 1
    return best[1], best[2]


def _trimmed(sheet):
    """(row number, cells without trailing empties) of every non-empty row."""
    for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
        cells = [_text(v) for v in values]
        while cells and not cells[-1].strip():
            cells.pop()
        if cells:
            yield number, cells


def _rows(sheet, header_row, filename):
    """Rows above the header as they are; the header's width for every row after it."""
    width = None
    try:
        for number, cells in _trimmed(sheet):
            if number == header_row:
                width = len(cells)
            elif width is not None:
                cells = _fit(cells, width)
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
    return neutralise(_unescaped(value) if isinstance(value, str) else value)


# OOXML's escape for a character XML would not keep (a CR is _x000D_, as Excel and our
# export write it; a literal "_x" before four hex digits is _x005F_x…): openpyxl leaves
# them as written.
_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")


def _unescaped(text: str) -> str:
    return _ESCAPED.sub(lambda found: chr(int(found.group(1), 16)), text) if "_x" in text \
        else text
