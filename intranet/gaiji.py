"""The city's 外字 table: each 外字 code point → a standard character or 〓.

A 外字 (Unicode's private-use area, Shift_JIS's user-defined F040…) shows as another glyph
or a box on every PC without the city's 外字 font. Without a table an import refuses it
(intranet.characters). With one (the ini's ``imports.gaiji_table``: a small UTF-8 CSV read
when the app or a command starts), a mapped 外字 is imported as its replacement, the dry
run lists each one (line, column, code point, replacement), and the original code point is
written into the application's 備考 (notes) — so nothing is lost; an unmapped 外字 is still
refused.

The file, one 外字 a line (a header line, blank lines and lines starting with # are skipped;
a third column, e.g. what the 外字 looks like, is for people and ignored)::

    外字,置き換え,メモ
    U+E000,髙,はしごだか
    E001,〓,点のある「辻」
"""

import csv
import io
import re
import sys
import unicodedata
from pathlib import Path

from intranet.exports import GETA, is_gaiji

_CODE = re.compile(r"^(?:U\+)?([0-9A-Fa-f]{4,6})$")
# The private-use area holds 6,400 外字: a table of them is tens of KB (and a cell under
# the csv module's own field limit).
_TABLE_LIMIT = 100_000
_HEADER_WORDS = {"外字", "code", "コード", "code point"}
NOTES_LIMIT = 2000           # the 備考 column's limit (imports.values)


class TableError(ValueError):
    """The table cannot be used; the message names the file, the line and why."""


def load(path: str | Path) -> dict[str, str]:
    """The table at ``path``: {外字: replacement}; TableError says what is wrong."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise TableError(f"{path}: 外字表のファイルがありません (gaiji table not found)") from None
    except OSError as error:
        raise TableError(f"{path}: 外字表を読めません (cannot read: {error.strerror})") from None
    except UnicodeDecodeError as error:
        line = text_line(error.object, error.start)
        raise TableError(f"{path}, {line} 行目: UTF-8 で保存してください "
                         f"(line {line}: not UTF-8)") from None
    if len(text) > _TABLE_LIMIT:
        raise TableError(f"{path}: 外字表が大きすぎます（{_TABLE_LIMIT // 1000:,} KB まで） "
                         f"(larger than {_TABLE_LIMIT // 1000:,} KB)")
    table: dict[str, str] = {}
    for line, cells in enumerate(csv.reader(io.StringIO(text)), 1):
        cells = [cell.strip() for cell in cells]
        if not any(cells) or cells[0].startswith("#") or \
                (line == 1 and cells[0].lower() in _HEADER_WORDS):
            continue
        gaiji, replacement = _entry(cells, f"{path}, {line} 行目")
        if gaiji in table:
            raise TableError(f"{path}, {line} 行目: U+{ord(gaiji):04X} は前の行にもあります "
                             f"(line {line}: U+{ord(gaiji):04X} twice)")
        table[gaiji] = replacement
    return table


def _entry(cells, where) -> tuple[str, str]:
    found = _CODE.match(cells[0])
    if found is None:
        raise TableError(f"{where}: 1 列目は外字の番号（U+E000 の形）です。「{cells[0]}」は読めません "
                         f"(the first column is a code point like U+E000)")
    number = int(found.group(1), 16)
    gaiji = chr(number) if number <= sys.maxunicode else ""
    if not is_gaiji(gaiji):
        raise TableError(f"{where}: U+{number:04X} は外字（U+E000〜U+F8FF）ではありません "
                         f"(not in the private-use area)")
    replacement = cells[1] if len(cells) > 1 else ""
    if len(replacement) != 1 or is_gaiji(replacement) or not _standard(replacement):
        raise TableError(f"{where}: 2 列目には置き換える標準の文字を 1 文字か 〓 を書いてください。"
                         f"「{replacement}」は使えません "
                         f"(the second column is one standard character or {GETA})")
    return gaiji, replacement


def _standard(character: str) -> bool:
    """A character a name can stand on: a letter, a figure or 〓 — not a space, a mark
    that joins the one before it (U+0301), a symbol such as = or an invisible one."""
    return character == GETA or unicodedata.category(character)[0] in "LN"


def text_line(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def replace(table: dict[str, str], text: str) -> tuple[str, list[tuple[int, str, str]]]:
    """``text`` with each mapped 外字 replaced, and what was replaced: (position from 1,
    the 外字, its replacement). An unmapped 外字 stays, to be refused."""
    replaced = []
    out = []
    for position, character in enumerate(text, 1):
        if is_gaiji(character) and character in table:
            replaced.append((position, character, table[character]))
            out.append(table[character])
        else:
            out.append(character)
    return "".join(out), replaced


def memo(column: str, position: int, gaiji: str, replacement: str) -> str:
    """The line 備考 keeps for one replaced 外字 (the original is never lost)."""
    return f"【外字】{column} {position} 文字目: U+{ord(gaiji):04X} → {replacement}"


def with_memos(notes: str, memos: list[str]) -> str:
    """``notes`` with each memo line it does not hold yet (a re-import adds none)."""
    lines = [m for m in dict.fromkeys(memos) if m not in notes.splitlines()]
    return "\n".join([notes, *lines] if notes else lines)
