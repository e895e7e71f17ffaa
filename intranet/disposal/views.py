"""Disposal screens: request (from the 事業 screen), approve or reject, the ledger, and the
printable disposal record (廃棄記録) with its JSON for re-applying after a restore."""

import json

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet.applications import lifecycle as applications
from intranet.db import engine_of
from intranet.disposal import erase, record, services
from intranet.disposal.models import STATE_LABELS, Disposal
from intranet.imports.spool import Spool
from intranet.programmes import lifecycle
from intranet.programmes.models import Programme
from intranet.programmes.views import as_form, programme_page
from intranet.statuses.models import Status
from intranet.web import BAD_INPUT, BadInput, discard_changes, matched_id, redirect_see_other

RECORD = "intranet:templates/disposal/record.jinja2"
PRINT = "intranet:templates/disposal/print.jinja2"


def _today():
    return lifecycle.japan_date(services.writer.utcnow())


@view_config(route_name="disposals", permission="disposals.view",
             renderer="intranet:templates/disposal/list.jinja2")
def disposal_list(request):
    disposals = request.dbsession.execute(
        select(Disposal).order_by(Disposal.id.desc())).scalars().all()
    return {"disposals": disposals, "labels": STATE_LABELS}


@view_config(route_name="disposal_request", permission="disposals.request", request_method="POST",
             renderer="intranet:templates/programmes/edit.jinja2")
def disposal_request(request):
    programme = request.dbsession.get(Programme, matched_id(request))
    if programme is None:
        raise HTTPNotFound()
    try:
        disposal = services.request_disposal(
            request.dbsession, request.actor, request.identity, programme,
            override="override" in request.POST, reason=request.POST.get("reason", ""),
            today=_today())
    except services.DisposalRefused as refused:
        discard_changes(request)
        request.response.status = 409
        programme = request.dbsession.get(Programme, programme.id)
        return programme_page(request, programme, as_form(programme), step_error=refused.explain(request))
    request.session.flash(request.translate(
        "廃棄を申請しました。別の監督者またはセキュリティ担当の承認を待っています。"), "success")
    return redirect_see_other(request, "disposal", id=disposal.id)


@view_config(route_name="disposal", permission="disposals.view", renderer=RECORD)
def disposal_page(request, error=None, confirm=None):
    disposal = _load(request)
    return {**_in_words(request, disposal), "error": error, "confirm": confirm,
            "may_decide": (disposal.state == "requested"
                           and request.has_permission("disposals.approve")
                           and request.identity.id != disposal.requested_by_id)}


@view_config(route_name="disposal_print", permission="disposals.view", renderer=PRINT)
def disposal_print(request):
    """The record as the 文書管理 ledger files it: one A4 sheet, words only."""
    return _in_words(request, _load(request))


def _in_words(request, disposal) -> dict:
    """What the page and its print view show: erased items and statuses by their names, every
    date as a Japan date (the stored codes stay in the JSON file, for ``disposal reapply``)."""
    as_data = record.as_dict(disposal)
    programme = disposal.programme
    statuses = {status.code: status.label_for(request.locale_name)
                for status in request.dbsession.execute(select(Status)).scalars()}
    return {
        "disposal": disposal, "labels": STATE_LABELS, "record": as_data,
        "erased": [erase.ERASED_FIELD_LABELS.get(name, name) for name in as_data["erased_fields"]],
        # A status removed from the catalogue since keeps its count under its former code.
        "by_status": [(statuses.get(code, code), count)
                      for code, count in as_data["statistics"].get("by_status", {}).items()],
        "closed_on": lifecycle.japan_date(programme.lookup_closed_at),
        "decided_on": lifecycle.japan_date(disposal.decided_at),
    }


@view_config(route_name="disposal_json", permission="disposals.view")
def disposal_json(request):
    """The record as a file: kept in the 文書管理 ledger, and read by ``disposal reapply``."""
    disposal = _load(request)
    response = request.response
    response.content_type = "application/json"
    response.charset = "utf-8"
    response.content_disposition = f'attachment; filename="disposal-{disposal.id}.json"'
    response.text = json.dumps(record.as_dict(disposal), ensure_ascii=False, indent=2)
    return response


@view_config(route_name="disposal_decision", permission="disposals.approve",
             request_method="POST", renderer=RECORD)
def disposal_decision(request):
    disposal = _load(request)
    decision = request.POST.get("decision")
    if decision not in ("approve", "reject"):
        raise BadInput(BAD_INPUT, field="decision")
    if decision == "approve" and request.POST.get("confirmed") != "yes":
        # Erasing cannot be undone: the first press only says what it will erase, and how much.
        return disposal_page(request, confirm={
            "applications": applications.application_count(request.dbsession, disposal.programme),
            "note": request.POST.get("note", "")})
    settings = request.registry.settings
    try:
        services.decide(request.dbsession, request.actor, request.identity, disposal,
                        approve=decision == "approve", note=request.POST.get("note", ""),
                        spool=Spool.from_settings(settings).directory,
                        backup_retention_days=settings["backup.retention_days"], today=_today())
    except services.DisposalRefused as refused:
        discard_changes(request)
        request.response.status = 409
        return disposal_page(request, error=refused.explain(request))
    if decision == "approve":
        engine = engine_of(request.registry)
        request.tm.get().addAfterCommitHook(
            lambda committed: committed and erase.compact(engine))
    request.session.flash(request.translate(
        "廃棄を実行しました。" if decision == "approve" else "廃棄申請を却下しました。"), "success")
    return redirect_see_other(request, "disposal", id=disposal.id)


def _load(request):
    disposal = request.dbsession.get(Disposal, matched_id(request))
    if disposal is None:
        raise HTTPNotFound()
    return disposal
