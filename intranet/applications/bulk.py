"""Bulk status change: a day's batch of thousands, previewed, then applied all or nothing.

The preview is a plan; its token is a hash of every (application, version) it would change
and of the requested update. Confirming recomputes the plan under row locks: if anything
moved since the preview, the token differs and nothing is written.
"""

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update

from intranet.applications import errors
from intranet.applications.models import STATUS_CHANGES, Application
from intranet.applications.services import StatusUpdate, check_update
from intranet.audit import writer
from intranet.audit.writer import utcnow
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
    date); per-application refusals (disallowed transitions) are listed instead.
    """
    check_update(catalogue, None, status_update)
    result = BulkPlan(update=status_update)
    for row in _rows(dbsession, ids, lock):
        _id, _version, receipt, from_code = row
        if rules.may_move(catalogue, from_code, status_update.to_code):
            result.changes.append(tuple(row))
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
    changed = current.ids
    for start in range(0, len(changed), _CHUNK):
        dbsession.execute(
            update(Application).where(Application.id.in_(changed[start:start + _CHUNK]))
            .values(**values).execution_options(synchronize_session=False)
        )
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
    writer.append(dbsession, actor, "application.bulk_status", f"applications:{len(changed)}",
                  to=status_update.to_code, changed=len(changed),
                  unchanged=len(current.unchanged), refused=len(current.refused),
                  reason=status_update.reason, plan=token,
                  receipts=[receipt for _id, _v, receipt, _from in current.changes])
    return current


def _rows(dbsession, ids, lock):
    for start in range(0, len(ids), _CHUNK):
        query = select(Application.id, Application.version, Application.receipt_number_normalised,
                       Application.status_code).where(Application.id.in_(ids[start:start + _CHUNK]))
        if lock:
            query = query.with_for_update()
        yield from dbsession.execute(query.order_by(Application.id))


def _token(result: BulkPlan) -> str:
    digest = hashlib.sha256(repr(result.update).encode())
    for app_id, version, _receipt, _from in result.changes:
        digest.update(f"{app_id}:{version};".encode())
    return digest.hexdigest()
