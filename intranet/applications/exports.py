"""Exports of the application list and its status history (same filters as the list).

What staff read: labels, not codes (状況, 申請方法, 事業), file names with the programme and
the date. CSV in UTF-8 (exact) or Shift_JIS: a character Shift_JIS cannot hold becomes 〓,
and the export says first how many rows that touches and which. Excel (.xlsx) keeps receipt
numbers as text and dates as dates. Re-importing an export changes nothing.
"""

from datetime import datetime

from pyramid.view import view_config
from sqlalchemy import select

from intranet.applications import search, workbook
from intranet.applications.models import Application, StatusChange
from intranet.audit.exports import audit_export
from intranet.characters import shown
from intranet.db import streamed_rows
from intranet.deficiencies import catalogue as kind_catalogue
from intranet.exports import (
    csv_lines,
    csv_response,
    unrepresentable,
)
from intranet.fields import words
from intranet.programmes.models import Programme, all_programmes
from intranet.web import JST, LABELS, local_moment

# The import's own column names (intranet.fields), so an export is read back as it
# was written; 事業 and 更新日時 are not imported (the programme is chosen on the import page).
EXPORT_HEADER = [*words("receipt_number"), "事業",
                 *words("name", "kana", "birth_date", "address", "phone", "route", "received_on",
                        "status", "scheduled_payment_on", "paid_on", "deficiency_kinds",
                        "documents_sent_on", "return_by", "deficiency_reason", "notes"),
                 "更新日時"]
HISTORY_HEADER = [*words("receipt_number"), "日時", "変更前", "変更後", "変更方法", "職員", "理由",
                  *words("scheduled_payment_on", "paid_on")]
_SHOWN_ROWS = 100   # receipt numbers listed on the Shift_JIS warning page


def _file_name(request, kind, criteria, extension):
    programme = request.dbsession.get(Programme, criteria.programme_id) \
        if criteria.programme_id else None
    today = datetime.now(JST).strftime("%Y%m%d")
    return f"{kind}_{programme.name if programme else '全事業'}_{today}.{extension}"


def _applications(request, criteria):
    """(query, row maker, scalars?) for the application list."""
    query = search.build_query(criteria).order_by(Application.id)
    programmes = all_programmes(request.dbsession)
    names = {p.id: p.name for p in programmes}
    # Kinds by name, as an import reads them back (intranet.deficiencies.catalogue).
    kinds = {p.id: kind_catalogue.load(request.dbsession, p.id) for p in programmes}
    routes = LABELS["route_labels"]

    def row(a):
        return [a.receipt_number, names[a.programme_id], a.name, a.kana, a.birth_date, a.address,
                a.phone, request.translate(routes.get(a.route, a.route)), a.received_on,
                a.status.label_for(request.locale_name), a.scheduled_payment_on, a.paid_on,
                kinds[a.programme_id].written(a.deficiency_kinds), a.documents_sent_on,
                a.return_by, a.deficiency_reason, a.notes,
                local_moment(a.updated_at, request.locale_name)]

    return query, row, True


def _history(request, criteria):
    """(query, row maker, scalars?) for the status history."""
    ids = search.build_query(criteria).with_only_columns(Application.id)
    query = (select(StatusChange, Application.receipt_number).join(Application)
             .where(StatusChange.application_id.in_(ids)).order_by(StatusChange.id))
    catalogue, sources = request.catalogue, LABELS["source_labels"]

    def label(code):
        return catalogue[code].label_for(request.locale_name) if code in catalogue else code or ""

    def row(result):
        change, receipt = result
        return [receipt, local_moment(change.changed_at, request.locale_name),
                label(change.from_code), label(change.to_code),
                request.translate(sources.get(change.source, change.source)),
                change.user.username if change.user else "", change.reason,
                change.scheduled_payment_on, change.paid_on]

    return query, row, False


def _export(request, kind, what, header, source):
    criteria = search.parse_criteria(request.GET)
    query, row, scalars = source(request, criteria)
    programmes = _programmes_named(request.dbsession, criteria)

    def rows():
        return streamed_rows(request, query, row, scalars=scalars)

    if request.matched_route.name.endswith("_xlsx"):
        audit_export(request, f"{what}.xlsx", query, "xlsx", programmes)
        return workbook.response(_file_name(request, kind, criteria, "xlsx"), kind, header,
                                 rows())
    encoding = "cp932" if request.GET.get("encoding") == "cp932" else "utf-8"
    if encoding == "cp932" and request.GET.get("replace") != "1":
        touched = _unrepresentable_rows(rows())
        if touched["count"]:
            request.response.status = 409
            return _warning(request, kind, touched)
    audit_export(request, f"{what}.csv", query, encoding, programmes)
    return csv_response(_file_name(request, kind, criteria, "csv"),
                        csv_lines(header, rows(), encoding), encoding)


def _programmes_named(dbsession, criteria):
    """The programmes an export's typed filter values (a name, a birth date) are kept under,
    beside the audit chain: those of the applicants the export found; when it found none,
    those of the applicants any one value names alone (a receipt number beside a status
    that matched nothing); else none — the value names nobody held, and is not kept."""
    def programme_ids(found) -> set[int]:
        return set(dbsession.execute(found.with_only_columns(
            Application.programme_id).distinct()).scalars())

    def named(typed: dict[str, str]) -> list[int]:
        found = programme_ids(search.build_query(criteria))
        for key in ("receipt", "name", "birth"):
            alone = search.parse_criteria({key: typed.get(key, "")})
            if not found and typed.get(key) and not alone.errors and alone.filtered:
                found |= programme_ids(search.build_query(alone))
        return sorted(found)

    return named


def _unrepresentable_rows(rows):
    """How many rows Shift_JIS would change, and the first ones by receipt number with the
    characters it cannot hold (a 外字 named by its code point: it shows as nothing)."""
    touched = {"count": 0, "rows": []}
    for row in rows:
        characters = unrepresentable(row)
        if characters:
            touched["count"] += 1
            if len(touched["rows"]) < _SHOWN_ROWS:
                touched["rows"].append((row[0], shown(characters)))
    return touched


def _warning(request, kind, touched):
    from pyramid.renderers import render_to_response

    return render_to_response("intranet:templates/applications/export_sjis.jinja2",
                              {"kind": kind, "touched": touched, "shown": _SHOWN_ROWS},
                              request=request, response=request.response)


@view_config(route_name="export_applications", permission="applications.export")
@view_config(route_name="export_applications_xlsx", permission="applications.export")
def export_applications(request):
    return _export(request, "申請一覧", "applications", EXPORT_HEADER, _applications)


@view_config(route_name="export_history", permission="applications.export")
@view_config(route_name="export_history_xlsx", permission="applications.export")
def export_history(request):
    return _export(request, "状況履歴", "history", HISTORY_HEADER, _history)
