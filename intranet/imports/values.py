"""One cell at a time: receipt numbers, dates, statuses, routes — or why not."""

import unicodedata

from intranet import plausible_dates
from intranet.dates import DateError, parse_date
from intranet.exports import FORMULA_START
from intranet.refusals import Refused
from intranet.statuses.names import fold_status
from transfer.receipt import InvalidReceiptNumber, parse_receipt_number

ROUTES = {"online": "online", "オンライン": "online", "電子申請": "online", "postal": "postal",
          "郵送": "postal", "push": "push", "プッシュ型": "push", "確認書": "push",
          "プッシュ型(確認書)": "push"}

DATE_FIELDS = ("birth_date", "received_on", "scheduled_payment_on", "paid_on",
               "documents_sent_on", "return_by")
TEXT_LIMITS = {"name": 200, "kana": 200, "address": 400, "phone": 32,
               "deficiency_reason": 2000, "notes": 2000}


_DATE_PROBLEMS = {
    "impossible": "存在しない日付です。",
    "era": "その元号の期間にない日付です。",
    "format": "日付として読めません（例: 2020/6/1、令和2年6月1日、R2.6.1）。",
}


class CellError(Refused):
    """One cell that cannot be read; the plan reports it with its line and column."""


def status_lookup(catalogue) -> dict[str, str]:
    """Statuses by every name staff write them with (``Status.names``), folded."""
    names: dict[str, str] = {}
    for code, status in catalogue.items():
        for name in status.names():
            names.setdefault(fold_status(name), code)
    return names


def _fold(text):
    return unicodedata.normalize("NFKC", text).strip().lower()


def parse_cell(field: str, raw: str, statuses: dict, kinds=None):
    """One cell's value. ``kinds``: the programme's 不備の種類 (a KindCatalogue), for the
    deficiency_kinds column."""
    text = raw.strip()  # also strips full-width spaces at the ends; inner ones are kept
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        # Neutralised by an export (intranet/exports.py): the text after the apostrophe —
        # for text columns. A number, date, status or route never begins so, and is refused
        # below as what it looks like rather than stored as text in a typed column.
        text = text[1:]
        if field in TEXT_LIMITS:
            return _text(field, text)
    if text.startswith(FORMULA_START) and field != "phone":
        raise CellError("数式のように見える値は取り込めません（先頭が = + - @）。")
    if field == "receipt_number":
        try:
            return parse_receipt_number(text)
        except InvalidReceiptNumber:
            raise CellError("受付番号として読めません（英数字4〜32桁）。") from None
    if field in DATE_FIELDS:
        if not text:
            return None
        try:
            return plausible_dates.check(field, parse_date(text))
        except DateError as error:
            raise CellError(_DATE_PROBLEMS.get(str(error), _DATE_PROBLEMS["format"])) from None
        except plausible_dates.ImplausibleDate as error:
            raise CellError(plausible_dates.MESSAGE, **error.mapping) from None
    if field == "status":
        code = statuses.get(fold_status(text))
        if code is None:
            raise CellError("状況「${value}」は状況の定義にありません。", value=text)
        return code
    if field == "deficiency_kinds":
        try:   # a retired kind reads here; the plan refuses one the record lacks
            return kinds.read(text, keep=-1) if kinds is not None and text else None
        except Refused as refused:   # unknown, retired, too long: said with the names
            raise CellError(refused.message, **refused.mapping) from None
    if field == "route":
        route = ROUTES.get(_fold(text)) if text else "postal"
        if route is None:
            raise CellError("申請方法は オンライン・郵送・プッシュ型 のいずれかです。")
        return route
    return _text(field, text)


def _text(field, text):
    if len(text) > TEXT_LIMITS.get(field, 2000):
        raise CellError("長すぎます（${limit}文字まで）。", limit=TEXT_LIMITS[field])
    return text


# Columns whose cells repeat down a file (a few dates, a handful of statuses and routes):
# each distinct text is read once per import. A file of all-distinct dates (birth dates)
# keeps at most this many per column, then starts again.
_MEMO_LIMIT = 4096
_REPEATING = (*DATE_FIELDS, "status", "route", "deficiency_kinds")
_TEXT_FIELDS = tuple(TEXT_LIMITS)
# A cell beginning with one of these takes parse_cell's general way (formula rules).
_UNUSUAL_START = ("'", *FORMULA_START)


def cell_reader(field: str, statuses: dict, kinds=None):
    """``parse_cell(field, raw, statuses, kinds)`` as a one-argument function, made for a whole
    file: it returns the same value, or raises a CellError with the same message, for every
    cell (tests/unit/intranet/imports/test_values.py) — only faster where the field allows:
    remembered for repeating columns, a direct way for plain text and ASCII receipt numbers.
    """
    if field in _REPEATING:
        return _memoised(field, statuses, kinds)
    if field == "receipt_number":
        return _receipt
    if field in _TEXT_FIELDS:
        return _text_reader(field)
    return lambda raw: parse_cell(field, raw, statuses, kinds)


def _memoised(field, statuses, kinds=None):
    """The reader of a repeating column: a remembered cell is a dictionary lookup in C (no
    Python call per cell); a new one is read by parse_cell and remembered, its value or
    its problem."""
    return _Remembered(field, statuses, kinds).__getitem__


class _Remembered(dict):
    """Cell text → value for the cells that read; the ones that do not, in ``problems``."""

    def __init__(self, field, statuses, kinds):
        super().__init__()
        self.field, self.statuses, self.kinds = field, statuses, kinds
        self.problems: dict[str, tuple] = {}

    def __missing__(self, raw):
        problem = self.problems.get(raw)
        if problem is None:
            try:
                value = parse_cell(self.field, raw, self.statuses, self.kinds)
            except CellError as error:
                problem = (error.message, error.mapping)
                if len(self.problems) >= _MEMO_LIMIT:
                    self.problems.clear()
                self.problems[raw] = problem
            else:
                if len(self) >= _MEMO_LIMIT:
                    self.clear()
                self[raw] = value
                return value
        # A fresh error each time: one raised instance would collect tracebacks.
        raise CellError(problem[0], **problem[1])


def _text_reader(field):
    limit = TEXT_LIMITS[field]

    def read(raw):
        text = raw.strip()
        if text.startswith(_UNUSUAL_START):
            return parse_cell(field, raw, {})
        if len(text) > limit:
            raise CellError("長すぎます（${limit}文字まで）。", limit=limit)
        return text

    return read


def _receipt(raw):
    """An ASCII number (``12345678``, ``1234-5678``, ``ab 12``) folded directly: for ASCII,
    NFKC changes nothing, so the normaliser's work is dropping whitespace and hyphens and
    upper-casing. Anything else, or anything the direct way would refuse, goes through
    parse_cell — the one normaliser, with its message."""
    text = raw.strip()
    if text.isascii() and not text.startswith(_UNUSUAL_START):
        folded = "".join(text.split()).replace("-", "").upper()
        if 4 <= len(folded) <= 32 and folded.isalnum():
            return folded
    return parse_cell("receipt_number", raw, {})
