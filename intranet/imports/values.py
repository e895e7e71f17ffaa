"""One cell at a time: receipt numbers, dates, statuses, routes — or why not."""

import unicodedata

from intranet import plausible_dates
from intranet.exports import FORMULA_START
from intranet.imports.dates import DateError, parse_date
from intranet.refusals import Refused
from transfer.receipt import InvalidReceiptNumber, parse_receipt_number

ROUTES = {"online": "online", "オンライン": "online", "電子申請": "online", "postal": "postal",
          "郵送": "postal", "push": "push", "プッシュ型": "push", "確認書": "push"}

DATE_FIELDS = ("birth_date", "received_on", "scheduled_payment_on", "paid_on")
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
    """Statuses by code, staff label (ja/en) or resident label, width-folded."""
    names = {}
    for code, status in catalogue.items():
        for name in [code, status.staff_label, status.staff_label_en,
                     *(w.resident_label for w in status.wordings)]:
            names[_fold(name)] = code
    return names


def _fold(text):
    return unicodedata.normalize("NFKC", text).strip().lower()


def parse_cell(field: str, raw: str, statuses: dict):
    text = raw.strip()  # also strips full-width spaces at the ends; inner ones are kept
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
        code = statuses.get(_fold(text))
        if code is None:
            raise CellError("状況「${value}」は状況の定義にありません。", value=text)
        return code
    if field == "route":
        route = ROUTES.get(_fold(text)) if text else "postal"
        if route is None:
            raise CellError("申請方法は オンライン・郵送・プッシュ型 のいずれかです。")
        return route
    if len(text) > TEXT_LIMITS.get(field, 2000):
        raise CellError("長すぎます（${limit}文字まで）。", limit=TEXT_LIMITS[field])
    return text
