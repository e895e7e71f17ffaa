"""CSV exports of the application list and its status history (same filters as the list)."""

from pyramid.view import view_config
from sqlalchemy import select

from intranet.applications import search
from intranet.applications.models import Application, StatusChange
from intranet.exports import audit_export, csv_lines, csv_response, streamed_rows
from intranet.programmes.models import Programme
from intranet.web import local_time

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

