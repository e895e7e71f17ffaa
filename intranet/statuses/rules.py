"""The status rules, in one place: which moves the catalogue allows, and what the new
status needs (振込予定日, 振込日, 不備の内容). The single change, the bulk change and the
import all ask here, so they cannot drift apart.

Messages are Japanese message ids; the screens translate them.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from intranet.refusals import Refused

TRANSITION = "「${from_label}」から「${to_label}」へは変更できません。"
NEEDS_SCHEDULED_DATE = "「${to_label}」にするには振込予定日が必要です。"
NEEDS_PAID_DATE = "「${to_label}」にするには振込日が必要です。"
NEEDS_REASON = "「${to_label}」にするには不備の内容が必要です。"
UNKNOWN_STATUS = "状況「${code}」はありません。"


class StatusRule(Protocol):
    """What the rules read of a catalogue entry (``intranet.statuses.models.Status``)."""

    @property
    def staff_label(self) -> str: ...
    @property
    def allowed_next(self) -> set[str]: ...
    @property
    def needs_scheduled_payment_date(self) -> bool: ...
    @property
    def needs_paid_date(self) -> bool: ...
    @property
    def needs_deficiency_reason(self) -> bool: ...


Catalogue = Mapping[str, StatusRule]


class StatusChangeRefused(Refused):
    """A status change that must not happen; shown to the user, nothing written."""


@dataclass(frozen=True)
class Needs:
    """The values that come with a change (for the import: the row over the record)."""

    scheduled_payment_on: date | None = None
    paid_on: date | None = None
    deficiency_reason: str = ""


def may_move(catalogue: Catalogue, from_code: str, to_code: str) -> bool:
    return to_code in catalogue[from_code].allowed_next


def check_target(catalogue: Catalogue, to_code: str, needs: Needs) -> None:
    """Raise StatusChangeRefused if ``to_code`` is unknown or lacks what it needs."""
    target = catalogue.get(to_code)
    if target is None:
        raise StatusChangeRefused(UNKNOWN_STATUS, code=to_code)
    label = {"to_label": target.staff_label}
    if target.needs_scheduled_payment_date and needs.scheduled_payment_on is None:
        raise StatusChangeRefused(NEEDS_SCHEDULED_DATE, **label)
    if target.needs_paid_date and needs.paid_on is None:
        raise StatusChangeRefused(NEEDS_PAID_DATE, **label)
    if target.needs_deficiency_reason and not needs.deficiency_reason.strip():
        raise StatusChangeRefused(NEEDS_REASON, **label)


def check_transition(catalogue: Catalogue, from_code: str, to_code: str) -> None:
    """Raise StatusChangeRefused if the catalogue has no move from ``from_code`` to ``to_code``."""
    if not may_move(catalogue, from_code, to_code):
        raise StatusChangeRefused(TRANSITION, from_label=catalogue[from_code].staff_label,
                                  to_label=catalogue[to_code].staff_label)


def check_change(catalogue: Catalogue, from_code: str | None, to_code: str, needs: Needs) -> None:
    """The whole rule for one application (``from_code`` None: a new application)."""
    if to_code not in catalogue:
        raise StatusChangeRefused(UNKNOWN_STATUS, code=to_code)
    if from_code is not None:
        check_transition(catalogue, from_code, to_code)
    check_target(catalogue, to_code, needs)
