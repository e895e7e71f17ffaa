"""Erasing a programme's personal data, keeping what statistics need.

Application rows stay (their status, route and dates feed the counts and the dashboard);
every field that could identify a person is emptied, the raw receipt number included.
The normalised receipt number becomes ``-<id>``: normalisation strips every dash, so no
real receipt number can ever match it, and the (programme, receipt) key stays unique.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import String, and_, cast, delete, exists, func, literal, select, text, update

from intranet.applications.models import Application, StatusChange
from intranet.audit import personal
from intranet.chunks import chunked
from intranet.fields import FIELD_WORDS
from intranet.imports.models import ImportRecord
from intranet.publications import changes
from intranet.publications.models import Publication, PublicationChange, PublicationRow

# What disposal empties, as named on the disposal record.
ERASED_FIELDS = ("receipt_number", "name", "kana", "birth_date", "address", "phone", "notes",
                 "deficiency_reason", "search_key", "status_changes.reason", "audit_personal",
                 "publication_rows", "import_records.filename")
# The same, as the record and its print view name them (message ids: the English catalogue
# translates them). Records approved before a field was added keep their own list.
ERASED_FIELD_LABELS = {
    # An application's own fields, as the import's columns name them.
    **{name: FIELD_WORDS[name] for name in ERASED_FIELDS if name in FIELD_WORDS},
    "search_key": "氏名・フリガナの検索用の読み", "status_changes.reason": "状況変更の理由",
    "audit_personal": "監査ログに記録された個人情報",
    "publication_rows": "公開依頼に固定された受付番号",
    "import_records.filename": "取込ファイルの名前",
}
_EMPTIED = {"receipt_number": "", "name": "", "kana": "", "birth_date": None, "address": "",
            "phone": "", "notes": "", "deficiency_reason": "", "search_key": ""}


@dataclass
class Erased:
    applications: int = 0
    history_entries: int = 0
    audit_values: int = 0
    publication_rows: int = 0
    spool_files: int = 0
    statistics: dict = field(default_factory=dict)

    def fields_json(self) -> str:
        return json.dumps(list(ERASED_FIELDS))


def statistics(dbsession, programme_id: int) -> dict:
    """Counts per status and per date received: what the ledger and the reports keep."""
    def counts(column):
        rows = dbsession.execute(select(column, func.count()).where(
            Application.programme_id == programme_id).group_by(column).order_by(column))
        return {str(key): count for key, count in rows}
    return {"by_status": counts(Application.status_code),
            "by_received_on": counts(Application.received_on)}


def erase(dbsession, programme, spool: Path, archived_at: datetime | None) -> Erased:
    """Erase every personal field of ``programme``'s applications, inside the caller's
    transaction; remove its spooled import files. Counts survive."""
    if dbsession.get_bind().dialect.name == "sqlite":
        # Freed pages are zeroed: the old values do not linger in the database file.
        dbsession.execute(text("PRAGMA secure_delete = ON"))
    ids = list(dbsession.execute(select(Application.id).where(
        Application.programme_id == programme.id).order_by(Application.id)).scalars())
    result = Erased(applications=len(ids), statistics=statistics(dbsession, programme.id))
    # Before the receipt numbers are erased: the last delivered publication's entries of
    # the programme take the erased applications' keys (publications.changes).
    kept, last_id = _anonymise_published(dbsession, programme)
    for chunk in chunked(ids, 1000):
        dbsession.execute(
            update(Application).where(Application.id.in_(chunk))
            .values(**_EMPTIED, version=Application.version + 1,
                    receipt_number_normalised=literal("-") + cast(Application.id, String))
            .execution_options(synchronize_session=False))
        result.history_entries += dbsession.execute(
            update(StatusChange).where(StatusChange.application_id.in_(chunk),
                                       StatusChange.reason != "")
            .values(reason="").execution_options(synchronize_session=False)).rowcount
    # The applications' values beside the audit chain, and the programme's (its searches'
    # typed filters, its imports' file names).
    result.audit_values = personal.cut(dbsession, ids, programme.id)
    # A file name may name a person ("髙橋様分.csv"); its digest identifies the import.
    dbsession.execute(update(ImportRecord).where(ImportRecord.programme_id == programme.id)
                      .values(filename="").execution_options(synchronize_session=False))
    # Publication requests froze receipt numbers (and birth dates) of every programme then
    # published; the programme's lookup is closed, so no pending request may carry them.
    # The last delivered publication's were anonymised above: what residents read then is
    # still counted, by status, as taken off the public page (the approver sees it).
    result.publication_rows = kept + dbsession.execute(delete(PublicationRow).where(
        PublicationRow.programme_code == programme.code,
        PublicationRow.publication_id != last_id)).rowcount
    # The keys of what each request changed (for the builder) name receipt numbers too.
    # Those left of other programmes no longer describe a difference the rows above make.
    dbsession.execute(delete(PublicationChange).where(
        PublicationChange.programme_code == programme.code))
    dbsession.execute(update(Publication).where(Publication.changes_since.is_not(None))
                      .values(changes_since=None).execution_options(synchronize_session=False))
    dbsession.expire_all()
    result.spool_files = _clear_spool(dbsession, programme, spool, archived_at)
    return result


def _anonymise_published(dbsession, programme) -> tuple[int, int]:
    """The last delivered publication's rows of ``programme``: receipt number ``-<id>``
    (the erased application's key, which no real receipt number can equal), no birth date;
    the status and its dates stay, as in the counts disposal keeps. Returns how many, and
    the publication's id (0: none delivered yet)."""
    last = changes.baseline(dbsession)
    if last is None:
        return 0, 0
    same_application = and_(Application.programme_id == programme.id,
                            Application.receipt_number_normalised == PublicationRow.receipt)
    ours = and_(PublicationRow.publication_id == last.id,
                PublicationRow.programme_code == programme.code)
    # A row no application answers to any more cannot take a key: it goes (none should).
    gone = dbsession.execute(delete(PublicationRow).where(
        ours, ~exists().where(same_application))).rowcount
    kept = dbsession.execute(
        update(PublicationRow).where(ours, PublicationRow.receipt.not_like("-%"))
        .values(receipt=select(literal("-") + cast(Application.id, String))
                .where(same_application).scalar_subquery(), birth_date=None)
        .execution_options(synchronize_session=False)).rowcount
    return gone + kept, last.id


def _clear_spool(dbsession, programme, spool: Path, archived_at: datetime | None) -> int:
    """Remove the programme's imported files, and every file spooled before it was archived.

    A spooled file names no programme; but nothing may be imported into an archived
    programme, so a file older than the archive is either this programme's or an abandoned
    dry run — a leftover either way.
    """
    digests = set(dbsession.execute(select(ImportRecord.sha256).where(
        ImportRecord.programme_id == programme.id)).scalars())
    cutoff = archived_at.replace(tzinfo=UTC).timestamp() if archived_at else None
    removed = 0
    for path in spool.iterdir() if spool.is_dir() else ():
        # Spooled as <user id>-<sha256>, with its note <user id>-<sha256>.json.
        digest = path.name.split("-", 1)[-1].removesuffix(".json")
        stale = cutoff is not None and path.stat().st_mtime <= cutoff
        if path.is_file() and (digest in digests or stale):
            path.unlink()
            removed += 1
    return removed


def compact(engine) -> None:
    """After the erasing transaction has committed: on SQLite, fold the write-ahead log
    into the database file and empty it, so no earlier page image stays in ``-wal``.
    (PostgreSQL keeps dead row versions until ``VACUUM FULL``: docs/runbook, 廃棄.)"""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
