"""What the residents' page answers for one application, read from a snapshot's header: the
status and its dates and, for a status that needs the resident's action, what is missing,
where to send it, by when, and when the letter was sent.

The one reading every reader shares, so they cannot drift apart: the residents' page, its
fast path and the JSON API (``public_mirror.lookup``), and the staff's 「公開中の表示」 for an
application (``intranet.publications.shown``: from the last delivered publication's frozen
header and what it said of that application). Whatever an answer comes to say is added here.

Pure: nothing here knows where the values come from (an entry of a verified snapshot, or a
row the intranet kept), no clock — whether a deadline has passed is asked with the day it
is asked on — and no I/O. Texts stay as the header carries them (furigana markup included);
each reader renders them (``transfer.ruby``). Header parts are the dicts the snapshot
carries (``transfer.build``).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from transfer.table import Entry

# What a status's wording holds, per language (``transfer.build.status_fields``).
WORDING_PARTS = ("label", "explanation", "next_step")
# A text of the header per language (a kind's wording, 返送先, 同封するもの).
Texts = dict[str, str]


def in_language(texts: Texts | None, lang: str) -> str:
    """The text for ``lang``, or the Japanese one when the header has none in it."""
    texts = texts or {}
    return texts.get(lang) or texts.get("ja") or ""


@dataclass(frozen=True)
class ActionDetails:
    """What the resident has to do, from codes and day numbers the entry carries and the
    wording the header carries for the programme (never a text typed about one person)."""

    missing: tuple[Texts, ...]          # each deficiency kind's wording, in catalogue order
    kinds: int                          # the entry's kind bits (what ``missing`` was read from)
    documents_sent_on: date | None
    return_by: date | None
    return_to: Texts
    enclose: Texts

    def missing_in(self, lang: str) -> list[str]:
        return [in_language(kind, lang) for kind in self.missing]

    def return_to_in(self, lang: str) -> str:
        return in_language(self.return_to, lang)

    def enclose_in(self, lang: str) -> str:
        return in_language(self.enclose, lang)

    def overdue(self, today: date) -> bool:
        """The deadline has passed (the last day itself still counts)."""
        return self.return_by is not None and today > self.return_by


class Answer(NamedTuple):
    """One application's answer: ``found`` false is "no such application" (which is also
    the answer to a wrong birth date: the lookup key includes it). Immutable, made at a
    third of a frozen dataclass's cost (one per resident's answer)."""

    found: bool
    status: dict[str, Any] | None = None
    scheduled_payment_on: date | None = None
    paid_on: date | None = None
    action: ActionDetails | None = None

    @property
    def code(self) -> str | None:
        return self.status["code"] if self.status else None

    @property
    def action_needed(self) -> bool:
        """The resident must do something (the page makes it stand out)."""
        return bool(self.status and self.status.get("action_needed"))

    def wording(self, lang: str) -> dict[str, str]:
        """Label, explanation and next step in ``lang`` — in Japanese where the header has
        none in that language — as written (furigana markup included: see transfer.ruby)."""
        if not self.status:
            return {}
        wording = self.status.get("wording") or {}
        text = wording.get(lang) or wording.get("ja") or {}
        return {part: text.get(part) or "" for part in WORDING_PARTS}


NOT_FOUND = Answer(False)


def answer(status: dict[str, Any], scheduled_payment_on: date | None = None,
           paid_on: date | None = None, *, programme: dict[str, Any] | None = None,
           kinds: int = 0, documents_sent_on: date | None = None,
           return_by: date | None = None) -> Answer:
    """The answer for an application in ``status``: only the dates the status carries, and
    the action details (given ``programme``, whose kinds and 返送先 they read) only where
    the status needs the resident's action."""
    dates = status.get("dates") or ()
    action = programme and action_details(programme, status, kinds, documents_sent_on,
                                          return_by)
    return Answer(True, status,
                  scheduled_payment_on if "scheduled_payment_on" in dates else None,
                  paid_on if "paid_on" in dates else None, action or None)


def answer_entry(header: dict[str, Any], programme: dict[str, Any],
                 entry: Entry | None) -> Answer:
    """The answer for ``entry`` (None: not found) of a verified snapshot's ``header``, for the
    programme the question named."""
    if entry is None:
        return NOT_FOUND
    return answer(header["statuses"][entry.status_index], entry.scheduled_payment_on,
                  entry.paid_on, programme=programme, kinds=entry.deficiency_kinds,
                  documents_sent_on=entry.documents_sent_on, return_by=entry.return_by)


def action_details(programme: dict[str, Any], status: dict[str, Any], kinds: int,
                   documents_sent_on: date | None, return_by: date | None) -> ActionDetails | None:
    """The action details, for a status that needs the resident's action and an application
    staff gave any for; None otherwise — so a format-1 snapshot answers as it always did.

    A kind bit the programme does not define is left out: it names nothing to show."""
    if not status.get("action_needed") or not (kinds or documents_sent_on or return_by):
        return None
    missing = tuple(kind["wording"] for kind in programme.get("deficiency_kinds", [])
                    if kinds >> kind["bit"] & 1)
    return ActionDetails(missing, kinds, documents_sent_on, return_by,
                         programme.get("return_to") or {}, programme.get("enclose") or {})


def status_named(header: dict[str, Any], code: str) -> dict[str, Any] | None:
    return next((s for s in header["statuses"] if s["code"] == code), None)


def programme_named(header: dict[str, Any], code: str) -> dict[str, Any] | None:
    return next((p for p in header["programmes"] if p["code"] == code), None)


def is_open(programme: dict[str, Any], today: date) -> bool:
    """Whether residents may look this programme up today (else the page says it is closed)."""
    if programme.get("lookup_ended"):  # the intranet closed the lookup for good
        return False
    opens, closes = programme.get("lookup_opens_on"), programme.get("lookup_closes_on")
    return not ((opens and today < date.fromisoformat(opens))
                or (closes and today > date.fromisoformat(closes)))
