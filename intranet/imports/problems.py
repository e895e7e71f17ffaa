"""Problems of an import file grouped, with what to fix, and written out whole.

390 rows refused for the same reason are one line on the screen and in the CLI: how many,
the first rows' line numbers, the column and reason, and the column to add or fill when the
reason is a missing value (「不備内容」列を追加してください). Every problem — not only the
first rows kept for the screen — can be written to a UTF-8 CSV: the CLI's ``--problems`` and
the dry-run screen's download both use CsvWriter.
"""

import codecs
import csv
from dataclasses import dataclass, field

from intranet import characters
from intranet.exports import neutralise
from intranet.fields import FIELD_WORDS
from intranet.imports import columns
from intranet.statuses import rules

FIRST_LINES = 5          # line numbers a group names
MAX_GROUPS = 1000        # distinct problems kept (a file of all-different ones stays bounded)

# A reason that is a missing value: the field whose column fills it.
_MISSING = {rules.NEEDS_REASON: "deficiency_reason",
            rules.NEEDS_SCHEDULED_DATE: "scheduled_payment_on",
            rules.NEEDS_PAID_DATE: "paid_on"}
ADD_COLUMN = "「${column}」列を追加して、これらの行に書いてください。"
FILL_COLUMN = "「${column}」列の、これらの行の空欄を埋めてください。"


@dataclass
class Group:
    column: str
    message: str
    mapping: dict
    example: str = ""                   # the first row's value as written
    count: int = 0
    lines: list = field(default_factory=list)
    fix: tuple | None = None            # (message, mapping): what to add or fill


def key_of(error) -> tuple:
    return (error.column, error.message,
            tuple(sorted((name, str(value)) for name, value in error.mapping.items())))


def add(groups: dict, error, plan_columns) -> None:
    """Count ``error`` into its group (made on first sight, while there is room)."""
    key = key_of(error)
    group = groups.get(key)
    if group is None:
        if len(groups) >= MAX_GROUPS:
            return
        group = groups[key] = Group(error.column, error.message, error.mapping, error.value,
                                    fix=fix_for(error.message, plan_columns))
    group.count += 1
    if len(group.lines) < FIRST_LINES:
        group.lines.append(error.line)


def fix_for(message: str, plan_columns) -> tuple | None:
    """The column to add (or to fill, if the file has it) for a missing value."""
    missing = _MISSING.get(message)
    if missing is None:
        return None
    name = columns.label(missing)
    if plan_columns is not None and missing in plan_columns.fields:
        name = plan_columns.titles[plan_columns.fields.index(missing)]
        return FILL_COLUMN, {"column": name}
    return ADD_COLUMN, {"column": name}


def largest_first(groups: dict) -> list[Group]:
    return sorted(groups.values(), key=lambda g: (-g.count, g.lines[:1]))


def alone(groups: dict, errors: list) -> list:
    """The errors no other row shares (the others are shown by their group)."""
    return [e for e in errors if (g := groups.get(key_of(e))) is None or g.count == 1]


HEADER = ("種類", "行", "列", "値", "理由", "直し方")
# What each kind of problem means to the clerk reading the file: a refused row, or a notice
# (what the import does other than the file says, or a change to check).
KINDS = {"error": "取り込めない行", "notice": "登録済みの値を残す"}
NOTICE_KINDS = {characters.GAIJI_REPLACED: "外字を置き換える",
                characters.GETA_ADDED: "確かめてほしい変更",
                characters.QUESTION_ADDED: "確かめてほしい変更",
                characters.CHARACTERS_DROPPED: "確かめてほしい変更"}


def kind_of(kind: str, error) -> str:
    """The words for a problem's kind (``kind``: "error" | "notice")."""
    return NOTICE_KINDS.get(error.message, KINDS[kind]) if kind == "notice" else KINDS[kind]


def _excel_csv(handle, header):
    """A CSV writer on ``handle`` that Excel opens as it is: UTF-8 with a BOM, CR LF."""
    handle.write(codecs.BOM_UTF8.decode("utf-8"))
    writer = csv.writer(handle, lineterminator="\r\n")
    writer.writerow(header)
    return writer


class CsvWriter:
    """Every problem as a row of a UTF-8 CSV with a BOM (Excel opens it as it is), in the
    order they are found; ``translate(message, mapping)`` fills in the message."""

    def __init__(self, handle, translate):
        self._writer = _excel_csv(handle, HEADER)
        self._translate = translate
        self._columns = None
        self.count = 0

    def for_columns(self, plan_columns):
        self._columns = plan_columns

    def __call__(self, kind: str, error) -> None:
        fix = fix_for(error.message, self._columns)
        # A value from the file may begin like a formula: Excel opens this file.
        self._writer.writerow([self._translate(kind_of(kind, error), {}), error.line,
                               neutralise(error.column), neutralise(error.value),
                               self._translate(error.message, error.mapping),
                               self._translate(*fix) if fix else ""])
        self.count += 1


CHANGES_HEADER = ("行", FIELD_WORDS["receipt_number"], "項目", "登録済みの値", "ファイルの値")


def changed_fields(row) -> list[str]:
    """The fields a changed row (imports.plan.RowPlan) changes, in the file's order."""
    return [name for name in row.values if name in columns.FIELD_WORDS]


def before_of(row, name):
    """The stored value a changed row replaces (its status: the one it leaves)."""
    return row.before_status if name == "status" else (row.before or {}).get(name)


class ChangesWriter:
    """Every changed field of every changed row, stored value → file's value, one line each:
    the CLI's ``--changes`` file (the dry-run screen shows the first 200 rows).
    ``words(field, value)`` writes a value as staff read it (a status's name, a date)."""

    def __init__(self, handle, words):
        self._writer = _excel_csv(handle, CHANGES_HEADER)
        self._words = words
        self.count = 0

    def __call__(self, row) -> None:
        for name in changed_fields(row):
            self._writer.writerow([row.line, neutralise(row.receipt), columns.label(name),
                                   neutralise(self._words(name, before_of(row, name))),
                                   neutralise(self._words(name, row.values[name]))])
        self.count += 1
