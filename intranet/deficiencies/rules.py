"""The rules for an application's action details (不備の種類, 書類送付日, 返送期限), in one
place: the detail page, the bulk change and the import all ask here.

- They belong to a status that needs the resident's action (``Status.needs_resident_action``):
  given with any other status, they are refused.
- The deadline is not before the day the documents were sent.
- A status change (on the detail page, in bulk, by import) stores what it gives. What it
  leaves out is kept when the application already needs the resident's action, and cleared
  when it is only now entering such a status: a new round never carries an earlier round's
  kinds or dates over. The detail page's form for the details alone shows every stored
  value, so there what is left empty is empty.

Messages are Japanese message ids; the screens translate them.
"""

from dataclasses import dataclass, replace
from datetime import date

from intranet.statuses.rules import StatusChangeRefused

NOT_FOR_STATUS = ("「${label}」は住民の手続きが必要な状況ではないため、不備の種類・書類送付日・"
                  "返送期限は設定できません。")
DEADLINE_BEFORE_SENT = "返送期限（${return_by}）が書類送付日（${sent}）より前です。"
# The bulk change names the application whose stored date the deadline would precede.
DEADLINE_BEFORE_SENT_OF = ("受付番号 ${receipt}: 返送期限（${return_by}）が書類送付日（${sent}）"
                           "より前になります。")
# The fields, in the order a form or a file shows them.
FIELDS = ("deficiency_kinds", "documents_sent_on", "return_by")


class ActionDetailsRefused(StatusChangeRefused):
    """Action details that must not be stored; ``field`` names the one at fault."""

    def __init__(self, field: str, message: str, **mapping: object) -> None:
        super().__init__(message, **mapping)
        self.field = field


@dataclass(frozen=True)
class ActionDetails:
    """What a resident is told to do, as stored: kind bits and two dates. In a change, None
    is "not given" (see ``after``)."""

    deficiency_kinds: int | None = None
    documents_sent_on: date | None = None
    return_by: date | None = None

    @property
    def given(self) -> list[str]:
        return [name for name in FIELDS if getattr(self, name) not in (None, 0)]

    @classmethod
    def of(cls, application) -> "ActionDetails":
        return cls(application.deficiency_kinds or 0, application.documents_sent_on,
                   application.return_by)


def after(current: ActionDetails, given: ActionDetails, *, new_round: bool) -> ActionDetails:
    """The details once ``given`` is applied: what it does not give is kept, or cleared on a
    ``new_round`` (the application is only now entering a status that needs action)."""
    base = ActionDetails(0) if new_round else current
    return replace(base, **{name: getattr(given, name) for name in FIELDS
                            if getattr(given, name) is not None})


def check(status, details: ActionDetails, given: ActionDetails | None = None) -> None:
    """Raise ActionDetailsRefused unless ``details`` may stand with ``status`` (anything
    with ``needs_resident_action`` and ``staff_label``). ``given``: what the change itself
    gave (default: ``details``) — only that is refused for a status without action, so an
    application keeps, unpublished, what an earlier round set."""
    given = details if given is None else given
    if given.given and not status.needs_resident_action:
        raise ActionDetailsRefused(given.given[0], NOT_FOR_STATUS, label=status.staff_label)
    sent, return_by = details.documents_sent_on, details.return_by
    if sent and return_by and return_by < sent:
        raise ActionDetailsRefused("return_by", DEADLINE_BEFORE_SENT,
                                   return_by=return_by.isoformat(), sent=sent.isoformat())
