"""Collecting everything held about one applicant, for a disclosure request.

The application as stored; its history with who changed what; the imports that touched
it; every audit record about it (status changes, bulk changes, screens that recorded a
view) with the personal values kept beside the chain; and the publications whose snapshot
carried its keyed hash (published while it existed and its programme's lookup was open).
"""

import json
from dataclasses import dataclass, field

from sqlalchemy import or_, select

from intranet import web
from intranet.applications.models import Application, StatusChange
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from intranet.deficiencies import catalogue as kind_catalogue
from intranet.fields import FIELD_WORDS
from intranet.imports.models import ImportRecord
from intranet.oversight import labels
from intranet.publications.models import PUBLISHED, Publication
from intranet.web import LABELS

# The application's own fields, in the order a resident reads them (label, attribute), named
# as the import's columns name them (intranet.fields); the status is stored by code.
_READ_IN_ORDER = ("receipt_number", "name", "kana", "birth_date", "address", "phone", "route",
                  "received_on", "status", "scheduled_payment_on", "paid_on", "deficiency_kinds",
                  "documents_sent_on", "return_by", "deficiency_reason", "notes")
FIELDS = [*((FIELD_WORDS[name], "status_code" if name == "status" else name)
            for name in _READ_IN_ORDER), ("最終更新", "updated_at")]
# The resident reads the first six columns in words; the last three keep what is stored
# (codes, the audit record's JSON, the values kept beside the chain), as the audit CSV does.
CSV_HEADER = ["区分", "項目・日時", "内容", "詳細1", "詳細2", "詳細3", "コード", "記録（JSON）",
              "個人情報（JSON）"]


@dataclass
class Disclosure:
    application: Application
    history: list
    imports: list
    audit: list          # (record, personal values or None)
    publications: list
    deficiency_kinds: list = field(default_factory=list)   # the kinds' names, in order


def collect(dbsession, application: Application) -> Disclosure:
    history = dbsession.execute(select(StatusChange).where(
        StatusChange.application_id == application.id).order_by(StatusChange.id)).scalars().all()
    # An import writes its record and its history entries with one timestamp.
    import_times = [h.changed_at for h in history if h.source == "import"]
    imports = dbsession.execute(select(ImportRecord).where(
        ImportRecord.programme_id == application.programme_id,
        ImportRecord.at.in_(import_times)).order_by(ImportRecord.id)).scalars().all() \
        if import_times else []
    side = {row.seq: row.value for row in dbsession.execute(select(AuditPersonal).where(
        AuditPersonal.application_id == application.id)).scalars()}
    records = dbsession.execute(select(AuditRecord).where(or_(
        AuditRecord.target == f"application:{application.id}",
        AuditRecord.seq.in_(list(side)))).order_by(AuditRecord.seq)).scalars().all()
    audit = [(r, json.loads(side[r.seq]) if r.seq in side else None) for r in records]
    kinds = kind_catalogue.load(dbsession, application.programme_id)
    return Disclosure(application, history, imports, audit,
                      _publications(dbsession, application, history),
                      kinds.names(application.deficiency_kinds))


def _publications(dbsession, application, history):
    if not history:
        return []
    query = select(Publication).where(Publication.state == PUBLISHED,
                                      Publication.finished_at >= history[0].changed_at)
    closed = application.programme.lookup_closed_at
    if closed is not None:
        query = query.where(Publication.finished_at < closed)
    return dbsession.execute(query.order_by(Publication.id)).scalars().all()


def described_audit(disclosure: Disclosure, words: labels.Vocabulary) -> list:
    """(record, described) for each audit record, with this applicant's values beside it."""
    return [(record, labels.describe(record, words, [values] if values else []))
            for record, values in disclosure.audit]


def rows(disclosure: Disclosure, words: labels.Vocabulary):
    """The disclosure as CSV rows under CSV_HEADER, in the reader's language."""
    t, app = words.translate, disclosure.application

    def local_time(value):
        return web.local_time(value, words.locale)

    routes, sources = LABELS["route_labels"], LABELS["source_labels"]

    def status(code):
        return words.statuses.get(code, code) if code else ""

    yield [t("申請"), t("事業"), app.programme.name, "", "", "", app.programme.code, "", ""]
    for label, name in FIELDS:
        value, code = getattr(app, name), ""
        if name == "updated_at":
            value = local_time(value)
        elif name == "status_code":
            value, code = status(value), value
        elif name == "route":
            value, code = t(routes.get(value, value)), value
        elif name == "deficiency_kinds":
            value, code = "、".join(disclosure.deficiency_kinds), str(value)
        yield [t("申請"), t(label), value, "", "", "", code, "", ""]
    for h in disclosure.history:
        change = f"{status(h.from_code)} → {status(h.to_code)}" if h.from_code \
            else status(h.to_code)
        yield [t("履歴"), local_time(h.changed_at), change,
               h.user.display_name if h.user else t("システム"),
               t(sources.get(h.source, h.source)), h.reason,
               f"{h.from_code or ''} → {h.to_code} ({h.source})", "", ""]
    for record in disclosure.imports:
        yield [t("取込"), local_time(record.at), record.filename, record.sha256,
               record.user.display_name if record.user else "", record.kind, "", "", ""]
    for (record, values), (_, described) in zip(disclosure.audit,
                                                described_audit(disclosure, words), strict=True):
        yield [t("監査記録"), local_time(record.at), described.action,
               " ".join(part for part in (record.actor, described.role) if part),
               "\n".join(f"{k}: {v}" for k, v in described.lines), f"{t('記録番号')} {record.seq}",
               record.action, record.details,
               json.dumps(values, ensure_ascii=False) if values else ""]
    for publication in disclosure.publications:
        yield [t("公開"), local_time(publication.finished_at),
               f"{t('公開番号')} {publication.sequence}", publication.sha256, "",
               t("受付番号（と生年月日）から作った照会用の鍵付きハッシュを含む"), "", "", ""]
