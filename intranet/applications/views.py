"""Application list, detail with history, and single status change."""


from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet.applications import inquiry, search, services
from intranet.applications.errors import STALE, StatusChangeRefused
from intranet.applications.events import ApplicationPageShown
from intranet.applications.forms import (
    FormError,
    read_action_details,
    read_status_update,
    read_version,
)
from intranet.applications.models import Application, StatusChange
from intranet.audit import writer
from intranet.auth.models import INQUIRY
from intranet.deficiencies import catalogue as kind_catalogue
from intranet.programmes.models import all_programmes
from intranet.refusals import Refused
from intranet.web import discard_changes, matched_id, redirect_see_other


@view_config(route_name="applications", permission="applications.view",
             renderer="intranet:templates/applications/list.jinja2")
def application_list(request):
    desk = request.identity.role == INQUIRY
    criteria = search.parse_criteria(request.GET, exact_phone=desk)
    if criteria.errors:
        request.response.status = 400
    named: list[int] = []
    if desk and criteria.filtered:
        try:
            named = _desk_may_search(request, criteria)
        except Refused as refused:
            request.response.status = 429 if isinstance(refused, inquiry.Slowed) else 400
            return _listing(request, criteria, search.Page([], None), None,
                            refused.explain(request))
    # The count first: it also chooses how the page is found (search._few).
    total = search.count_matches(request.dbsession, criteria) if criteria.filtered else None
    page = search.search(request.dbsession, criteria, request.registry.settings["list.page_size"],
                         total)
    if desk and total is not None:
        shown = list(dict.fromkeys(named + [a.id for a in page.items]))
        inquiry.record_search(request.dbsession, request.actor, inquiry.asked(criteria), shown,
                              total.count)
    return _listing(request, criteria, page, total)


def _desk_may_search(request, criteria) -> list[int]:
    """The desk's rules before its search (inquiry.py); the applications it names."""
    inquiry.check(criteria)
    named = inquiry.named(request.dbsession, criteria)
    question = inquiry.asked(criteria)
    rule = inquiry.slowed(request.dbsession, request.actor.name, question, named,
                          writer.utcnow())
    if rule:
        inquiry.record_slowed(request.dbsession, request.actor, question, named, rule)
        raise inquiry.Slowed(rule)
    return named


def _listing(request, criteria, page, total, refusal=None):
    return {
        "criteria": criteria,
        "page": page,
        "total": total,
        "refusal": refusal,
        "programmes": _programmes(request),
        "catalogue": request.catalogue,
        "next_url": page.next_cursor and request.current_route_url(_query={
            **request.GET, "after": page.next_cursor}),
        "first_url": criteria.after and request.current_route_url(_query={
            k: v for k, v in request.GET.items() if k != "after"}),
    }


@view_config(route_name="application", permission="applications.view", request_method="GET",
             renderer="intranet:templates/applications/detail.jinja2")
def application_detail(request):
    application = _load(request)
    if request.identity.role == INQUIRY:
        # The security officer sees who looked at whose record, and when.
        writer.append(request.dbsession, request.actor, "application.view",
                      f"application:{application.id}",
                      personal={application.id: {
                          "receipt": application.receipt_number_normalised}})
    return _detail(request, application)


@view_config(route_name="application_status", permission="applications.change",
             request_method="POST", renderer="intranet:templates/applications/detail.jinja2")
def change_status(request):
    application = _load(request)
    catalogue = request.catalogue
    try:
        update = read_status_update(request.POST, _kinds(request, application),
                                    application.deficiency_kinds)
        version = read_version(request.POST)
        if request.POST.get("confirm") != "1":
            # First the change as it would be, checked by the rules; nothing written yet.
            if application.version != version:
                raise StatusChangeRefused(STALE)
            services.check_update(catalogue, application.status_code, update)
            return _detail(request, application, form=request.POST, confirming=update)
        before = catalogue[application.status_code].label_for(request.locale_name)
        services.change_status(request.dbsession, request.actor, request.identity.id, catalogue,
                               application, version, update)
    except (StatusChangeRefused, FormError) as refused:
        request.response.status = 409 if isinstance(refused, StatusChangeRefused) else 400
        discard_changes(request)
        # The aborted session forgot everything; show the record as it now stands.
        fresh = request.dbsession.get(Application, application.id)
        message = refused.explain(request)
        return _detail(request, fresh, error=message, form=request.POST)
    request.session.flash(request.translate(
        "受付番号 ${receipt} の状況を「${before}」から「${after}」に変更しました。",
        receipt=application.receipt_number, before=before,
        after=catalogue[update.to_code].label_for(request.locale_name)), "success")
    return redirect_see_other(request, "application", id=application.id)


@view_config(route_name="application_action", permission="applications.change",
             request_method="POST", renderer="intranet:templates/applications/detail.jinja2")
def change_action_details(request):
    """Only the action details (a later deadline, one more kind), the status kept."""
    application = _load(request)
    try:
        details = read_action_details(request.POST, _kinds(request, application),
                                      application.deficiency_kinds)
        services.change_action_details(
            request.dbsession, request.actor, request.identity.id, request.catalogue,
            application, read_version(request.POST), details,
            request.POST.get("reason", "").strip()[:2000])
    except (StatusChangeRefused, FormError) as refused:
        request.response.status = 409 if isinstance(refused, StatusChangeRefused) else 400
        discard_changes(request)
        fresh = request.dbsession.get(Application, application.id)
        return _detail(request, fresh, action_error=refused.explain(request),
                       action_form=request.POST)
    request.session.flash(request.translate(
        "受付番号 ${receipt} の不備の種類・書類送付日・返送期限を変更しました。",
        receipt=application.receipt_number), "success")
    return redirect_see_other(request, "application", id=application.id)


def _kinds(request, application):
    return kind_catalogue.load(request.dbsession, application.programme_id)


def _detail(request, application, error=None, form=None, confirming=None, action_error=None,
            action_form=None):
    catalogue = request.catalogue
    history = request.dbsession.execute(
        select(StatusChange).where(StatusChange.application_id == application.id)
        .order_by(StatusChange.id.desc())
    ).scalars().all()
    current = catalogue[application.status_code]
    kinds = _kinds(request, application)
    page = {
        "application": application,
        "history": history,
        "catalogue": catalogue,
        "next_statuses": [catalogue[c] for c in catalogue if c in current.allowed_next],
        "error": error,
        "form": form or {},
        "confirming": confirming,
        "kinds": kinds,
        "action_labels": [s.label_for(request.locale_name) for s in catalogue.values()
                          if s.needs_resident_action],
        "action_error": action_error,
        "action_form": action_form or {},
        # Each form's action details as posted after an error; else the status change's
        # start empty (what it leaves empty is kept or cleared by the rules) and the details
        # form shows what is stored (what residents read).
        "action_values": {
            "status": _action_values(form, application, kinds, False),
            "action": _action_values(action_form, application, kinds, True)},
    }
    # 「公開中の表示」 (what the residents' page answers for it now, and whether its newest
    # change is published yet) is added by intranet.publications.
    request.registry.notify(ApplicationPageShown(request, application, page))
    return page


def _action_values(posted, application, kinds, stored):
    if posted:
        return {"kinds": set(posted.getall("deficiency_kinds")),
                "documents_sent_on": posted.get("documents_sent_on", ""),
                "return_by": posted.get("return_by", "")}
    if not stored:
        return {"kinds": set(), "documents_sent_on": "", "return_by": ""}
    return {"kinds": {kind.code for kind in kinds.of(application.deficiency_kinds)},
            "documents_sent_on": _iso(application.documents_sent_on),
            "return_by": _iso(application.return_by)}


def _iso(day):
    return day.isoformat() if day else ""


def _load(request):
    application = request.dbsession.get(Application, matched_id(request))
    if application is None:
        raise HTTPNotFound()
    return application


def _programmes(request):
    return all_programmes(request.dbsession)
