"""Excel (.xlsx) exports: what staff open in Excel stays as it was in the system.

Receipt numbers and codes are text cells (a 15-digit number never turns into 1.00E+14, a
leading zero never drops), dates are date cells (yyyy/mm/dd) and times date-time cells
(更新日時), the header row is frozen with filters on. Each column is as wide as its header
and its longest value need (a full-width character counts two), so Excel never shows a date
as ########.
A value that begins like a formula is written as a text cell: Excel shows it and never runs
it, and nothing is added to it, so re-importing the file changes nothing.
"""

import pickle
import re
import tempfile
import unicodedata
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from pyramid.response import FileIter, Response

from intranet.exports import attachment
from intranet.web import LocalMoment

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DATE_FORMAT = "yyyy/mm/dd"
_MOMENT_FORMAT = "yyyy/mm/dd hh:mm"
# Widths in Excel's unit (one digit of the default font). Text wider than _WIDEST overflows
# into the next cell or is cut at the cell's edge — it is never shown as ########; only
# dates and numbers are, and they are far narrower.
_PADDING, _NARROWEST, _WIDEST = 2, 6, 60
# What a cell's text cannot carry as itself is written as OOXML's _xHHHH_ escape, as Excel
# writes it: each character XML 1.0 cannot hold (the C0 controls but TAB and LF — openpyxl
# refuses them, openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE — a lone surrogate, U+FFFE, U+FFFF)
# and CR, which XML reads as LF. A literal "_x" before four hex digits is written with its
# "_" as _x005F_, so that it is never read as an escape — even when an escape follows it
# ("_x0041" then a CR). intranet.imports.workbook reads every escape back, so a re-imported
# export holds exactly the stored text. Every text cell of every .xlsx export goes through
# ooxml_text (the one rule).
_NOT_HELD = re.compile(r"[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")
_LOOKS_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{4})")


def _escape(found: re.Match) -> str:
    return f"_x{ord(found.group()):04X}_"


def ooxml_text(text: str) -> str:
    """``text`` as a cell of an .xlsx holds it (never refused by openpyxl)."""
    if "_x" in text:
        text = _LOOKS_ESCAPED.sub("_x005F_", text)
    return _NOT_HELD.sub(_escape, text) if _NOT_HELD.search(text) else text


def write(handle, title: str, header: list[str], rows) -> None:
    """Stream ``rows`` into an .xlsx at ``handle``: memory stays flat. The widths must be
    written before the first row, so the rows are measured on their way into a temporary
    file (unlinked from the start, gone when closed) and written from it."""
    with tempfile.TemporaryFile() as spool:
        widths, count = _measured(header, rows, spool)
        spool.seek(0)
        book = Workbook(write_only=True)
        sheet = book.create_sheet(title[:31])
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        sheet.append([_cell(sheet, name, font=bold) for name in header])
        for _ in range(count):
            row = pickle.load(spool)  # noqa: S301  (written just above by this process)
            sheet.append([_cell(sheet, value) for value in row])
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"
        book.save(handle)


def _measured(header, rows, spool) -> tuple[list[float], int]:
    """(each column's width, how many rows), each row pickled into ``spool``."""
    needed = [shown_width(name) for name in header]
    count = 0
    for row in rows:
        pickle.dump(list(row), spool, protocol=pickle.HIGHEST_PROTOCOL)
        for index, value in enumerate(row):
            needed[index] = max(needed[index], shown_width(value))
        count += 1
    return [min(_WIDEST, max(_NARROWEST, width + _PADDING)) for width in needed], count


def shown_width(value) -> int:
    """How many digit widths ``value`` takes as its cell shows it."""
    if isinstance(value, LocalMoment):
        return len("2020/06/01 12:00") if value.moment else 0
    if isinstance(value, date):
        return len("2020/06/01")
    text = "" if value is None else str(value)
    # Wide, full-width and ambiguous (①, ○, ※) characters take two digits in Japanese fonts.
    return max((sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in line)
                for line in text.splitlines()), default=0)


def _cell(sheet, value, font=None):
    if isinstance(value, LocalMoment) and value.moment is not None:
        cell = WriteOnlyCell(sheet, value=value.moment)
        cell.number_format = _MOMENT_FORMAT
        return cell
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
