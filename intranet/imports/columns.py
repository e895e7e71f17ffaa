"""Which column is which — headers as municipal staff write them.

A header is folded before it is looked up: width (NFKC), every space (U+3000 too), and a
bracketed qualifier (``氏名（漢字）``, ``受付番号[必須]``) that only says more about the field.
Every field knows its usual names. What is not recognised is "not imported" — unless it looks
like a known field (``処理状況メモ``, a second 氏名 column): that, and a file whose kind cannot be
told, is refused naming the column, never guessed. A municipality's own layout (a saved
layout or the CLI's ``--mapping`` file) names columns explicitly, one ``列名: 項目`` a line
or as JSON, 取り込まない (JSON: ``null`` too) meaning "not imported". A My Number column is
refused outright.
"""

import json
import re
import unicodedata
from dataclasses import dataclass

from intranet.fields import FIELD_WORDS, FIELDS
from intranet.imports.errors import ImportRefused

# Never imported, whatever the mapping says: the system has no business holding it.
FORBIDDEN = ("個人番号", "マイナンバー", "mynumber", "individualnumber")

STATUS_REQUIRED = ("receipt_number", "status")
FULL_REQUIRED = ("receipt_number", "name", "received_on")
# A column only an applicant list has: its presence makes the file a full list.
FULL_ONLY = ("name", "kana", "birth_date", "address", "phone", "received_on", "route")

# A bracket that only qualifies: （漢字） (カナ) 【必須】 [全角] 〔 〕 ＜ ＞
_QUALIFIER = re.compile(r"[(（\[［【〔<＜《][^)）\]］】〕>＞》]*[)）\]］】〕>＞》]")
_BRACKETS = re.compile(r"[(（\[［【〔<＜《)）\]］】〕>＞》]")
_SPACES = re.compile(r"[\s_・]+")


def fold(header: str) -> str:
    """The header as looked up: width, case and spaces folded, a qualifier dropped."""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", header).lower())
    return _QUALIFIER.sub("", text) or text


def _spellings(header: str) -> tuple[str, str]:
    """The qualifier read as part of the name first (氏名（カナ） is 氏名カナ, the kana), then
    dropped (氏名（漢字） is 氏名)."""
    text = _SPACES.sub("", unicodedata.normalize("NFKC", header).lower())
    return _BRACKETS.sub("", text), fold(header)


_ALIASES = {fold(alias): field for field, aliases in FIELDS.items() for alias in aliases}
# Names long enough, and Japanese enough, that a header containing one is about that field.
_STEMS = sorted(((fold(a), f) for f, aliases in FIELDS.items() for a in aliases
                 if not a.isascii() and len(fold(a)) >= 2), key=lambda s: -len(s[0]))


def column_guide() -> list[dict]:
    """What the import page and the layout editor list before the first attempt: each
    field's label, whether each kind of file needs it, and the other headers read as it."""
    return [{"label": names[0], "variants": names[1:],
             "full": field in FULL_REQUIRED, "status": field in STATUS_REQUIRED}
            for field, names in FIELDS.items()]


def label(field: str | None) -> str:
    return FIELD_WORDS[field] if field else ""


@dataclass(frozen=True)
class ColumnPlan:
    """What happens to each column of the file, in file order."""

    titles: tuple          # as written in the file
    fields: tuple          # the field each fills, or None: not imported
    kind: str              # "full" (applicant list) | "status" (status-only result file)

    @property
    def pairs(self):
        return list(zip(self.titles, self.fields, strict=True))

    @property
    def unused(self) -> list[str]:
        return [t for t, f in zip(self.titles, self.fields, strict=True) if f is None]


def load_mapping(text: str) -> dict[str, str | None]:
    """A layout: the file's header → a field, or None for "not imported". Written one column
    a line, ``列名: 項目`` (a full-width ``：`` too), or — saved layouts and the CLI's
    ``--mapping`` files — as a JSON object (text starting with ``{``), ``null`` meaning "not
    imported". The item is a field's label, any usual name, its code, or 取り込まない. Any
    mistake is one plain sentence naming it (in the line form, its line)."""
    if _is_json(text):
        return _json_mapping(text)
    return {key: field for _, key, field in _line_entries(text)}


def layout_json(text: str) -> str:
    """A layout ``load_mapping`` accepted, as it is saved: a JSON object of the column names
    and items as written (what the CLI's ``--mapping`` takes)."""
    if _is_json(text):
        written = json.loads(text)
    else:
        written = {theirs: ours for _, theirs, ours in _written_lines(text)}
    return json.dumps(written, ensure_ascii=False, indent=2)


def layout_lines(saved: str) -> str:
    """A saved layout as it is shown for editing: one ``列名: 項目`` a line."""
    try:
        raw = json.loads(saved)
    except ValueError:
        return saved
    if not isinstance(raw, dict):
        return saved
    return "\n".join(f"{' '.join(str(theirs).splitlines())}: "
                     f"{NOT_IMPORTED if ours is None or ours == '' else ours}"
                     for theirs, ours in raw.items())


NOT_IMPORTED = "取り込まない"


def _is_json(text: str) -> bool:
    """A JSON object, as saved: ``{`` then a quoted name, ``}`` or the line's end (a line
    form's first column may begin with a brace, 「{旧}番号: 受付番号」)."""
    return _JSON_START.match(text.lstrip("\ufeff \t\r\n\u3000")) is not None


_JSON_START = re.compile(r'\{[ \t\u3000]*(["}]|\r?\n|$)')


def _json_mapping(text: str) -> dict[str, str | None]:
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise ImportRefused("対応表が JSON として読めません（${line} 行目付近）。"
                            "{\"列名\": \"受付番号\"} の形で書いてください。",
                            line=getattr(error, "lineno", 1)) from None
    if not isinstance(raw, dict) or not raw:
        raise ImportRefused("対応表は {\"列名\": \"受付番号\", …} の形の JSON オブジェクトです。")
    mapping: dict[str, str | None] = {}
    for theirs, ours in raw.items():
        if ours is None or (isinstance(ours, str) and fold(ours) in ("", NOT_IMPORTED)):
            mapping[_spellings(theirs)[0]] = None
            continue
        field = _ALIASES.get(fold(ours)) if isinstance(ours, str) else None
        if field is None:
            raise ImportRefused("対応表の「${theirs}」の行き先「${ours}」は取り込める項目ではありません。",
                                theirs=theirs, ours=str(ours))
        mapping[_spellings(theirs)[0]] = field
    return mapping


def _written_lines(text: str):
    """(line number, column name, item) of each non-blank line, trimmed (U+3000 too); a
    line without a colon refused naming it. The last colon divides: an item never holds
    one, a column name may."""
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        unseen = next((c for c in line if unicodedata.category(c) in ("Cc", "Cf")), None)
        if unseen is not None:      # a pasted BOM or zero-width space: no file's header has it
            raise ImportRefused("対応表の ${line} 行目に見えない文字（U+${code}）があります。"
                                "その行を消して、書き直してください。",
                                line=number, code=f"{ord(unseen):04X}")
        colon = max(line.rfind(":"), line.rfind("："))
        if colon < 0:
            raise ImportRefused("対応表の ${line} 行目「${text}」にコロン（:）がありません。"
                                "一行に一つ、「ファイルの列名: 取り込む項目」の形で書いてください。",
                                line=number, text=line[:60])
        yield number, line[:colon].strip(), line[colon + 1:].strip()


def _line_entries(text: str):
    """(line number, the column as looked up, its field or None) of each line, or
    ImportRefused naming the line and why."""
    entries: list[tuple[int, str, str | None]] = []
    first: dict[str, int] = {}            # the column as looked up → the line naming it
    for number, theirs, ours in _written_lines(text):
        if not theirs:
            raise ImportRefused("対応表の ${line} 行目は、コロンの前にファイルの列名がありません。"
                                "「ファイルの列名: 取り込む項目」の形で書いてください。", line=number)
        if not ours:
            raise ImportRefused("対応表の ${line} 行目は、「${theirs}」の後に取り込む項目がありません。"
                                "項目の名前か、使わない列なら「取り込まない」と書いてください。",
                                line=number, theirs=theirs)
        folded = fold(ours)
        field = None if folded == NOT_IMPORTED else _ALIASES.get(folded)
        if field is None and folded != NOT_IMPORTED:
            raise ImportRefused("対応表の ${line} 行目の「${ours}」は、取り込める項目ではありません"
                                "（「${theirs}」列の行き先）。受付番号・氏名・状況のような項目の名前か、"
                                "使わない列なら「取り込まない」と書いてください。",
                                line=number, theirs=theirs, ours=ours)
        key = _spellings(theirs)[0]
        if any(word in key for word in FORBIDDEN):   # a file with it is refused whatever it says
            raise ImportRefused("対応表の ${line} 行目の「${theirs}」は個人番号（マイナンバー）の列です。"
                                "個人番号は取り込めません。ファイルからこの列を削除し、対応表からも"
                                "この行を消してください。", line=number, theirs=theirs)
        if key in first:
            raise ImportRefused("対応表の ${line} 行目の「${theirs}」は、${first} 行目と同じ列です。"
                                "一つの列は一行にだけ書いてください。",
                                line=number, theirs=theirs, first=first[key])
        first[key] = number
        entries.append((number, key, field))
    if not entries:
        raise ImportRefused("対応表が空です。一行に一つ、「ファイルの列名: 取り込む項目」の形で"
                            "書いてください。")
    return entries


def map_header(header: list[str], mapping: dict | None = None) -> ColumnPlan:
    """The column plan for this header, or ImportRefused naming the column at fault."""
    mapping = mapping or {}
    fields: list[str | None] = []
    seen: dict[str, str] = {}
    for title in header:
        spellings = _spellings(title)
        key = spellings[1]
        if any(word in spellings[0] for word in FORBIDDEN):
            raise ImportRefused("「${column}」列があります。個人番号（マイナンバー）は取り込めません。"
                                "この列を削除してから取り込んでください。", column=title)
        field, chosen = _lookup(spellings, mapping)
        if field is None and not chosen:
            _refuse_lookalike(title, key)
        if field in seen:
            raise ImportRefused("「${first}」と「${column}」の両方が「${field}」にあたります。"
                                "使う列を一つにするか、取込の対応表で片方を「取り込まない」にしてください。",
                                first=seen[field], column=title, field=label(field))
        if field:
            seen[field] = title
        fields.append(field)
    kind = _kind(seen)
    return ColumnPlan(tuple(header), tuple(fields), kind)


# A value written in figures — 12345678, 1234-5678, 2020/6/1, 042-000-0001, 1,000 — which no
# column name is.
_FIGURES = re.compile(r"[\d\s.,/:()\-‐−ー]*\d[\d\s.,/:()\-‐−ー]*")
# Lines looked at for the header: a title, a date line and blank lines come before it in
# many municipal exports (「令和2年度 特別定額給付金 申請者一覧（令和2年6月1日現在）」).
HEADER_SEARCH = 10


def header_index(candidates, mapping: dict | None = None) -> tuple[int, int]:
    """(index of the header among the first records' cells, how many of its cells name a
    field): the first record with the most known column names; (0, 0) if none has any. A
    record with as many cells written in figures (a receipt number, a date, a phone number)
    as cells naming a column is a row of values, never the header, whatever else it holds (a
    status ``received``); a header may still have a column named in figures (「2020」)."""
    best, best_score = 0, 0
    for index, cells in enumerate(candidates):
        score = sum(1 for title in cells if title.strip() and
                    (_lookup(_spellings(title), mapping or {}) != (None, False)))
        figures = sum(1 for cell in cells
                      if _FIGURES.fullmatch(unicodedata.normalize("NFKC", cell).strip()))
        if figures >= score:
            continue
        if score > best_score:
            best, best_score = index, score
    return best, best_score


def no_header(first_line: int, first: str | None = None) -> ImportRefused:
    """No header among the first lines: said first, then what a header holds. ``first`` is
    the first line's only cell (a title), quoted; a line of several cells may be a row's
    values, which a refusal never quotes."""
    if first is not None:
        return ImportRefused(
            "見出しの行が見つかりません（最初の ${count} 行に、列名の並んだ行がありません。"
            "${line} 行目は「${first}」です）。見出しの行には、申請者一覧なら 受付番号・氏名・申請日、"
            "状況だけのファイルなら 受付番号・状況 の列名が必要です。"
            "見出しの行を加えるか、取込の対応表で列名を指定してください。",
            count=HEADER_SEARCH, line=first_line, first=first[:60])
    return ImportRefused(
        "見出しの行が見つかりません（最初の ${count} 行に、列名の並んだ行がありません）。"
        "見出しの行には、申請者一覧なら 受付番号・氏名・申請日、状況だけのファイルなら 受付番号・状況 の"
        "列名が必要です。見出しの行を加えるか、取込の対応表で列名を指定してください。",
        count=HEADER_SEARCH)


def _lookup(spellings, mapping):
    """(field or None, whether a layout decided it)."""
    for key in spellings:
        if key in mapping:
            return mapping[key], True
    for key in spellings:
        if key in _ALIASES:
            return _ALIASES[key], False
    return None, False


def _refuse_lookalike(title, key):
    for stem, field in _STEMS:
        if stem in key:
            raise ImportRefused("「${column}」列は「${field}」のように見えますが、どの項目に取り込むか"
                                "決められません。列名を「${field}」にするか、取込の対応表で指定してください"
                                "（取り込まない列は「取り込まない」と指定します）。",
                                column=title, field=label(field))


def _kind(seen: dict) -> str:
    """Full list or status-only — told from the columns, or refused naming them."""
    full_columns = [seen[f] for f in FULL_ONLY if f in seen]
    if full_columns:
        missing = [label(f) for f in FULL_REQUIRED if f not in seen]
        if missing:
            raise ImportRefused("「${present}」の列があるので申請者一覧として読みましたが、"
                                "${missing} の列がありません。状況だけのファイルなら、"
                                "「${present}」の列を外すか「取り込まない」と指定してください。",
                                present="」「".join(full_columns), missing="・".join(missing))
        return "full"
    missing = [label(f) for f in STATUS_REQUIRED if f not in seen]
    if missing:
        raise ImportRefused("必須の列がありません: ${columns}（申請者一覧なら 受付番号・氏名・申請日、"
                            "状況だけのファイルなら 受付番号・状況 が必要です）。",
                            columns="・".join(missing))
    return "status"
