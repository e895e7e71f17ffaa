"""Reading CSV as municipal systems and Excel write it.

UTF-8 with or without BOM, CP932 (anything called Shift_JIS is read as CP932 so that 髙, 﨑,
①, ㈱ survive), UTF-16 with BOM (Excel "Unicode text", tab-separated); comma or tab;
quoted fields with embedded newlines; CRLF.
"""

import codecs
import csv
import io

from intranet.imports import workbook
from intranet.imports.errors import ImportRefused

# A record longer than this is not an applicant row; refused before any of it is decoded,
# so a 50 MB file of one line costs a scan of its bytes, not a 50 MB string.
MAX_LINE_BYTES = 64 * 1024
# One cell (a quoted one may span lines); the longest column, 備考, holds 2,000 characters.
MAX_FIELD_CHARS = 16 * 1024
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（BOM 付き）", "cp932": "Shift_JIS（CP932）",
                  "utf-16": "UTF-16", "xlsx": "Excel（.xlsx）"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def read_rows(data: bytes, filename: str = "", pick=None, chosen=None):
    """(encoding or "xlsx", the file's records): CSV/TSV text or an Excel workbook. For a
    workbook, ``pick`` chooses the sheet (workbook.records) and ``chosen`` is told which."""
    if workbook.is_workbook(data):
        return "xlsx", workbook.records(data, filename, pick, chosen)
    stream, encoding = open_text(data)
    return encoding, records(stream)


def decode(data: bytes) -> tuple[str, str]:
    """(whole text, encoding name), or ImportRefused naming why."""
    stream, encoding = open_text(data)
    return stream.read(), encoding


def open_text(data: bytes):
    """A text stream over the bytes in their detected encoding, without decoding the whole
    file into one string (a million-row file stays a bytes object and a read buffer)."""
    if not data.strip():
        raise ImportRefused("ファイルが空です。")
    check_line_lengths(data)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            failed_at = _decode_failure(data, encoding)
            if failed_at is None:
                return _stream(data, encoding), encoding
            raise _undecodable(data, encoding, failed_at)
    if b"\x00" in data[:4096]:
        raise ImportRefused("CSV ファイルではないようです（バイナリファイル）。")
    failures: dict[str, int] = {}
    for encoding in ("utf-8", "cp932"):
        failed_at = _decode_failure(data, encoding)
        if failed_at is None:
            return _stream(data, encoding), encoding
        failures[encoding] = failed_at
    # The encoding that read furthest is the one the file is in, broken at that byte.
    encoding = max(failures, key=lambda name: failures[name])
    raise _undecodable(data, encoding, failures[encoding])


def check_line_lengths(data: bytes, limit: int = MAX_LINE_BYTES) -> None:
    """Refuse the first line longer than ``limit`` bytes, looking at no more than that."""
    start, line = 0, 1
    while start < len(data):
        end = data.find(b"\n", start, start + limit + 1)
        if end == -1:
            if len(data) - start <= limit:
                return
            raise ImportRefused("${line} 行目が長すぎます（1行 ${limit} KB まで）。改行のない"
                                "ファイルや、CSV でないファイルでないか確かめてください。",
                                line=line, limit=limit // 1024)
        start, line = end + 1, line + 1


def _undecodable(data, encoding, offset):
    line_start = data.rfind(b"\n", 0, offset) + 1
    return ImportRefused(
        "${line} 行目の ${column} バイト目（0x${byte}）が ${encoding} として読めません（文字コードの"
        "違いか、ファイルの破損です）。"
        "その行の文字を確かめるか、UTF-8・Shift_JIS（CP932）・UTF-16 のいずれかで"
        "保存し直してください。", line=data.count(b"\n", 0, offset) + 1,
        column=offset - line_start + 1, byte=data[offset:offset + 1].hex().upper(),
        encoding=ENCODING_NAMES["utf-8" if encoding == "utf-8-sig" else encoding])


def _stream(data, encoding):
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")


def _decode_failure(data, encoding, block=1 << 20) -> int | None:
    """The offset of the first byte ``encoding`` cannot read, or None if it reads it all.

    UTF-8 and CP932 are read in blocks cut after a newline (0x0A is never part of a
    multi-byte character in either), so an error's offset is exact; UTF-16 is read
    incrementally and its offset is that of the failing block's start plus the error's."""
    if encoding == "utf-16":
        decoder = codecs.getincrementaldecoder(encoding)()
        start = 0
        try:
            for start in range(0, len(data), block):
                decoder.decode(data[start:start + block])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as error:
            return min(len(data) - 1, start + error.start)
        return None
    start = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0
    plain = "utf-8" if encoding == "utf-8-sig" else encoding
    while start < len(data):
        cut = data.find(b"\n", start + block)
        end = len(data) if cut == -1 else cut + 1
        try:
            data[start:end].decode(plain)
        except UnicodeDecodeError as error:
            return start + error.start
        start = end
    return None


def records(text):
    """Yield (line number where the record starts, fields) for every non-empty record.

    ``text`` is a string or a text stream."""
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    # Told from the first lines, not the first alone: a title line above the header has
    # neither commas nor tabs.
    first_lines = "".join(stream.readline() for _ in range(10))
    stream.seek(0)
    delimiter = "\t" if first_lines.count("\t") > first_lines.count(",") else ","
    csv.field_size_limit(MAX_FIELD_CHARS)   # the same limit for every import in the process
    reader = csv.reader(stream, delimiter=delimiter)
    line = 1
    while True:
        start = line
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                raise ImportRefused("${line} 行目から始まる項目が長すぎます（${limit} 文字まで）。"
                                    "引用符（\"）の閉じ忘れがないか確かめてください。",
                                    line=start, limit=MAX_FIELD_CHARS) from None
            raise ImportRefused("${line} 行目を CSV として読めません。引用符（\"）の対応を"
                                "確かめてください。", line=start) from None
        line = reader.line_num + 1
        if "".join(fields).strip():     # some cell is more than whitespace
            yield start, fields
