"""An .xlsx is a zip of XML parts: every part is checked before openpyxl parses any of it.

A hostile file can cost a worker minutes or gigabytes long before it shows a single row (a
1 MB zip that inflates to 1 GiB, a million cells in one row, a DTD whose entities expand
exponentially). So, from the bytes alone and in this order:

1. the upload's size, and the number of parts the zip's end record declares (read before
   ``zipfile`` builds one object per part);
2. each part's declared sizes and compression ratio, from the central directory;
3. each part inflated in chunks, counted as it comes, stopped at the first chunk past its cap
   or past the ratio — declared sizes can lie, the counted bytes cannot;
4. every XML part's prolog through expat: no DTD (no DOCTYPE, so no entity of any kind);
   every relationship part: no target outside the package (TargetMode="External") but a
   cell's hyperlink, which Excel makes by itself of a typed e-mail address or URL and which
   openpyxl only reads as text;
5. each worksheet through expat with one small handler: rows, cells per row, columns, cells
   and elements counted, so openpyxl never builds a row or an element list we would refuse.

Figures the limits were set from (docs/security-review.md): a 100,000-row × 20-column list
saved by LibreOffice Calc is 7.7 MB, 9 parts, its sheet 71 MB inflated (ratio 10), its shared
strings 15 MB (ratio 29), 2,000,020 cells.
"""

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from xml.parsers import expat

from intranet.imports.errors import ImportRefused

HYPERLINK = "/relationships/hyperlink"

MB = 2**20
CHUNK = 64 * 1024
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@dataclass(frozen=True)
class Limits:
    compressed: int = 50 * MB        # the file as uploaded (imports.max_bytes' default)
    parts: int = 1_000               # a workbook from Excel or LibreOffice has about 10
    sheet_part: int = 512 * MB       # one worksheet inflated (openpyxl streams it)
    strings_part: int = 256 * MB     # the shared strings (held in memory whole)
    other_part: int = 16 * MB        # styles, workbook, relationships (parsed whole)
    total: int = 768 * MB            # every part inflated
    ratio: int = 100                 # inflated ÷ compressed; real parts measure 3–29
    ratio_from: int = 1 * MB         # a small part may compress better than that
    rows: int = 1_048_576            # Excel's own last row
    columns: int = 1_000             # a list has 10–50; Excel's last column is 16,384
    cells: int = 4_000_000           # twice a 100,000 × 20 list
    elements: int = 20_000_000       # XML elements in one worksheet (a cell is 2–3)
    children: int = 100_000          # of one element other than sheetData (merged cells…)


LIMITS = Limits()


def check(data: bytes, filename: str, limits: Limits = LIMITS) -> None:
    """Refuse (ImportRefused naming the file and what is wrong) before any parsing."""
    if len(data) > limits.compressed:
        raise _refused("ファイル ${file} は大きすぎます（上限 ${limit} MB）。分割して取り込んでください。",
                       filename, limit=limits.compressed // MB)
    declared = _declared_parts(data, filename)
    if declared > limits.parts:
        raise _too_many_parts(filename, declared, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise unreadable(filename) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.parts:
            raise _too_many_parts(filename, len(infos), limits)
        for info in infos:
            _check_declared(info, filename, limits)
        if sum(info.file_size for info in infos) > limits.total:
            raise _too_big_in_total(filename, limits)
        inflated = 0
        for info in infos:
            inflated += _inflate(archive, info, filename, limits, limits.total - inflated)


def unreadable(filename: str, part: str = "") -> ImportRefused:
    if part:
        return _refused("ファイル ${file} を Excel ファイル（.xlsx）として読めません"
                        "（${part} が壊れています）。"
                        "Excel で開けるか確かめ、.xlsx 形式か CSV で保存し直してください。",
                        filename, part=part)
    return _refused("ファイル ${file} を Excel ファイル（.xlsx）として読めません。Excel で開けるか確かめ、"
                    ".xlsx 形式か CSV で保存し直してください。", filename)


def _refused(message: str, filename: str, **values) -> ImportRefused:
    return ImportRefused(message, file=filename, **values)


def _too_many_parts(filename, count, limits):
    return _refused("ファイル ${file} は zip 内のファイル（部品）が多すぎます"
                    "（${count} 個、上限 ${limit} 個）。"
                    "Excel のブックではないか、不要なものを多く含んでいます。Excel で開いて保存し直すか、"
                    "CSV で保存してください。", filename, count=f"{count:,}", limit=f"{limits.parts:,}")


def _too_big_in_total(filename, limits):
    return _refused("ファイル ${file} は展開すると合計で大きすぎます（上限 ${limit} MB）。"
                    "不要なシートや書式を削除して保存し直すか、分割して取り込んでください。",
                    filename, limit=limits.total // MB)


def _too_big(filename, part, limit):
    return _refused("ファイル ${file} は展開すると大きすぎます（${part}：上限 ${limit} MB）。"
                    "不要なシートや書式を削除して保存し直すか、分割して取り込んでください。",
                    filename, part=part, limit=limit // MB)


def _declared_parts(data: bytes, filename: str) -> int:
    """How many parts the zip's end record declares (its ZIP64 record when it has one)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65535))
    if end < 0 or len(data) < end + 22:
        raise unreadable(filename)
    count = struct.unpack_from("<H", data, end + 10)[0]
    locator = end - 20
    if locator >= 0 and data[locator:locator + 4] == b"PK\x06\x07":
        record = struct.unpack_from("<Q", data, locator + 8)[0]
        if data[record:record + 4] != b"PK\x06\x06" or len(data) < record + 56:
            raise unreadable(filename)
        count = struct.unpack_from("<Q", data, record + 32)[0]
    return count


def _cap(name: str, limits: Limits) -> int:
    lowered = name.lower()
    if lowered.startswith("xl/worksheets/") and lowered.endswith(".xml"):
        return limits.sheet_part
    if lowered.endswith("sharedstrings.xml"):
        return limits.strings_part
    return limits.other_part


def _check_declared(info: zipfile.ZipInfo, filename: str, limits: Limits) -> None:
    if info.flag_bits & 0x1:
        raise _refused("ファイル ${file} にはパスワードが設定されています。"
                       "パスワードを外して保存し直してください。",
                       filename)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _refused("ファイル ${file} の ${part} は Excel が使わない圧縮方式です。Excel で開いて "
                       ".xlsx 形式で保存し直してください。", filename, part=info.filename)
    if info.file_size > _cap(info.filename, limits):
        raise _too_big(filename, info.filename, _cap(info.filename, limits))
    if info.file_size > limits.ratio_from and info.file_size > limits.ratio * info.compress_size:
        raise _too_compressed(filename, info.filename, limits)


def _too_compressed(filename, part, limits):
    return _refused("ファイル ${file} の ${part} は圧縮率が異常に高く（${ratio} 倍を超えます）、"
                    "展開すると大きくなりすぎるため開きません（zip 爆弾の疑い）。Excel で開いて保存し直すか、"
                    "CSV で保存してください。", filename, part=part, ratio=limits.ratio)


def _inflate(archive, info, filename, limits, room) -> int:
    """Inflate one part ourselves, a chunk at a time, counting what goes in and what comes
    out: stop at its cap, at the ratio of the bytes consumed so far, and at any byte past
    the size the central directory declared (a lie). How many bytes it held."""
    cap = _cap(info.filename, limits)
    reader = _reader_for(info.filename, filename, limits)
    inflated = 0
    try:
        for consumed, chunk in _chunks(archive.fp, info):
            inflated += len(chunk)
            if inflated > info.file_size:
                raise _lied(filename, info.filename)
            if inflated > cap:
                raise _too_big(filename, info.filename, cap)
            if inflated > room:
                raise _too_big_in_total(filename, limits)
            if inflated > limits.ratio_from and inflated > limits.ratio * consumed:
                raise _too_compressed(filename, info.filename, limits)
            reader.feed(chunk)
    except (zlib.error, struct.error, ValueError):
        raise unreadable(filename, info.filename) from None
    if inflated != info.file_size:
        raise _lied(filename, info.filename)
    reader.close()
    return inflated


def _lied(filename, part):
    return _refused("ファイル ${file} の ${part} は、展開した大きさが zip に書かれた大きさと違います"
                    "（壊れているか、細工されたファイルです）。"
                    "元のファイルを Excel で開いて保存し直してください。",
                    filename, part=part)


def _chunks(stream, info):
    """(compressed bytes consumed so far, the next inflated chunk) for one part."""
    stream.seek(info.header_offset)
    header = stream.read(30)
    if header[:4] != b"PK\x03\x04":
        raise ValueError("no local header")
    name_length, extra_length = struct.unpack_from("<HH", header, 26)
    stream.seek(info.header_offset + 30 + name_length + extra_length)
    left = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        while left > 0 and (chunk := stream.read(min(CHUNK, left))):
            left -= len(chunk)
            yield info.compress_size - left, chunk
        return
    inflater, consumed = zlib.decompressobj(-15), 0
    while left > 0 and not inflater.eof:
        piece = stream.read(min(16 * 1024, left))
        if not piece:
            break
        left -= len(piece)
        consumed += len(piece)
        pending = piece
        while pending and not inflater.eof:
            chunk = inflater.decompress(pending, CHUNK)
            pending = inflater.unconsumed_tail
            if chunk:
                yield consumed - len(pending), chunk


def _reader_for(part: str, filename: str, limits: Limits):
    lowered = part.lower()
    if lowered.startswith("xl/worksheets/") and lowered.endswith(".xml"):
        return _Worksheet(part, filename, limits)
    if lowered.endswith(".rels"):
        return _Xml(part, filename, whole=True)
    return _Xml(part, filename, whole=False)


class _Xml:
    """Expat over one part: a DTD anywhere is refused; for a relationship part, a target
    outside the package. Any other part is read only up to its root element (no DTD can
    come after it). A part expat cannot read is left to openpyxl, which reads it with the
    same expat and refuses it as unreadable."""

    def __init__(self, part: str, filename: str, whole: bool):
        self.part, self.filename, self.whole = part, filename, whole
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._doctype
        self.parser.ExternalEntityRefHandler = self._doctype
        self.parser.StartElementHandler = self._element
        self.done = False

    def feed(self, chunk: bytes) -> None:
        if self.done:
            return
        try:
            self.parser.Parse(chunk, False)
        except expat.ExpatError:
            self.done = True

    def close(self) -> None:
        self.feed(b"")
        if not self.done:
            try:
                self.parser.Parse(b"", True)
            except expat.ExpatError:
                self.done = True

    def _doctype(self, *_args):
        raise _refused("ファイル ${file} の ${part} に DTD（<!DOCTYPE>、実体の宣言）が含まれています。"
                       "Excel や LibreOffice が保存したファイルには無いもので、外部のファイルを読ませたり"
                       "サーバーを止めたりする攻撃に使われるため、取り込めません。Excel で開いて .xlsx 形式で"
                       "保存し直してください。", self.filename, part=self.part)

    def _element(self, _name, attributes):
        if not self.whole:
            self.done = True
            self.parser.StartElementHandler = None
            return
        if (attributes.get("TargetMode", "").lower() == "external"
                and not attributes.get("Type", "").endswith(HYPERLINK)):
            target = attributes.get("Target", "")
            raise _refused("ファイル ${file} の ${part} にブックの外への参照（${target}）が含まれています。"
                           "外部ファイルへのリンクや他のブックを参照する数式は取り込めません。リンクを削除するか、"
                           "値として貼り付けて保存し直してください。", self.filename, part=self.part,
                           target=target[:80])


class _Worksheet(_Xml):
    """A worksheet counted element by element, with the children of each element: rows
    under sheetData, cells in each row (openpyxl takes every child of a row as a cell), and
    any other element's children, so openpyxl never builds a list we would refuse."""

    def __init__(self, part: str, filename: str, limits: Limits):
        super().__init__(part, filename, whole=True)
        self.limits = limits
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self.open: list[list] = [["", 0]]      # [name, children so far] from the root down
        self.cells = self.elements = self.row_number = 0

    def _start(self, name, attributes):
        self.elements += 1
        if self.elements > self.limits.elements:
            raise self._too_many_elements(self.limits.elements)
        parent = self.open[-1]
        parent[1] += 1
        if parent[0] == _ROW:
            self._cell(attributes.get("r"), parent[1])
        elif name == _ROW:
            self._row(attributes.get("r"))
        elif parent[1] > self.limits.children and parent[0] != _DATA:
            raise self._too_many_elements(self.limits.children)
        self.open.append([name, 0])

    def _end(self, _name):
        self.open.pop()

    def _row(self, reference):
        self.row_number = _whole(reference) if reference else self.row_number + 1
        if self.row_number is None or self.row_number > self.limits.rows:
            raise _refused("ファイル ${file} の行が多すぎます（上限 ${limit} 行）。"
                           "分割して取り込んでください。",
                           self.filename, limit=f"{self.limits.rows:,}")

    def _cell(self, reference, position):
        self.cells += 1
        column = _column(reference) if reference else position
        if column is None or column > self.limits.columns or position > self.limits.columns:
            raise _refused("ファイル ${file} の ${line} 行目は列が多すぎます（上限 ${limit} 列）。"
                           "不要な列や書式を削除して保存し直してください。", self.filename,
                           line=f"{self.row_number:,}", limit=f"{self.limits.columns:,}")
        if self.cells > self.limits.cells:
            raise _refused("ファイル ${file} はセルが多すぎます（上限 ${limit} 個）。"
                           "不要な行・列を削除するか、"
                           "分割して取り込んでください。", self.filename,
                           limit=f"{self.limits.cells:,}")

    def _too_many_elements(self, limit):
        return _refused("ファイル ${file} の ${part} は XML の要素が多すぎます（上限 ${limit} 個）。"
                        "不要な書式やセルの結合を削除して保存し直すか、CSV で保存してください。",
                        self.filename, part=self.part, limit=f"{limit:,}")


_ROW, _DATA = MAIN + " row", MAIN + " sheetData"


def _whole(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 9 else None


def _column(reference: str) -> int | None:
    """The column number of a cell reference such as "AB12" (None when it is not one)."""
    letters = reference.lstrip("$").rstrip("0123456789").rstrip("$")
    if not letters or len(letters) > 3 or not letters.isascii() or not letters.isalpha():
        return None
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number
