"""CSV out of the intranet: Excel-friendly, formula-safe and streamed.

Excel runs a cell starting with = + - @ (or a tab/CR before one) as a formula; an
exported name like ``=HYPERLINK(...)`` would then phone home. Such cells get a leading
apostrophe, which Excel shows as plain text.
"""

import csv
import io
from urllib.parse import quote

from pyramid.response import Response

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

ENCODINGS = {"utf-8": "utf-8-sig", "cp932": "cp932"}


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(header, rows, encoding="utf-8"):
    """Yield encoded CSV bytes, one chunk per row; the BOM (UTF-8) comes with the header."""
    codec = ENCODINGS[encoding]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def encode_row(row, first=False):
        writer.writerow([neutralise(v) for v in row])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        data = text.encode(codec, errors="replace")
        # utf-8-sig writes a BOM on every encode(); keep only the file's first one.
        if codec == "utf-8-sig" and not first:
            data = data[3:]
        return data

    yield encode_row(header, first=True)
    for row in rows:
        yield encode_row(row)


def csv_response(filename, chunks, encoding="utf-8"):
    charset = "Shift_JIS" if encoding == "cp932" else "utf-8"
    response = Response(content_type="text/csv", charset=charset)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"export.csv\"; filename*=UTF-8''{quote(filename)}"
    )
    response.app_iter = chunks
    return response
