"""Reading CSV as municipal systems and Excel write it.

UTF-8 with or without BOM, CP932 (anything called Shift_JIS is read as CP932 so that 髙, 﨑,
①, ㈱ survive), UTF-16 with BOM (Excel "Unicode text", tab-separated); comma or tab;
quoted fields with embedded newlines; CRLF.
"""

import codecs
import csv
import io

from intranet.imports.errors import ImportRefused

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


def decode(data: bytes) -> tuple[str, str]:
    """(whole text, encoding name), or ImportRefused naming why."""
    stream, encoding = open_text(data)
    return stream.read(), encoding


def open_text(data: bytes):
    """A text stream over the bytes in their detected encoding, without decoding the whole
    file into one string (a million-row file stays a bytes object and a read buffer)."""
    if not data.strip():
        raise ImportRefused("ファイルが空です。")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            if _decodes(data, encoding):
                return _stream(data, encoding), encoding
            break
    if b"\x00" in data[:4096]:
        raise ImportRefused("CSV ファイルではないようです（バイナリファイル）。")
    for encoding in ("utf-8", "cp932"):
        if _decodes(data, encoding):
            return _stream(data, encoding), encoding
    raise ImportRefused("文字コードを判別できません。"
                        "UTF-8、Shift_JIS（CP932）、UTF-16 のいずれかで保存してください。")


def _stream(data, encoding):
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")


def _decodes(data, encoding, block=1 << 20) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for start in range(0, len(data), block):
            decoder.decode(data[start:start + block])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def records(text):
    """Yield (line number where the record starts, fields) for every non-empty record.

    ``text`` is a string or a text stream."""
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    first_line = stream.readline()
    stream.seek(0)
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(stream, delimiter=delimiter)
    line = 1
    while True:
        start = line
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportRefused("${line} 行目を CSV として読めません（${why}）。", line=start,
                                why=str(error)) from None
        line = reader.line_num + 1
        if any(cell.strip() for cell in fields):
            yield start, fields
