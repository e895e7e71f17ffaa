"""Excel (.xlsx) exports: what staff open in Excel stays as it was in the system.

Receipt numbers and codes are text cells (a 15-digit number never turns into 1.00E+14, a
leading zero never drops), dates are date cells, the header row is frozen with filters on.
A value that begins like a formula is written as a text cell: Excel shows it and never runs
it, and nothing is added to it, so re-importing the file changes nothing.
"""

import re
import tempfile
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from pyramid.response import FileIter, Response

from intranet.exports import attachment

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DATE_FORMAT = "yyyy/mm/dd"
# XML reads a CR in a cell's text as LF: OOXML writes it _x000D_ (as Excel does), and a
# literal "_x0041_" in the text as _x005F_x0041_ so that it is not read as an escape
# (intranet.imports.workbook reads both back).
_LOOKS_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def ooxml_text(text: str) -> str:
    if "_x" in text:
        text = _LOOKS_ESCAPED.sub("_x005F_", text)
    return text.replace("\r", "_x000D_") if "\r" in text else text


def write(handle, title: str, header: list[str], rows) -> None:
    """Stream ``rows`` into an .xlsx at ``handle`` (write-only: memory stays flat)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    sheet.append([_cell(sheet, name, font=bold) for name in header])
    count = 0
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"
    book.save(handle)


def _cell(sheet, value, font=None):
    if isinstance(value, datetime):
        value = value.date()
    cell = WriteOnlyCell(sheet, value=value if isinstance(value, date) else
                         ("" if value is None else ooxml_text(str(value))))
    if isinstance(value, date):
        cell.number_format = _DATE_FORMAT
    else:
        cell.data_type = "s"          # text, even when it looks like a number or a formula
    if font is not None:
        cell.font = font
    return cell


def response(filename: str, title: str, header: list[str], rows) -> Response:
    """The workbook built in a temporary file (a zip needs seeking), then streamed."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115  (closed by FileIter when sent)
    write(spool, title, header, rows)
    size = spool.tell()
    spool.seek(0)
    result = Response(content_type=CONTENT_TYPE)
    result.headers["Content-Disposition"] = attachment(filename)
    result.content_length = size
    result.app_iter = FileIter(spool)
    return result
