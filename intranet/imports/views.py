"""Import screens (upload → dry run → confirm) and CSV exports of the list and the history."""

import hashlib
import re
import tempfile
from pathlib import Path

from pyramid.view import view_config
from sqlalchemy import select

from intranet.applications import search
from intranet.applications.models import Application, StatusChange
from intranet.exports import csv_lines, csv_response, streamed_rows
from intranet.imports.apply import apply_import
from intranet.imports.errors import ImportRefused
from intranet.imports.plan import plan_import
from intranet.programmes.models import Programme
from intranet.web import discard_changes, local_time, redirect_see_other

TEMPLATE = "intranet:templates/imports/form.jinja2"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _spool(request) -> Path:
    path = Path(request.registry.settings.get("imports.spool_dir")
                or Path(tempfile.gettempdir()) / "shinsei-imports")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _page(request, **values):
    programmes = request.dbsession.execute(select(Programme).order_by(Programme.id)).scalars().all()
    return {"programmes": programmes, "plan": None, "error": None, "form": {}, **values}


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
    programme = request.dbsession.get(Programme, int(form.get("programme") or 0))
    if programme is None:
        request.response.status = 400
        return _page(request, error=request.translate("事業を選んでください。"))
    try:
        filename, data = _file(request, form)
        if form.get("confirm"):
            plan = apply_import(request.dbsession, request.actor, request.identity.id,
                                programme, request.catalogue, data, filename)
            (_spool(request) / plan.sha256).unlink(missing_ok=True)
            request.session.flash(request.translate(
                "「${name}」を取り込みました（新規 ${new} 件、変更 ${changed} 件）。",
                name=filename, new=plan.count("new"), changed=plan.count("changed")), "success")
            return redirect_see_other(request, "imports")
        plan = plan_import(request.dbsession, request.catalogue, programme, data, filename)
    except ImportRefused as refused:
        discard_changes(request)
        request.response.status = 400
        return _page(request, error=request.translate(refused.message, **refused.mapping),
                     form=form)
    if plan.errors:
        request.response.status = 400
    return _page(request, plan=plan, programme=programme, form=form)


def _file(request, form):
    """The uploaded file (kept in the spool for the confirm step), or the spooled one."""
    upload = form.get("file")
    if hasattr(upload, "file"):
        data = upload.file.read()
        digest = hashlib.sha256(data).hexdigest()
        (_spool(request) / digest).write_bytes(data)
        return upload.filename, data
    digest = form.get("sha256", "")
    path = _spool(request) / digest
    if not _SHA256.match(digest) or not path.exists():
        raise ImportRefused("ファイルを選んでください。")
    return form.get("filename", "import.csv"), path.read_bytes()


EXPORT_HEADER = ["受付番号", "事業", "氏名", "フリガナ", "生年月日", "住所", "電話番号", "申請方法",
                 "申請日", "状況", "振込予定日", "振込日", "不備内容", "備考", "更新日時"]


@view_config(route_name="export_applications", permission="applications.view")
def export_applications(request):
    criteria = search.parse_criteria(request.GET)
    query = search.build_query(criteria).order_by(Application.id)
    codes = {p.id: p.code for p in request.dbsession.execute(select(Programme)).scalars()}
    encoding = "cp932" if request.GET.get("encoding") == "cp932" else "utf-8"

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

    def row(result):
        change, receipt = result
        return [receipt, local_time(change.changed_at, "en"), change.from_code or "",
                change.to_code, change.source, change.user.username if change.user else "",
                change.reason, change.scheduled_payment_on, change.paid_on]

    header = ["受付番号", "日時", "変更前", "変更後", "方法", "職員", "理由", "振込予定日", "振込日"]
    return csv_response("history.csv", csv_lines(
        header, streamed_rows(request, query, row, scalars=False), encoding), encoding)

