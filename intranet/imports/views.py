"""Import screens (upload → dry run → confirm) and CSV exports of the list and the history."""

import hashlib

from pyramid.view import view_config
from sqlalchemy import select

from intranet.applications import search
from intranet.applications.models import Application, StatusChange
from intranet.exports import audit_export, csv_lines, csv_response, streamed_rows
from intranet.imports.apply import apply_import
from intranet.imports.errors import ImportRefused
from intranet.imports.plan import plan_import
from intranet.imports.spool import Spool
from intranet.programmes.models import Programme
from intranet.web import discard_changes, local_time, redirect_see_other

TEMPLATE = "intranet:templates/imports/form.jinja2"


def _spool(request) -> Spool:
    return Spool.from_settings(request.registry.settings)


def _page(request, **values):
    programmes = request.dbsession.execute(select(Programme).order_by(Programme.id)).scalars().all()
    return {"programmes": programmes, "plan": None, "error": None, "form": {},
            "needs_bulk": None, **values}


@view_config(route_name="imports", permission="imports.run", request_method="GET",
             renderer=TEMPLATE)
def import_form(request):
    return _page(request)


@view_config(route_name="imports", permission="imports.run", request_method="POST",
             renderer=TEMPLATE)
def import_post(request):
    limit = request.registry.settings["imports.max_bytes"]
    if (request.content_length or 0) > limit:
        # Refused from the declared length: the body is never read.
        request.response.status = 413
        return _page(request, error=request.translate(
            "ファイルが大きすぎます（上限 ${mb} MB）。分割して取り込んでください。", mb=limit // 2**20))
    form = request.POST
    user_id = request.identity.id
    if form.get("cancel"):
        _spool(request).discard(user_id, form.get("sha256", ""))
        request.session.flash(request.translate("取込を取り消しました。"), "success")
        return redirect_see_other(request, "imports")
    programme = request.dbsession.get(Programme, int(form.get("programme") or 0))
    if programme is None:
        request.response.status = 400
        return _page(request, error=request.translate("事業を選んでください。"))
    try:
        filename, data = _file(request, form)
        if form.get("confirm"):
            plan = apply_import(request.dbsession, request.actor, user_id,
                                programme, request.catalogue, data, filename)
            if plan.status_moves and not request.has_permission("applications.bulk"):
                raise ImportRefused(_NEEDS_BULK, count=plan.status_moves)
            _spool(request).discard(user_id, plan.sha256)
            request.session.flash(request.translate(
                "「${name}」を取り込みました（新規 ${new} 件、変更 ${changed} 件）。",
                name=filename, new=plan.count("new"), changed=plan.count("changed")), "success")
            return redirect_see_other(request, "imports")
        plan = plan_import(request.dbsession, request.catalogue, programme, data, filename)
    except ImportRefused as refused:
        discard_changes(request)
        request.response.status = 403 if refused.message == _NEEDS_BULK else 400
        return _page(request, error=request.translate(refused.message, **refused.mapping),
                     form=form)
    if plan.errors:
        request.response.status = 400
    needs_bulk = plan.status_moves > 0 and not request.has_permission("applications.bulk")
    return _page(request, plan=plan, programme=programme, form=form,
                 needs_bulk=needs_bulk and request.translate(_NEEDS_BULK, count=plan.status_moves))


# A file that moves the status of applications already registered is a bulk change, and
# takes the same permission as the bulk screen.
_NEEDS_BULK = ("このファイルは登録済みの ${count} 件の状況を変更します。状況の一括変更にあたるため、"
               "監督者（一括変更の権限）が取り込んでください。")


def _file(request, form):
    """The uploaded file (kept in the spool for the confirm step), or this user's own
    spooled upload under its real name."""
    upload = form.get("file")
    if hasattr(upload, "file"):
        data = upload.file.read()
        filename = upload.filename[:255]
        _spool(request).keep(request.identity.id, hashlib.sha256(data).hexdigest(), filename,
                             data)
        return filename, data
    kept = _spool(request).take(request.identity.id, form.get("sha256", ""))
    if kept is None:
        raise ImportRefused("確認したファイルが見つかりません（時間がたって削除されたか、"
                            "別の利用者のファイルです）。もう一度ファイルを選んでください。")
    return kept


EXPORT_HEADER = ["受付番号", "事業", "氏名", "フリガナ", "生年月日", "住所", "電話番号", "申請方法",
                 "申請日", "状況", "振込予定日", "振込日", "不備内容", "備考", "更新日時"]


@view_config(route_name="export_applications", permission="applications.view")
def export_applications(request):
    criteria = search.parse_criteria(request.GET)
    query = search.build_query(criteria).order_by(Application.id)
    codes = {p.id: p.code for p in request.dbsession.execute(select(Programme)).scalars()}
    encoding = "cp932" if request.GET.get("encoding") == "cp932" else "utf-8"
    audit_export(request, "applications.csv", query, encoding)

    def row(a):
        return [a.receipt_number, codes[a.programme_id], a.name, a.kana, a.birth_date, a.address,
                a.phone, a.route, a.received_on, a.status.staff_label, a.scheduled_payment_on,
                a.paid_on, a.deficiency_reason, a.notes, local_time(a.updated_at, "en")]

    return csv_response("applications.csv", csv_lines(
        EXPORT_HEADER, streamed_rows(request, query, row), encoding), encoding)


@view_config(route_name="export_history", permission="applications.view")
def export_history(request):
    criteria = search.parse_criteria(request.GET)
    ids = search.build_query(criteria).with_only_columns(Application.id)
    query = (select(StatusChange, Application.receipt_number).join(Application)
             .where(StatusChange.application_id.in_(ids)).order_by(StatusChange.id))
    encoding = "cp932" if request.GET.get("encoding") == "cp932" else "utf-8"
    audit_export(request, "history.csv", query, encoding)

    def row(result):
        change, receipt = result
        return [receipt, local_time(change.changed_at, "en"), change.from_code or "",
                change.to_code, change.source, change.user.username if change.user else "",
                change.reason, change.scheduled_payment_on, change.paid_on]

    header = ["受付番号", "日時", "変更前", "変更後", "方法", "職員", "理由", "振込予定日", "振込日"]
    return csv_response("history.csv", csv_lines(
        header, streamed_rows(request, query, row, scalars=False), encoding), encoding)

