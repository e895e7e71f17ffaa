""".xlsx files made to hurt a server, built byte by byte by the tests (issue 25 item 4).

A small zip writer of our own, because the attacks need what ``zipfile`` will not write: a
member whose deflate stream was made elsewhere (a 1 GiB bomb made from one compressed 1 MiB
block repeated, never 1 GiB in memory) and a central directory that lies about sizes.
"""

import dataclasses
import struct
import zlib
from dataclasses import dataclass
from functools import cache

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET = "xl/worksheets/sheet1.xml"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>')
ROOT_RELS = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
             f'<Relationship Id="rId1" Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/>'
             '</Relationships>')
WORKBOOK = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{OFFICE}">'
            '<sheets><sheet name="申請一覧" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
                 f'<Relationship Id="rId1" Type="{OFFICE}/worksheet" '
                 'Target="worksheets/sheet1.xml"/>{extra}</Relationships>')
SHEET_HEAD = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
SHEET_TAIL = "</sheetData></worksheet>"


@dataclass(frozen=True)
class Member:
    name: str
    deflated: bytes
    crc: int
    size: int
    declared_size: int | None = None    # what the central directory says, when it lies

    @classmethod
    def of(cls, name: str, data: bytes) -> "Member":
        squeeze = zlib.compressobj(6, zlib.DEFLATED, -15)
        return cls(name, squeeze.compress(data) + squeeze.flush(), zlib.crc32(data), len(data))


def zip_bytes(members: list[Member]) -> bytes:
    """A zip of these members, deflated, with their local headers and central directory."""
    body, directory = bytearray(), bytearray()
    for member in members:
        name = member.name.encode("utf-8")
        size = member.size if member.declared_size is None else member.declared_size
        sizes = struct.pack("<III", member.crc, len(member.deflated), size)
        offset = len(body)
        body += struct.pack("<IHHHHH", 0x04034B50, 20, 0x800, 8, 0, 0x21) + sizes
        body += struct.pack("<HH", len(name), 0) + name + member.deflated
        directory += struct.pack("<IHHHHHH", 0x02014B50, 20, 20, 0x800, 8, 0, 0x21) + sizes
        directory += struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, offset) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members),
                      len(directory), len(body), 0)
    return bytes(body + directory + end)


def cell(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xml(rows: list[list[str]], head: str = SHEET_HEAD) -> str:
    return head + "".join(f'<row r="{n}">{"".join(cell(v) for v in row)}</row>'
                          for n, row in enumerate(rows, 1)) + SHEET_TAIL


def workbook(sheet: str | Member, *, rels_extra: str = "", more: tuple = (),
             replace: dict | None = None) -> bytes:
    """A minimal .xlsx openpyxl reads: one sheet of inline strings; ``replace`` swaps a part."""
    parts = {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": ROOT_RELS,
             "xl/workbook.xml": WORKBOOK,
             "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.format(extra=rels_extra)}
    parts.update(replace or {})
    members = [Member.of(name, text.encode("utf-8")) for name, text in parts.items()]
    members.append(sheet if isinstance(sheet, Member) else Member.of(SHEET, sheet.encode()))
    return zip_bytes([*members, *more])


@cache
def bomb_member(gib: int = 1) -> Member:
    """The sheet of a zip bomb: ``gib`` GiB of rows from one deflated 1 MiB block repeated.

    Each piece is deflated on its own and ended with a full flush, so the pieces join into
    one valid deflate stream; the CRC is the real one, so nothing but size gives it away."""
    row = b'<row><c t="inlineStr"><is><t>1234-5678</t></is></c></row>'
    block = row * (2**20 // len(row))
    head, tail = SHEET_HEAD.encode(), SHEET_TAIL.encode()
    pieces, crc = [], zlib.crc32(head)
    for data in (head, block, tail):
        squeeze = zlib.compressobj(9, zlib.DEFLATED, -15)
        pieces.append(squeeze.compress(data) + squeeze.flush(
            zlib.Z_FINISH if data is tail else zlib.Z_FULL_FLUSH))
    count = gib * 1024
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    deflated = pieces[0] + pieces[1] * count + pieces[2]
    size = len(head) + len(block) * count + len(tail)
    return Member(SHEET, deflated, crc, size)


def zip_bomb() -> bytes:
    """About 1 MB on disk; its sheet inflates to 1 GiB."""
    return workbook(bomb_member())


def lying_bomb() -> bytes:
    """The same bomb whose central directory says the sheet is 40 KB."""
    return workbook(dataclasses.replace(bomb_member(), declared_size=40_000))


def many_parts(count: int = 20_000) -> bytes:
    return workbook(sheet_xml([["受付番号"], ["1"]]),
                    more=tuple(Member.of(f"customXml/item{n}.xml", b"<a/>") for n in range(count)))


def wide_row(columns: int = 1_000_000) -> bytes:
    """One row of a million cells (4 MB inflated, a few kB on disk)."""
    return workbook(SHEET_HEAD + '<row r="1">' + "<c/>" * columns + "</row>" + SHEET_TAIL)


def billion_laughs() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10))
    head = SHEET_HEAD.replace("<worksheet", f"<!DOCTYPE worksheet [{entities}]><worksheet", 1)
    return workbook(sheet_xml([["受付番号"], ["&lol9;"]], head))


def external_entity(part: str = "xl/sharedStrings.xml") -> bytes:
    """An external entity to /etc/passwd, in the shared strings (or another part)."""
    doctype = '<!DOCTYPE sst [<!ENTITY passwd SYSTEM "file:///etc/passwd">]>'
    strings = (f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<sst xmlns="{MAIN}" count="1" '
               'uniqueCount="1"><si><t>&passwd;</t></si></sst>')
    rels = ('<Relationship Id="rId9" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/sharedStrings" Target="sharedStrings.xml"/>')
    sheet = (SHEET_HEAD + '<row r="1">' + cell("受付番号") + '</row><row r="2"><c t="s"><v>0</v>'
             "</c></row>" + SHEET_TAIL)
    return workbook(sheet, rels_extra=rels, replace={part: strings})


def external_target() -> bytes:
    """A relationship that points out of the package (TargetMode="External")."""
    rels = (f'<Relationship Id="rId7" Type="{OFFICE}/externalLinkPath" '
            'Target="file:///etc/passwd" TargetMode="External"/>')
    return workbook(sheet_xml([["受付番号"], ["1"]]), rels_extra=rels)
