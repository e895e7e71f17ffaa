"""Bulk change screens: paste or select → preview → confirm."""

from pyramid.view import view_config
from sqlalchemy import select

from intranet.applications import bulk
from intranet.applications.forms import FormError, read_status_update
from intranet.applications.models import Application
from intranet.deficiencies import catalogue as kind_catalogue
from intranet.programmes.models import Programme, all_programmes
from intranet.refusals import Refused
from intranet.web import discard_changes, redirect_see_other, whole_number

TEMPLATE = "intranet:templates/applications/bulk.jinja2"


@view_config(route_name="bulk", permission="applications.bulk", request_method="GET",
             renderer=TEMPLATE)
def bulk_form(request):
    return _page(request, {}, None)


@view_config(route_name="bulk_selection", permission="applications.bulk",
             request_method="POST", renderer=TEMPLATE)
def bulk_from_selection(request):
    """Selected rows of the list arrive as ids; show them as numbers in the paste box."""
    ids = [whole_number(i, "ids") for i in request.POST.getall("ids")]
    rows = request.dbsession.execute(
        select(Application.programme_id, Application.receipt_number)
        .where(Application.id.in_(ids[:request.registry.settings["bulk.max_numbers"]]))
    ).all()
    programme = rows[0][0] if rows and len({r[0] for r in rows}) == 1 else None
    form = {"programme": str(programme or ""), "numbers": "\n".join(r[1] for r in rows)}
    error = None
    if rows and programme is None:
        error = request.translate("選択した申請の事業が混在しています。事業ごとに選択してください。")
    return _page(request, form, None, error)


@view_config(route_name="bulk", permission="applications.bulk", request_method="POST",
             renderer=TEMPLATE)
def bulk_preview_or_apply(request):
    form = request.POST
    catalogue = request.catalogue
    try:
        programme_id = _programme_id(request, form)
        update = read_status_update(form, kind_catalogue.load(request.dbsession, programme_id))
        resolution = bulk.resolve_numbers(
            request.dbsession, programme_id, form.get("numbers", ""),
            request.registry.settings["bulk.max_numbers"],
        )
        if form.get("confirm") and form.get("token"):
            applied = bulk.apply(request.dbsession, request.actor, request.identity.id,
                                 catalogue, resolution.ids, update, form["token"])
            request.session.flash(request.translate(
                "${count} 件の状況を変更しました。", count=f"{len(applied.changes):,}"), "success")
            return redirect_see_other(request, "bulk")
        plan = bulk.plan(request.dbsession, catalogue, resolution.ids, update)
    except Refused as refused:
        return _refuse(request, form, refused)
    return _page(request, form, {"plan": plan, "resolution": resolution,
                                 "kinds": kind_catalogue.load(request.dbsession, programme_id)})


def _refuse(request, form, refused: Refused):
    discard_changes(request)
    request.response.status = 400
    return _page(request, form, None, refused.explain(request))


def _programme_id(request, form):
    text = form.get("programme", "")
    if not text:
        raise FormError("programme", "事業を選んでください。")
    programme_id = whole_number(text, "programme")
    if request.dbsession.get(Programme, programme_id) is None:
        raise FormError("programme", "事業を選んでください。")
    return programme_id


def _page(request, form, preview, error=None):
    catalogue = request.catalogue
    return {
        "form": form,
        "preview": preview,
        "error": error,
        "catalogue": catalogue,
        "programmes": all_programmes(request.dbsession),
        "limit": request.registry.settings["bulk.max_numbers"],
    }
