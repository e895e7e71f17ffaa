"""A resident's question and the snapshot's answer, without any web framework.

Not found and wrong birth date are the same answer by construction: the birth date is
part of the lookup key, so both are simply "no entry with this key".
"""

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from public_mirror import birthdate
from transfer.answer import Answer, answer_entry, is_open
from transfer.lookup import LookupHasher
from transfer.receipt import InvalidReceiptNumber, parse_receipt_number
from transfer.snapshot import parse_time
from transfer.verify import VerifiedSnapshot

JST = ZoneInfo("Asia/Tokyo")

# Message ids (Japanese) for each input problem, shown beside the field.
RECEIPT_MISSING = "受付番号を入力してください。"
RECEIPT_INVALID = "受付番号は、お手元の通知に書かれた数字（と英字）を入力してください。"
PROGRAMME_MISSING = "給付金の種類を選んでください。"
# The form's fields, kept as typed (bounded) to show them again after an error.
TYPED_FIELDS = ("programme", "receipt_number", "birth_era", "birth_year", "birth_month",
                "birth_day")
TYPED_LIMIT = 64


class Question(NamedTuple):
    """Immutable, made at a third of a frozen dataclass's cost (one per request)."""

    programme: dict
    receipt: str
    birth_date: date | None
    birth_era: str = ""   # how the birth date was typed (birthdate.era_typed), to show it so


@dataclass
class Reading:
    question: Question | None = None
    errors: dict = field(default_factory=dict)


__all__ = ["Answer", "Question", "answer", "answer_key", "is_open", "read_question"]


def programmes(snapshot: VerifiedSnapshot) -> list[dict]:
    return snapshot.header["programmes"]


def paid_percent(programme: dict) -> int | None:
    """The share of applications paid (whole percent, rounded down), when the snapshot
    publishes it (a programme with enough applications; see transfer.progress)."""
    progress = programme.get("progress")
    if not progress or not progress["applications"]:
        return None
    return progress["paid"] * 100 // progress["applications"]


def numeric_keyboard(programmes: list[dict], chosen: str = "") -> bool:
    """Digits-only receipt numbers get the numeric keyboard; letters need the full one."""
    shown = [p for p in programmes if p["code"] == chosen] or programmes
    return all(p.get("receipt_digits_only") for p in shown)


def today_in_japan(now: datetime | None = None) -> date:
    if now is not None:
        return now.astimezone(JST).date()
    moment = time.time()
    starts, ends, today = _today
    if starts <= moment < ends:   # the day is kept from one midnight in Japan to the next:
        return today              # no time zone conversion per answer
    return _keep_today(moment)


_today: tuple[float, float, date] = (0.0, 0.0, date.min)


def _keep_today(moment: float) -> date:
    global _today
    today = datetime.fromtimestamp(moment, JST).date()
    midnight = datetime.combine(today, datetime.min.time(), JST)
    _today = (midnight.timestamp(), (midnight + timedelta(days=1)).timestamp(), today)
    return today


def as_of(snapshot: VerifiedSnapshot) -> datetime:
    return parse_time(snapshot.header["created_at"]).astimezone(JST)


def text(params, name: str) -> str:
    """A submitted field as text; anything else (an uploaded file, a number) counts as empty."""
    value = params.get(name, "")
    return value if isinstance(value, str) else ""


def typed(params) -> dict:
    """What the resident typed, to fill the form again: known fields only, each bounded."""
    if params is None:
        return {}
    return {name: text(params, name)[:TYPED_LIMIT] for name in TYPED_FIELDS
            if text(params, name)}


def read_question(params, snapshot: VerifiedSnapshot) -> Reading:
    reading = Reading()
    known = _by_code(snapshot)
    code = text(params, "programme") or (next(iter(known)) if len(known) == 1 else "")
    programme = known.get(code)
    if programme is None:
        reading.errors["programme"] = PROGRAMME_MISSING
    receipt = text(params, "receipt_number")
    try:
        normalised = parse_receipt_number(receipt)
    except InvalidReceiptNumber:
        normalised = None
        reading.errors["receipt_number"] = (RECEIPT_INVALID if receipt.strip()
                                            else RECEIPT_MISSING)
    birth, era = None, ""
    if programme is not None and programme["needs_birth_date"]:
        birth, problem = birthdate.read(params, text, today_in_japan())
        era = birthdate.era_typed(params, text)
        if problem:
            reading.errors["birth_date"] = problem
    if not reading.errors:
        reading.question = Question(programme, normalised, birth, era)
    return reading


_known: tuple[object, dict] = (None, {})


def _by_code(snapshot: VerifiedSnapshot) -> dict:
    """The snapshot's programmes by code, made once per snapshot rather than per question."""
    global _known
    listed = programmes(snapshot)
    if _known[0] is not listed:
        _known = (listed, {p["code"]: p for p in listed})
    return _known[1]


def answer(snapshot: VerifiedSnapshot, secret: bytes, question: Question) -> Answer:
    # ``question.receipt`` is normalised already (``read_question``): hashed as it is.
    key = _hasher(secret, question.programme["code"]).key(question.receipt, question.birth_date)
    return answer_key(snapshot, key, question.programme)


@lru_cache(maxsize=64)
def _hasher(secret: bytes, programme: str) -> LookupHasher:
    """One per programme: the HMAC state after the prefix is computed once, not per answer."""
    return LookupHasher(secret, programme)


def answer_key(snapshot: VerifiedSnapshot, key: bytes, programme: dict) -> Answer:
    """The answer for a lookup key of ``programme`` (transfer.answer: the one answer every
    reader builds, action details included)."""
    return answer_entry(snapshot.header, programme, snapshot.table.find(key))
