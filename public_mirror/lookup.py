"""A resident's question and the snapshot's answer, without any web framework.

Not found and wrong birth date are the same answer by construction: the birth date is
part of the lookup key, so both are simply "no entry with this key".
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from transfer.lookup import lookup_key
from transfer.receipt import InvalidReceiptNumber, parse_receipt_number
from transfer.snapshot import parse_time
from transfer.verify import VerifiedSnapshot

JST = ZoneInfo("Asia/Tokyo")

# Message ids (Japanese) for each input problem, shown beside the field.
RECEIPT_MISSING = "受付番号を入力してください。"
RECEIPT_INVALID = "受付番号は、お手元の通知に書かれた数字（と英字）を入力してください。"
PROGRAMME_MISSING = "給付金の種類を選んでください。"
BIRTH_DATE_MISSING = "生年月日を入力してください。"
BIRTH_DATE_INVALID = "生年月日が正しくありません。年・月・日を数字で入力してください。"

# Bounds a birth date's parts before they become numbers: "2147483648" is not a year.
_DIGITS = {"year": re.compile(r"^[0-9]{4}$"), "month": re.compile(r"^[0-9]{1,2}$"),
           "day": re.compile(r"^[0-9]{1,2}$")}
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass(frozen=True)
class Question:
    programme: dict
    receipt: str
    birth_date: date | None


@dataclass
class Reading:
    question: Question | None = None
    errors: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    found: bool
    status: dict | None = None
    scheduled_payment_on: date | None = None
    paid_on: date | None = None


def programmes(snapshot: VerifiedSnapshot) -> list[dict]:
    return snapshot.header["programmes"]


def is_open(programme: dict, today: date) -> bool:
    opens, closes = programme.get("lookup_opens_on"), programme.get("lookup_closes_on")
    return not ((opens and today < date.fromisoformat(opens))
                or (closes and today > date.fromisoformat(closes)))


def today_in_japan(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(JST).date()


def as_of(snapshot: VerifiedSnapshot) -> datetime:
    return parse_time(snapshot.header["created_at"]).astimezone(JST)


def text(params, name: str) -> str:
    """A submitted field as text; anything else (an uploaded file, a number) counts as empty."""
    value = params.get(name, "")
    return value if isinstance(value, str) else ""


def read_question(params, snapshot: VerifiedSnapshot) -> Reading:
    reading = Reading()
    known = {p["code"]: p for p in programmes(snapshot)}
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
    birth = None
    if programme is not None and programme["needs_birth_date"]:
        birth, problem = _birth_date(params)
        if problem:
            reading.errors["birth_date"] = problem
    if not reading.errors:
        reading.question = Question(programme, normalised, birth)
    return reading


def answer(snapshot: VerifiedSnapshot, secret: bytes, question: Question) -> Answer:
    return answer_key(snapshot, lookup_key(secret, question.programme["code"], question.receipt,
                                           question.birth_date))


def answer_key(snapshot: VerifiedSnapshot, key: bytes) -> Answer:
    entry = snapshot.table.find(key)
    if entry is None:
        return Answer(False)
    return Answer(True, snapshot.header["statuses"][entry.status_index],
                  entry.scheduled_payment_on, entry.paid_on)


def _birth_date(params):
    names = ("year", "month", "day")
    parts = [unicodedata.normalize("NFKC", text(params, f"birth_{p}")).strip() for p in names]
    if not any(parts):
        iso = unicodedata.normalize("NFKC", text(params, "birth_date")).strip()
        if not iso:
            return None, BIRTH_DATE_MISSING
        if not _ISO_DATE.match(iso):
            return None, BIRTH_DATE_INVALID
        parts = iso.split("-")
    if not all(_DIGITS[name].match(part) for name, part in zip(names, parts, strict=True)):
        return None, BIRTH_DATE_INVALID
    try:
        return date(*(int(p) for p in parts)), None
    except ValueError:
        return None, BIRTH_DATE_INVALID
