"""The security officer's audit screen: filter, export, and the chain's state.

Records are shown in words (``intranet.oversight.labels``); one record's page shows the same
words above the record exactly as stored, and the CSV carries both. Values kept beside the
chain are shown with their record while they exist, 「（廃棄済み）」 once disposal cut them.
"""

import json
from datetime import timedelta

import transaction
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import func, select

from intranet.applications import inquiry
from intranet.applications.models import Application
from intranet.audit import services, writer
from intranet.audit.exports import audit_export
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from intranet.db import get_tm_session, session_factory_of
from intranet.exports import csv_lines, csv_response
from intranet.oversight import filters, labels, search, terminal
from intranet.web import local_time, matched_id, whole_number

PAGE_SIZE = 100
SIDE_SHOWN = 1000
# Values beside the chain shown with a record on the list page and in the CSV; more are on
# the record's own page.
LIST_SHOWN = 5
CSV_SHOWN = 100
CSV_BATCH = 1000
CSV_HEADER = ["番号", "日時（日本時間）", "ユーザー", "役割", "OS ユーザー", "端末", "操作",
              "対象", "内容", "操作コード", "記録（JSON）", "直前のハッシュ", "ハッシュ"]
# How far back the screen counts the desk's slowed searches (a notice with a link).
THROTTLED_DAYS = 7


def personal_values(dbsession, records, shown: int = LIST_SHOWN
                    ) -> dict[int, tuple[list[dict], int]]:
    """{seq: (the first ``shown`` values beside the chain, how many there are)} for the
    records that keep some (none left: cut by disposal)."""
    seqs = [r.seq for r in records if '"personal"' in (r.details or "")]
    if not seqs:
        return {}
    totals = dict(dbsession.execute(
        select(AuditPersonal.seq, func.count()).where(AuditPersonal.seq.in_(seqs))
        .group_by(AuditPersonal.seq)).all())
    found: dict[int, tuple[list[dict], int]] = {seq: ([], totals.get(seq, 0)) for seq in seqs}
    few = [seq for seq in seqs if 0 < totals.get(seq, 0) <= shown]
    many = [seq for seq in seqs if totals.get(seq, 0) > shown]
    if few:
        for row in dbsession.execute(select(AuditPersonal).where(AuditPersonal.seq.in_(few))
                                     .order_by(AuditPersonal.id)).scalars():
            found[row.seq][0].append(json.loads(row.value))
    for seq in many:   # a bulk change or an import: its first few
        found[seq][0].extend(json.loads(value) for value in dbsession.execute(
            select(AuditPersonal.value).where(AuditPersonal.seq == seq)
            .order_by(AuditPersonal.id).limit(shown)).scalars())
    return found


def described(record, words, side) -> labels.Described:
    values, total = side.get(record.seq, (None, None))
    return labels.describe(record, words, values, total)


@view_config(route_name="audit", permission="audit.view",
             renderer="intranet:templates/audit/list.jinja2")
def audit_list(request):
    try:
        audit_filter = search.AuditFilter.from_params(request.GET)
    except filters.FilterRefused as refused:
        # The form again with what was typed and why it cannot be read; no records.
        request.response.status = 400
        return _page(request, search.AuditFilter(), [], None, refused)
    query = audit_filter.query(request.dbsession)
    before = request.GET.get("before", "")
    if before:
        query = query.where(AuditRecord.seq < whole_number(before, "before"))
    records = request.dbsession.execute(
        query.order_by(AuditRecord.seq.desc()).limit(PAGE_SIZE + 1)).scalars().all()
    more = len(records) > PAGE_SIZE
    records = records[:PAGE_SIZE]
    next_url = None
    if more:
        next_url = request.current_route_url(_query={**request.GET, "before": records[-1].seq})
    return _page(request, audit_filter, records, next_url)


def _page(request, audit_filter, records, next_url, refused=None):
    verdict, checkpoint_error = services.screen_verdict(request.dbsession,
                                                        request.registry.settings)
    words = search.vocabulary(request)
    words.receipts = filters.receipts_of(request.dbsession, records)
    side = personal_values(request.dbsession, records)
    checkpoint = services.last_checkpoint(request.dbsession)
    where = _terminals_where(request)
    record_url, record_label = _record_urls(request), _record_labels(request)
    return {"records": [(r, described(r, words, side), where(r), record_url(r.seq),
                         record_label(r.seq)) for r in records],
            "filter": audit_filter, "action_choices": _action_choices(request),
            "error": refused.explain(request) if refused else None,
            "error_field": refused.field if refused else "",
            "numbered": _numbered(request, audit_filter.receipt),
            "verdict": verdict, "next_url": next_url,
            "checkpoint": checkpoint,
            "checkpoint_at": labels.value_text("at", checkpoint["at"], words) if checkpoint
            else "",
            "checkpoint_file": request.registry.settings.get("audit.checkpoint_file", ""),
            "checkpoint_error": checkpoint_error,
            "throttled": _throttled(request.dbsession), "throttled_days": THROTTLED_DAYS}


def _terminals_where(request):
    """The 端末 cell of each row, in words, worked out once per distinct (role, host, OS
    user) on the page: the list shows only the short words (the legend above the table
    explains them; a record's own page, ``_terminal``, gives its meaning too)."""
    seen: dict[tuple[str, str, str], str] = {}

    def where(record) -> str:
        key = (record.actor_role, record.host, record.os_user)
        if key not in seen:
            found = terminal.explain(*key)
            seen[key] = request.translate(found.where, **found.mapping)
        return seen[key]

    return where


def _record_urls(request):
    """Each row's link to its record: the route's URL made once and the number put in
    (``route_url`` per row cost ~2 ms of a 100-record page); a record number is digits,
    so nothing in it needs quoting."""
    marker = "0"
    prefix, _, suffix = request.route_url("audit_record", seq=marker).rpartition(marker)
    return lambda seq: f"{prefix}{int(seq)}{suffix}"


def _record_labels(request):
    """Each row's link label (「記録 n 番の詳細」): translated once and the number put in, as
    ``_record_urls`` does (a translation per row was a sixth of the template's time)."""
    marker = "\x00"
    label = request.translate("記録 ${n} 番の詳細", n=marker)
    return lambda seq: label.replace(marker, str(int(seq)))


def _terminal(request, record) -> tuple[str, str]:
    """The 端末 in words, and what the recorded value means."""
    found = terminal.explain(record.actor_role, record.host, record.os_user)
    return (request.translate(found.where, **found.mapping),
            request.translate(found.meaning, **found.mapping))


def _numbered(request, receipt: str) -> list:
    """The applications a receipt-number search found, each with its story's link."""
    if not receipt:
        return []
    return [request.dbsession.get(Application, i)
            for i in filters.applications_numbered(request.dbsession, receipt)]


def _throttled(dbsession) -> int:
    """The desk's searches slowed lately: each is someone trying birth dates or phone
    numbers against applications (intranet/applications/inquiry.py)."""
    since = writer.utcnow() - timedelta(days=THROTTLED_DAYS)
    return dbsession.execute(select(func.count()).where(
        AuditRecord.action == inquiry.THROTTLED, AuditRecord.at >= since)).scalar_one()


def _action_choices(request):
    """(value, label) for the filter: each group (its prefix), then its actions."""
    choices = []
    for group, group_label, actions in labels.action_groups():
        if len(actions) > 1:
            choices.append((group, request.translate("${group}（すべて）",
                                                     group=request.translate(group_label))))
        choices.extend((a, "　" + request.translate(labels.ACTIONS[a])) for a in actions)
    return choices


@view_config(route_name="audit_record", permission="audit.view",
             renderer="intranet:templates/audit/record.jinja2")
def audit_record(request):
    record = request.dbsession.get(AuditRecord, matched_id(request, "seq"))
    if record is None:
        raise HTTPNotFound()
    # A bulk change names thousands: the first SIDE_SHOWN of them, and how many in all.
    side = request.dbsession.execute(select(AuditPersonal).where(
        AuditPersonal.seq == record.seq).order_by(AuditPersonal.id).limit(SIDE_SHOWN)
    ).scalars().all()
    total = request.dbsession.execute(select(func.count()).where(
        AuditPersonal.seq == record.seq)).scalar_one()
    values = [json.loads(row.value) for row in side]
    words = search.vocabulary(request)
    words.receipts = filters.receipts_of(request.dbsession, [record])
    return {"record": record, "terminal": _terminal(request, record),
            "described": labels.describe(record, words, values[:LIST_SHOWN], total),
            "side": [(row.application_id, row.programme_id, row.value) for row in side],
            "side_total": total,
            "details_json": json.dumps(json.loads(record.details or "{}"), ensure_ascii=False,
                                       indent=2, sort_keys=True)}


@view_config(route_name="audit_csv", permission="audit.view")
def audit_csv(request):
    query = search.AuditFilter.from_params(request.GET).query(
        request.dbsession).order_by(AuditRecord.seq)
    audit_export(request, "audit.csv", query)
    words = search.vocabulary(request)
    t = request.translate
    factory = session_factory_of(request.registry)

    def row(r, side):
        described_ = described(r, words, side)
        return [r.seq, local_time(r.at, request.locale_name), r.actor, described_.role,
                r.os_user, r.host, described_.action,
                described_.target, "\n".join(f"{k}: {v}" for k, v in described_.lines),
                r.action, r.details, r.prev_hash, r.hash]

    def rows():
        # A session of its own (the response streams after the request's has ended); the
        # values beside the chain are read once per batch of records, not per record.
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(factory, manager)
            result = dbsession.execute(query.execution_options(yield_per=CSV_BATCH)).scalars()
            for batch in result.partitions(CSV_BATCH):
                side = personal_values(dbsession, batch, CSV_SHOWN)
                words.receipts = filters.receipts_of(dbsession, batch)
                for record in batch:
                    yield row(record, side)

    return csv_response("audit.csv", csv_lines([t(h) for h in CSV_HEADER], rows()))
