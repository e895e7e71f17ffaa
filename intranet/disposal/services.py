"""Disposal as a four-eyes operation.

One supervisor requests it for an archived programme; another supervisor or a security
officer approves it — never the requester. Before the retention has passed, a request
needs an override with a stated reason. Approval erases at once, in the same transaction,
and the row becomes the disposal record (廃棄記録). Every step is audited.
"""

import unicodedata
from datetime import date, timedelta

from sqlalchemy import select

from intranet.audit import writer
from intranet.db import locked
from intranet.disposal import erase as erasure
from intranet.disposal.models import APPROVED, REJECTED, REQUESTED, Disposal
from intranet.programmes import lifecycle
from intranet.programmes.models import Programme
from intranet.refusals import Refused
from intranet.security import may
from transfer.envelope import canonical_text

NOT_ARCHIVED = "廃棄を申請できるのは保存中（アーカイブ済み）の事業だけです。"
PENDING = "この事業にはすでに承認待ちの廃棄申請があります。"
RETENTION = ("保存期間は${date}までです。期間内に廃棄するには、期間前の廃棄にチェックを入れ、"
             "理由を記入してください。")
OVERRIDE_REASON = ("期間前に廃棄する理由を、根拠（決定や規程など）がわかるように記入してください"
                   "（記号・空白を除いて10文字以上）。")
OWN_REQUEST = "自分が申請した廃棄は承認できません。別の監督者またはセキュリティ担当が承認します。"
NOT_PENDING = "この廃棄申請はすでに処理済みです。"
ROLE = "廃棄を承認できるのは監督者またはセキュリティ担当だけです。"
_MIN_REASON = 10


def _says_something(reason: str) -> bool:
    """A reason in words: ten letters or digits (dots, dashes and spaces do not count: 「...........」
    was accepted), and not one character repeated."""
    meaningful = [c for c in reason if unicodedata.category(c)[0] in "LN"]
    return len(meaningful) >= _MIN_REASON and len(set(meaningful)) >= 3


class DisposalRefused(Refused):
    """A disposal step the rules refuse; nothing is written."""


def request_disposal(dbsession, actor, user, programme, *, override: bool, reason: str,
                     today: date) -> Disposal:
    # Locked: two supervisors requesting at once get one pending request, not two.
    programme = dbsession.execute(select(Programme).where(Programme.id == programme.id)
                                  .with_for_update()
                                  .execution_options(populate_existing=True)
                                  ).scalar_one()
    if lifecycle.state(programme) != lifecycle.ARCHIVED:
        raise DisposalRefused(NOT_ARCHIVED)
    if pending(dbsession, programme.id) is not None:
        raise DisposalRefused(PENDING)
    ends = lifecycle.retention_ends_on(programme)
    early = ends is not None and today < ends
    reason = reason.strip()
    if ends is not None and early and not override:
        raise DisposalRefused(RETENTION, date=ends.isoformat())
    if early and not _says_something(reason):
        raise DisposalRefused(OVERRIDE_REASON)
    disposal = Disposal(programme_id=programme.id, state=REQUESTED, requested_by_id=user.id,
                        requested_at=writer.utcnow(), retention_ends_on=ends,
                        override=early, reason=reason)
    dbsession.add(disposal)
    dbsession.flush()
    writer.append(dbsession, actor, "disposal.request", f"disposal:{disposal.id}",
                  programme=programme.code, retention_ends_on=ends, override=early,
                  reason=reason)
    return disposal


def decide(dbsession, actor, user, disposal: Disposal, *, approve: bool, note: str,
           spool, backup_retention_days: int, today: date) -> Disposal:
    """Approve (and erase now) or reject a pending request, as a second person."""
    # Locked: two approvers at once must not both erase and both sign the record.
    disposal = locked(dbsession, Disposal, disposal.id)
    if disposal.state != REQUESTED:
        raise DisposalRefused(NOT_PENDING)
    if not may(user.role, "disposals.approve"):
        raise DisposalRefused(ROLE)
    if user.id == disposal.requested_by_id:
        raise DisposalRefused(OWN_REQUEST)
    programme = disposal.programme
    ends = lifecycle.retention_ends_on(programme)
    if approve and ends is not None and today < ends and not disposal.override:
        raise DisposalRefused(RETENTION, date=ends.isoformat())
    disposal.decided_by_id, disposal.decided_at = user.id, writer.utcnow()
    disposal.decision_note = note.strip()
    if not approve:
        disposal.state = REJECTED
        dbsession.flush()
        writer.append(dbsession, actor, "disposal.reject", f"disposal:{disposal.id}",
                      programme=programme.code, note=disposal.decision_note)
        return disposal
    archived_at = programme.archived_at
    done = erasure.erase(dbsession, programme, spool, archived_at)
    disposal = dbsession.get(Disposal, disposal.id)
    disposal.state = APPROVED
    disposal.applications, disposal.history_entries = done.applications, done.history_entries
    disposal.audit_values, disposal.spool_files = done.audit_values, done.spool_files
    disposal.publication_rows = done.publication_rows
    disposal.erased_fields = done.fields_json()
    disposal.statistics = canonical_text(done.statistics)
    disposal.backups_age_out_on = today + timedelta(days=backup_retention_days)
    lifecycle.mark_disposed(dbsession, actor, disposal.programme, disposal.id)
    writer.append(dbsession, actor, "disposal.approve", f"disposal:{disposal.id}",
                  programme=programme.code, applications=done.applications,
                  history_entries=done.history_entries, audit_values=done.audit_values,
                  spool_files=done.spool_files, publication_rows=done.publication_rows,
                  backups_age_out_on=disposal.backups_age_out_on,
                  requested_by=disposal.requested_by_id, approved_by=user.id)
    return disposal


def pending(dbsession, programme_id: int) -> Disposal | None:
    return dbsession.execute(select(Disposal).where(
        Disposal.programme_id == programme_id, Disposal.state == REQUESTED)).scalar_one_or_none()
