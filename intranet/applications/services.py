"""Changing an application's status: the rules of the catalogue, history, audit.

Views never commit; the request's transaction does. A refused change raises
StatusChangeRefused before anything is written.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm.exc import StaleDataError

from intranet.applications import errors
from intranet.applications.models import Application, StatusChange
from intranet.audit import writer
from intranet.audit.writer import utcnow
from intranet.statuses import rules


@dataclass(frozen=True)
class StatusUpdate:
    """What a member of staff asks for: the new status and what that status needs."""

    to_code: str
    reason: str = ""
    scheduled_payment_on: date | None = None
    paid_on: date | None = None
    deficiency_reason: str = ""


    @property
    def needs(self) -> rules.Needs:
        return rules.Needs(self.scheduled_payment_on, self.paid_on, self.deficiency_reason)


def check_update(catalogue: rules.Catalogue, from_code: str | None, update: StatusUpdate) -> None:
    """Raise StatusChangeRefused if the catalogue's rules do not allow this update."""
    rules.check_change(catalogue, from_code, update.to_code, update.needs)


def change_status(dbsession, actor, user_id, catalogue, application: Application,
                  expected_version: int, update: StatusUpdate) -> StatusChange:
    """Change one application's status, with optimistic locking on ``version``."""
    if application.version != expected_version:
        raise errors.StatusChangeRefused(errors.STALE)
    check_update(catalogue, application.status_code, update)
    before = _snapshot(application)
    _apply(application, update)
    change = StatusChange(
        application_id=application.id, from_code=before["status"], to_code=update.to_code,
        changed_at=application.updated_at, user_id=user_id, source="manual",
        reason=update.reason, scheduled_payment_on=update.scheduled_payment_on,
        paid_on=update.paid_on,
    )
    dbsession.add(change)
    try:
        # The UPDATE carries "WHERE version = :seen": a concurrent writer makes it fail.
        dbsession.flush()
    except StaleDataError:
        raise errors.StatusChangeRefused(errors.STALE) from None
    writer.append(dbsession, actor, "application.status", f"application:{application.id}",
                  receipt=application.receipt_number_normalised,
                  before=before, after=_snapshot(application), reason=update.reason)
    return change


def _apply(application, update):
    application.status_code = update.to_code
    if update.scheduled_payment_on is not None:
        application.scheduled_payment_on = update.scheduled_payment_on
    if update.paid_on is not None:
        application.paid_on = update.paid_on
    if update.deficiency_reason:
        application.deficiency_reason = update.deficiency_reason
    application.updated_at = utcnow()


def _snapshot(application):
    return {
        "status": application.status_code,
        "scheduled_payment_on": application.scheduled_payment_on,
        "paid_on": application.paid_on,
        "deficiency_reason": application.deficiency_reason,
    }
