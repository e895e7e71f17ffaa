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
    """(text, encoding name) or ImportRefused naming why."""
    if not data.strip():
        raise ImportRefused("ファイルが空です。")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                break
    if b"\x00" in data[:4096]:
        raise ImportRefused("CSV ファイルではないようです（バイナリファイル）。")
    for encoding in ("utf-8", "cp932"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ImportRefused("文字コードを判別できません。"
                        "UTF-8、Shift_JIS（CP932）、UTF-16 のいずれかで保存してください。")


def records(text: str):
    """Yield (line number where the record starts, fields) for every non-empty record."""
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
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
