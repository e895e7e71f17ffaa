"""Re-applying a disposal from its record after a restore from an older backup.

A backup taken before the disposal still holds the data, and its database knows nothing
of the disposal. The record file (``/disposals/N.json``, kept in the 文書管理 ledger) is
enough to erase the same programme again and write the record back, audited.
"""

import hashlib
import json
from datetime import date, datetime

from sqlalchemy import select

from intranet.audit import writer
from intranet.auth.models import User
from intranet.disposal import erase
from intranet.disposal.models import APPROVED, Disposal
from intranet.disposal.record import FORMAT
from intranet.disposal.services import DisposalRefused
from intranet.programmes.models import Programme

NOT_A_RECORD = "廃棄記録のファイルではありません（${why}）。"
NO_PROGRAMME = "事業「${code}」がデータベースにありません。"
NO_USER = "廃棄記録にある利用者「${username}」がデータベースにありません。"


def read_record(data: bytes) -> dict:
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DisposalRefused(NOT_A_RECORD, why=str(error)) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise DisposalRefused(NOT_A_RECORD, why=f"format が {FORMAT} ではありません")
    if record.get("state") != APPROVED:
        raise DisposalRefused(NOT_A_RECORD, why="承認・実行済みの記録ではありません")
    return record


def reapply(dbsession, actor, data: bytes, spool) -> Disposal:
    """Erase the record's programme again and write the record back; return it."""
    record = read_record(data)
    code = record["programme"]["code"]
    programme = dbsession.execute(
        select(Programme).where(Programme.code == code)).scalar_one_or_none()
    if programme is None:
        raise DisposalRefused(NO_PROGRAMME, code=code)
    now = writer.utcnow()
    # A backup may predate the close and the archive: the steps are set as the record says.
    programme.lookup_closed_at = programme.lookup_closed_at or _day(
        record["programme"]["lookup_closed_on"]) or now
    programme.archived_at = programme.archived_at or _day(record["programme"]["archived_on"]) or now
    done = erase.erase(dbsession, programme, spool, None)
    programme = dbsession.get(Programme, programme.id)
    programme.disposed_at = programme.disposed_at or now
    disposal = Disposal(
        programme_id=programme.id, state=APPROVED,
        requested_by_id=_user(dbsession, record["requested_by"]),
        requested_at=_moment(record["requested_at"]), override=record["override"],
        retention_ends_on=_day(record["retention_ends_on"]), reason=record["reason"],
        decided_by_id=_user(dbsession, record["decided_by"]),
        decided_at=_moment(record["decided_at"]), decision_note=record["decision_note"],
        applications=done.applications, history_entries=done.history_entries,
        audit_values=done.audit_values, spool_files=done.spool_files,
        publication_rows=done.publication_rows,
        erased_fields=done.fields_json(), statistics=json.dumps(done.statistics, sort_keys=True),
        backups_age_out_on=_day(record["backups_age_out_on"]))
    dbsession.add(disposal)
    dbsession.flush()
    writer.append(dbsession, actor, "disposal.reapply", f"disposal:{disposal.id}",
                  programme=code, record_disposal_id=record["disposal_id"],
                  record_sha256=hashlib.sha256(data).hexdigest(),
                  applications=done.applications, applications_in_record=record["applications"])
    return disposal


def _user(dbsession, person) -> int:
    user_id = dbsession.execute(select(User.id).where(
        User.username == person["username"])).scalar_one_or_none()
    if user_id is None:
        raise DisposalRefused(NO_USER, username=person["username"])
    return user_id


def _day(text):
    return date.fromisoformat(text) if text else None


def _moment(text):
    return datetime.fromisoformat(text.removesuffix("Z")) if text else None
