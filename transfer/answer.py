"""What the residents' page answers for one application, read from a snapshot's header.

The one reading both hosts share: the public host answers a resident with it
(``public_mirror.lookup``), and the intranet shows staff the same answer for an
application — 「公開中の表示」, from the last delivered publication's frozen header and
what it said of that application (``intranet.publications.shown``). Whatever an answer
comes to say (a status, its wording, its dates, what the resident must do) is added here,
so that both read it alike.

Nothing here knows where the values come from: an entry of a verified snapshot, or a row
the intranet kept. Header parts are the dicts the snapshot carries (``transfer.build``).
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

# What a status's wording holds, per language (``transfer.build.status_fields``).
WORDING_PARTS = ("label", "explanation", "next_step")


@dataclass(frozen=True)
class Answer:
    """One application's answer: ``found`` false is "no such application" (which is also
    the answer to a wrong birth date: the lookup key includes it)."""

    found: bool
    status: dict[str, Any] | None = None
    scheduled_payment_on: date | None = None
    paid_on: date | None = None

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
           paid_on: date | None = None) -> Answer:
    """The answer for an application in ``status``: only the dates the status carries."""
    dates = status.get("dates") or ()
    return Answer(True, status,
                  scheduled_payment_on if "scheduled_payment_on" in dates else None,
                  paid_on if "paid_on" in dates else None)


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
