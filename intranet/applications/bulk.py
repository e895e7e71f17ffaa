"""Bulk status change: a day's batch of thousands, previewed, then applied all or nothing.

The preview is a plan; its token is a hash of every (application, version) it would change
and of the requested update. Confirming recomputes the plan under row locks: if anything
moved since the preview, the token differs and nothing is written.
"""

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update

from intranet.applications import errors
from intranet.applications import lifecycle as writable
from intranet.applications.models import STATUS_CHANGES, Application
from intranet.applications.services import StatusUpdate, check_update
from intranet.audit import writer
from intranet.audit.writer import utcnow
from intranet.deficiencies import rules as action_rules
from intranet.refusals import Refused
from intranet.statuses import rules
from transfer.receipt import InvalidReceiptNumber, parse_receipt_number

# SQLite allows 32,766 bound parameters and PostgreSQL 65,535: stay well below both.
_CHUNK = 1000


class TooManyNumbers(Refused):
    def __init__(self, limit: int) -> None:
        super().__init__("貼り付けられた番号が多すぎます（最大 ${limit} 件）。", limit=f"{limit:,}")
        self.limit = limit


@dataclass
class Resolution:
    """Pasted lines matched against one programme's applications."""

    ids: list[int] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    invalid: list[tuple[int, str]] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)


@dataclass
class BulkPlan:
    update: StatusUpdate
    changes: list = field(default_factory=list)      # (id, version, receipt, from_code)
    unchanged: list = field(default_factory=list)    # receipt numbers already there
    refused: list = field(default_factory=list)      # (receipt, from_code)
    token: str = ""

    @property
    def ids(self):
        return [change[0] for change in self.changes]


def resolve_numbers(dbsession, programme_id: int, text: str, limit: int) -> Resolution:
    """Turn pasted receipt numbers (any width, any dash) into application ids."""
    lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if len(lines) > limit:
        raise TooManyNumbers(limit)
    result, wanted = Resolution(), {}
    for line_no, line in lines:
        try:
            number = parse_receipt_number(line)
        except InvalidReceiptNumber:
            result.invalid.append((line_no, line))
            continue
        if number in wanted:
            result.repeated.append(line)
        wanted[number] = line
    found = {}
    numbers = list(wanted)
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start:start + _CHUNK]
        found.update(dbsession.execute(
            select(Application.receipt_number_normalised, Application.id).where(
                Application.programme_id == programme_id,
                Application.receipt_number_normalised.in_(chunk),
            )
        ).all())
    result.ids = [found[n] for n in numbers if n in found]
    result.unknown = [wanted[n] for n in numbers if n not in found]
    return result


def plan(dbsession, catalogue, ids: list[int], status_update: StatusUpdate,
         lock: bool = False) -> BulkPlan:
    """What applying ``status_update`` to these applications would do.

    Raises StatusChangeRefused if the update itself is malformed (unknown status, missing
    date, action details the new status cannot have, or a deadline that would fall before
    an application's documents were sent); per-application refusals (disallowed
    transitions) are listed instead.
    """
    check_update(catalogue, None, status_update)
    writable.ensure_all_writable(dbsession, ids)
    result = BulkPlan(update=status_update)
    target = catalogue[status_update.to_code]
    for row in _rows(dbsession, ids, lock):
        receipt, from_code = row[2], row[3]
        if rules.may_move(catalogue, from_code, status_update.to_code):
            if target.needs_resident_action:
                _check_details(catalogue, row, status_update)
            result.changes.append(tuple(row[:4]))
        elif from_code == status_update.to_code:
            result.unchanged.append(receipt)
        else:
            result.refused.append((receipt, from_code))
    result.token = _token(result)
    return result


def apply(dbsession, actor, user_id, catalogue, ids, status_update, token) -> BulkPlan:
    """Apply a previewed plan, all or nothing; StatusChangeRefused(STALE) if it moved."""
    current = plan(dbsession, catalogue, ids, status_update, lock=True)
    if current.token != token:
        raise errors.StatusChangeRefused(errors.BULK_STALE)
    now = utcnow()
    values = {"status_code": status_update.to_code, "updated_at": now,
              "version": Application.version + 1}
    if status_update.scheduled_payment_on:
        values["scheduled_payment_on"] = status_update.scheduled_payment_on
    if status_update.paid_on:
        values["paid_on"] = status_update.paid_on
    if status_update.deficiency_reason:
        values["deficiency_reason"] = status_update.deficiency_reason
    for ids_, details in _action_groups(catalogue, current, status_update):
        for start in range(0, len(ids_), _CHUNK):
            dbsession.execute(
                update(Application).where(Application.id.in_(ids_[start:start + _CHUNK]))
                .values(**values, **details).execution_options(synchronize_session=False)
            )
    changed = current.ids
    if current.changes:
        # Core executemany on the table: batched into multi-row INSERTs by the driver layer.
        dbsession.execute(insert(STATUS_CHANGES), [
            {"application_id": app_id, "from_code": from_code, "to_code": status_update.to_code,
             "changed_at": now, "user_id": user_id, "source": "bulk",
             "reason": status_update.reason,
             "scheduled_payment_on": status_update.scheduled_payment_on,
             "paid_on": status_update.paid_on}
            for app_id, _version, _receipt, from_code in current.changes
        ])
    action = status_update.action
    writer.append(dbsession, actor, "application.bulk_status", f"applications:{len(changed)}",
                  to=status_update.to_code, deficiency_kinds=action.deficiency_kinds,
                  documents_sent_on=action.documents_sent_on, return_by=action.return_by,
                  changed=len(changed),
                  unchanged=len(current.unchanged), refused=len(current.refused),
                  plan=token,
                  # Receipts and the free-text reason beside the chain, cut by disposal.
                  personal={app_id: {"receipt": receipt, "reason": status_update.reason}
                            for app_id, _v, receipt, _from in current.changes})
    return current


def _check_details(catalogue, row, status_update):
    """The details each application would have after the change, checked by the rules:
    a deadline given alone must not fall before the documents it already has were sent."""
    _id, _version, receipt, from_code, kinds, sent, return_by = row
    stored = action_rules.after(
        action_rules.ActionDetails(kinds, sent, return_by), status_update.action,
        new_round=not catalogue[from_code].needs_resident_action)
    try:
        action_rules.check(catalogue[status_update.to_code], stored, status_update.action)
    except action_rules.ActionDetailsRefused as refused:   # the deadline: name whose
        raise action_rules.ActionDetailsRefused(
            refused.field, action_rules.DEADLINE_BEFORE_SENT_OF, receipt=receipt,
            **refused.mapping) from None


def _action_groups(catalogue, current: BulkPlan, status_update: StatusUpdate):
    """(ids, column values) per group the action details treat alike: nothing for a status
    that needs no action; else what the change gives — over what each application has, or,
    for one only now entering such a status, over nothing (a new round starts blank)."""
    if not catalogue[status_update.to_code].needs_resident_action:
        return [(current.ids, {})]
    given = {name: value for name in action_rules.FIELDS
             if (value := getattr(status_update.action, name)) is not None}
    fresh = {**dict.fromkeys(action_rules.FIELDS), "deficiency_kinds": 0, **given}
    rounds: dict[bool, list[int]] = {True: [], False: []}
    for app_id, _version, _receipt, from_code in current.changes:
        rounds[not catalogue[from_code].needs_resident_action].append(app_id)
    return [(rounds[True], fresh), (rounds[False], given)]


def _rows(dbsession, ids, lock):
    for start in range(0, len(ids), _CHUNK):
        query = select(Application.id, Application.version, Application.receipt_number_normalised,
                       Application.status_code, Application.deficiency_kinds,
                       Application.documents_sent_on, Application.return_by
                       ).where(Application.id.in_(ids[start:start + _CHUNK]))
        if lock:
            query = query.with_for_update()
        yield from dbsession.execute(query.order_by(Application.id))


def _token(result: BulkPlan) -> str:
    digest = hashlib.sha256(repr(result.update).encode())
    for app_id, version, _receipt, _from in result.changes:
        digest.update(f"{app_id}:{version};".encode())
    return digest.hexdigest()
