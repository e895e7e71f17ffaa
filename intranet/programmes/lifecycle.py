"""A programme's life: open → lookup closed → archived → disposed.

- **lookup closed**: the next snapshot no longer carries its applications; the public page
  says the lookup has ended and whom to contact. Staff still work on the applications.
- **archived**: read-only for staff (no status change, bulk change or import).
- **disposed**: every personal field erased (``intranet.disposal``); counts remain.

Each step happens once, in this order, is dated on the programme and is audited. The
retention period runs from the day the lookup closed (Japan date).
"""

from datetime import UTC, date

from sqlalchemy import select

from intranet.audit import writer
from intranet.days import JST
from intranet.programmes.models import Programme
from intranet.refusals import Refused
from intranet.statuses.rules import StatusChangeRefused
from transfer.build import LookupEnded

OPEN, LOOKUP_CLOSED, ARCHIVED, DISPOSED = "open", "lookup_closed", "archived", "disposed"
STATE_LABELS = {OPEN: "照会受付中", LOOKUP_CLOSED: "照会終了", ARCHIVED: "保存中（読み取り専用）",
                DISPOSED: "廃棄済み"}
# The stage each staff step starts from (the confirmation is shown only there).
STEP_FROM = {"close_lookup": OPEN, "archive": LOOKUP_CLOSED}
READ_ONLY = "事業「${name}」は${state}のため、申請を変更できません。"
WRONG_STEP = "事業「${name}」は${state}のため、この操作はできません。"


class _NamesAState:
    """The stage named in the message is itself a message id: translated with it."""

    message: str
    mapping: dict

    def explain(self, request) -> str:
        state_label = request.translate(self.mapping["state"])
        return request.translate(self.message, **{**self.mapping, "state": state_label})


class ProgrammeStepRefused(_NamesAState, Refused):
    """A lifecycle step out of order."""


class ProgrammeReadOnly(_NamesAState, StatusChangeRefused):
    """A change to the applications of an archived (or disposed) programme."""


def state(programme) -> str:
    if programme.disposed_at:
        return DISPOSED
    if programme.archived_at:
        return ARCHIVED
    if programme.lookup_closed_at:
        return LOOKUP_CLOSED
    return OPEN


def japan_date(moment) -> date | None:
    """The Japan date of a stored naive-UTC timestamp."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(JST).date()


def closing_day(programme) -> date:
    """The Japan date the lookup closed (the programme must be closed)."""
    closed = japan_date(programme.lookup_closed_at)
    if closed is None:
        raise ValueError(f"programme {programme.code} is not closed")
    return closed


def lookup_ended(programme) -> LookupEnded | None:
    """What the snapshot header says of a closed programme (None while its lookup is open)."""
    if programme.lookup_closed_at is None:
        return None
    return LookupEnded(closing_day(programme), programme.contact)


def still_looked_up():
    """The ids of the programmes whose applications a snapshot carries (lookup not closed)."""
    return select(Programme.id).where(Programme.lookup_closed_at.is_(None))


def retention_ends_on(programme) -> date | None:
    """The first day disposal is allowed without an override: N years after the close."""
    closed = japan_date(programme.lookup_closed_at)
    if closed is None:
        return None
    try:
        return closed.replace(year=closed.year + programme.retention_years)
    except ValueError:  # 29 February, N years later, is not a date: the 1st of March is
        return date(closed.year + programme.retention_years, 3, 1)


def ensure_writable(programme, refusal: type[Refused] = ProgrammeReadOnly) -> None:
    """Refuse any change to the applications of an archived or disposed programme (the
    single change, the bulk change and the import all ask here)."""
    current = state(programme)
    if current in (ARCHIVED, DISPOSED):
        raise refusal(READ_ONLY, name=programme.name, state=STATE_LABELS[current])


def close_lookup(dbsession, actor, programme) -> None:
    _step(dbsession, actor, programme, OPEN, "lookup_closed_at", "programme.lookup_close")


def archive(dbsession, actor, programme) -> None:
    _step(dbsession, actor, programme, LOOKUP_CLOSED, "archived_at", "programme.archive")


def mark_disposed(dbsession, actor, programme, disposal_id: int) -> None:
    _step(dbsession, actor, programme, ARCHIVED, "disposed_at", "programme.dispose",
          disposal=disposal_id)


def _step(dbsession, actor, programme, required, column, action, **details) -> None:
    current = state(programme)
    if current != required:
        raise ProgrammeStepRefused(WRONG_STEP, name=programme.name, state=STATE_LABELS[current])
    now = writer.utcnow()
    setattr(programme, column, now)
    dbsession.flush()
    writer.append(dbsession, actor, action, f"programme:{programme.id}",
                  code=programme.code, at=now.isoformat(), state_before=current, **details)
