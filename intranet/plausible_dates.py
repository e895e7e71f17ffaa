"""How a date is read from a form and how far back and ahead a stored date may lie: one rule
for every way a date comes in.

A single imported 2500-01-01 once made the dashboard draw 175,000 days for every member
of staff. Imports, the status forms, the bulk change and the programme form all ask
``check`` before a date is stored; the chart is bounded besides (intranet.dashboard).
"""

import re
from datetime import date, timedelta

from intranet.refusals import Refused
from transfer.usage_counts import today_in_japan

# field -> (earliest, days after today that are still plausible)
BOUNDS = {
    "birth_date": (date(1900, 1, 1), 0),
    "received_on": (date(2000, 1, 1), 31),
    "scheduled_payment_on": (date(2000, 1, 1), 2 * 366),
    "paid_on": (date(2000, 1, 1), 31),
    # The letter asking for missing papers is dated when it is sent; its deadline a few
    # weeks (at most months) later.
    "documents_sent_on": (date(2000, 1, 1), 31),
    "return_by": (date(2000, 1, 1), 366),
    "lookup_opens_on": (date(2000, 1, 1), 5 * 366),
    "lookup_closes_on": (date(2000, 1, 1), 10 * 366),
}

MESSAGE = "ありえない日付です（${earliest}〜${latest} の範囲で入力してください）。"
FORMAT = "日付の形式が正しくありません（例: 2020-06-01）。"
# What a date box sends. date.fromisoformat would also take 20200601 and 2020-W23-1: a
# hand-made address is not read more generously than the form.
_FORM_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class UnreadableDate(Refused):
    """A form's date that is not a real day written YYYY-MM-DD; ``field`` names the box."""

    def __init__(self, field: str):
        super().__init__(FORMAT)
        self.field = field


def from_form(field: str, text: str | None, today: date | None = None) -> date | None:
    """The date typed in ``field`` (None when empty), in the range ``check`` allows for it;
    UnreadableDate or ImplausibleDate saying why not. Every screen reads its dates here."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if not _FORM_DATE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise UnreadableDate(field) from None
    return check(field, day, today)


class ImplausibleDate(ValueError):
    """``mapping`` fills MESSAGE: the range the field accepts."""

    def __init__(self, earliest: date, latest: date):
        super().__init__(MESSAGE)
        self.mapping = {"earliest": earliest.isoformat(), "latest": latest.isoformat()}


def check(field: str, value: date | None, today: date | None = None) -> date | None:
    if value is None or field not in BOUNDS:
        return value
    earliest, ahead = BOUNDS[field]
    # Japan's today, whatever the host's clock zone (a birth today, entered at 00:30 on a
    # host on UTC, is not "in the future").
    latest = (today or today_in_japan()) + timedelta(days=ahead)
    if not earliest <= value <= latest:
        raise ImplausibleDate(earliest, latest)
    return value
