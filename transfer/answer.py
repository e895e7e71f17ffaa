"""What a resident is told for one entry of a snapshot: the status and its dates and, for a
status that needs the resident's action, what is missing, where to send it, by when, and
when the letter was sent.

One function for every reader, so they cannot drift apart: the residents' page, its fast
path and the JSON API (``public_mirror.lookup``), and a staff screen showing what a
resident sees (it reads a delivered publication's header and the application's row there).
Pure: no clock — whether a deadline has passed is asked with the day it is asked on — and
no I/O. Texts stay as the header carries them (furigana markup included); each reader
renders them (``transfer.ruby``).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from transfer.table import Entry

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


@dataclass(frozen=True)
class Answer:
    found: bool
    status: dict[str, Any] | None = None
    scheduled_payment_on: date | None = None
    paid_on: date | None = None
    action: ActionDetails | None = None


def answer_entry(header: dict[str, Any], programme: dict[str, Any],
                 entry: Entry | None) -> Answer:
    """The answer for ``entry`` (None: not found) of a verified snapshot's ``header``, for the
    programme the question named."""
    if entry is None:
        return Answer(False)
    status = header["statuses"][entry.status_index]
    return Answer(True, status, entry.scheduled_payment_on, entry.paid_on,
                  action_details(programme, status, entry.deficiency_kinds,
                                 entry.documents_sent_on, entry.return_by))


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
