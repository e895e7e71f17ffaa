"""CSV out of the intranet: Excel-friendly, formula-safe and streamed.

Excel runs a cell starting with = + - @ (or a tab/CR before one) as a formula; an
exported name like ``=HYPERLINK(...)`` would then phone home. Japanese Excel also takes
the full-width ＝ ＋ － ＠ for them (and an IME types those by default). Such cells get a
leading apostrophe, which Excel shows as plain text.
"""

import codecs
import csv
import io
import re
from urllib.parse import quote

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", "−")

ENCODINGS = ("utf-8", "cp932")
# What a character Shift_JIS cannot hold (𠮷, 﨑 from outside CP932, emoji) becomes: the
# 下駄 mark, as Japanese printing marks a missing glyph — never a silent "?".
GETA = "〓"


def _geta(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeEncodeError)  # registered for encoding only
    return GETA * (error.end - error.start), error.end


codecs.register_error("shinsei-geta", _geta)

# 外字: the private-use area. CP932 maps U+E000–U+E757 to its user-defined bytes (F040…),
# but what they show depends on each PC's 外字 font: a CP932 export marks them 〓 as it marks
# what CP932 cannot hold, and an import never stores one without saying so.
GAIJI = re.compile("[\ue000-\uf8ff]")


def is_gaiji(character: str) -> bool:
    return "\ue000" <= character <= "\uf8ff"


def unrepresentable(row, encoding="cp932") -> list[str]:
    """The characters of this row's cells that ``encoding`` cannot hold (for CP932, 外字
    too: written as 〓)."""
    missing = []
    for value in row:
        text = "" if value is None else str(value)
        try:
            text.encode(encoding)
        except UnicodeEncodeError:
            pass
        else:
            if encoding != "cp932" or not GAIJI.search(text):
                continue
        missing += [c for c in text if not _encodes(c, encoding) or
                    (encoding == "cp932" and is_gaiji(c))]
    return missing


def _encodes(character, encoding):
    try:
        character.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def held_by_cp932(character: str) -> bool:
    """Whether a CP932 export writes this character as itself (not as 〓)."""
    return not is_gaiji(character) and _encodes(character, "cp932")


def as_cp932_export_writes(text: str) -> str:
    """``text`` as a CP932 export holds it: each character it cannot hold, and each 外字,
    becomes 〓 (one for one)."""
    return "".join(c if held_by_cp932(c) else GETA for c in text)


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(header, rows, encoding="utf-8"):
    """Yield encoded CSV bytes, one chunk per row; the BOM (UTF-8) comes with the header."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unsupported export encoding {encoding!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def encode_row(row):
        writer.writerow([neutralise(v) for v in row])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if encoding == "cp932" and GAIJI.search(text):
            text = GAIJI.sub(GETA, text)
        return text.encode(encoding, errors="shinsei-geta")

    # Excel needs the BOM to read UTF-8; it belongs once, at the start of the file.
    yield (codecs.BOM_UTF8 if encoding == "utf-8" else b"") + encode_row(header)
    for row in rows:
        yield encode_row(row)


def csv_response(filename, chunks, encoding="utf-8"):
    # Here, not at the top: the import command reads this module's CP932 rules and would
    # otherwise load WebOb (~50 ms of its start) for a response it never makes.
    from pyramid.response import Response

    charset = "Shift_JIS" if encoding == "cp932" else "utf-8"
    response = Response(content_type="text/csv", charset=charset)
    response.headers["Content-Disposition"] = attachment(filename)
    response.app_iter = chunks
    return response


def attachment(filename: str) -> str:
    """A Content-Disposition any browser reads: an ASCII fallback, the real name in UTF-8."""
    fallback = "export." + filename.rsplit(".", 1)[-1]
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
