"""Changing an application's status: the rules of the catalogue, history, audit.

Views never commit; the request's transaction does. A refused change raises
StatusChangeRefused before anything is written.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm.exc import StaleDataError

from intranet.applications import errors
from intranet.applications.models import Application, StatusChange
from intranet.audit import writer
from intranet.audit.writer import utcnow
from intranet.deficiencies import rules as action_rules
from intranet.deficiencies.rules import ActionDetails
from intranet.programmes import lifecycle
from intranet.statuses import rules


@dataclass(frozen=True)
class StatusUpdate:
    """What a member of staff asks for: the new status and what that status needs, and
    the action details residents read (None in them: not given)."""

    to_code: str
    reason: str = ""
    scheduled_payment_on: date | None = None
    paid_on: date | None = None
    deficiency_reason: str = ""
    action: ActionDetails = field(default_factory=ActionDetails)

    @property
    def needs(self) -> rules.Needs:
        return rules.Needs(self.scheduled_payment_on, self.paid_on, self.deficiency_reason)


def check_update(catalogue: rules.Catalogue, from_code: str | None, update: StatusUpdate) -> None:
    """Raise StatusChangeRefused if the catalogue's rules do not allow this update: the
    move and what the new status needs, and the action details as the change gives them."""
    rules.check_change(catalogue, from_code, update.to_code, update.needs)
    action_rules.check(catalogue[update.to_code], update.action)


def change_status(dbsession, actor, user_id, catalogue, application: Application,
                  expected_version: int, update: StatusUpdate) -> StatusChange:
    """Change one application's status, with optimistic locking on ``version``.

    The action details follow the one rule of the bulk change and the import
    (``intranet.deficiencies.rules``): what the change gives is stored; what it leaves out
    is kept between two statuses that need the resident's action, and cleared on entering
    one (a new round)."""
    lifecycle.ensure_writable(application.programme)
    if application.version != expected_version:
        raise errors.StatusChangeRefused(errors.STALE)
    check_update(catalogue, application.status_code, update)
    before = _snapshot(application)
    if catalogue[update.to_code].needs_resident_action:
        stored = action_rules.after(
            ActionDetails.of(application), update.action,
            new_round=not catalogue[application.status_code].needs_resident_action)
        action_rules.check(catalogue[update.to_code], stored, update.action)
        set_action_details(application, stored)
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
    after = _snapshot(application)
    # Receipt, reasons and dates go beside the chain, where disposal can cut them.
    writer.append(dbsession, actor, "application.status", f"application:{application.id}",
                  status_before=before["status"], status_after=after["status"],
                  personal={application.id: {"receipt": application.receipt_number_normalised,
                                             "before": before, "after": after,
                                             "reason": update.reason}})
    return change


def change_action_details(dbsession, actor, user_id, catalogue, application: Application,
                          expected_version: int, details: ActionDetails,
                          reason: str = "") -> StatusChange:
    """Change only the action details (a later deadline, one more kind) of an application
    whose status needs the resident's action; in its history as the same status again."""
    lifecycle.ensure_writable(application.programme)
    if application.version != expected_version:
        raise errors.StatusChangeRefused(errors.STALE)
    status = catalogue[application.status_code]
    stored = action_rules.after(ActionDetails.of(application), details, new_round=True)
    action_rules.check(status, stored, details)
    before = _snapshot(application)
    set_action_details(application, stored)
    application.updated_at = utcnow()
    change = StatusChange(application_id=application.id, from_code=status.code,
                          to_code=status.code, changed_at=application.updated_at,
                          user_id=user_id, source="manual", reason=reason)
    dbsession.add(change)
    try:
        dbsession.flush()
    except StaleDataError:
        raise errors.StatusChangeRefused(errors.STALE) from None
    writer.append(dbsession, actor, "application.action_details", f"application:{application.id}",
                  status=status.code,
                  personal={application.id: {"receipt": application.receipt_number_normalised,
                                             "before": before, "after": _snapshot(application),
                                             "reason": reason}})
    return change


def set_action_details(application: Application, details: ActionDetails) -> None:
    application.deficiency_kinds = details.deficiency_kinds or 0
    application.documents_sent_on = details.documents_sent_on
    application.return_by = details.return_by


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
        "deficiency_kinds": application.deficiency_kinds,
        "documents_sent_on": application.documents_sent_on,
        "return_by": application.return_by,
    }
