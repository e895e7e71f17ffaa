"""The status catalogue: everyone who handles applications reads it; supervisors edit it."""

import re

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from intranet.audit import writer
from intranet.statuses.models import RESIDENT_LANGUAGES, StatusTransition, StatusWording
from intranet.web import redirect_see_other

# ASCII digits, and small enough for the INTEGER column on every engine.
_SORT_ORDER = re.compile(r"[0-9]{1,9}")
_TEXT_LIMITS = {"resident_label": 128, "explanation": 2000, "next_step": 2000}


@view_config(route_name="catalogue", permission="catalogue.view",
             renderer="intranet:templates/statuses/list.jinja2")
def catalogue_list(request):
    return {"catalogue": request.catalogue, "languages": RESIDENT_LANGUAGES}


@view_config(route_name="catalogue_status", permission="catalogue.edit", request_method="GET",
             renderer="intranet:templates/statuses/edit.jinja2")
def status_form(request):
    catalogue = request.catalogue
    return _page(catalogue, _status(request, catalogue), [])


@view_config(route_name="catalogue_status", permission="catalogue.edit", request_method="POST",
             renderer="intranet:templates/statuses/edit.jinja2")
def status_save(request):
    catalogue = request.catalogue
    status = _status(request, catalogue)
    form = request.POST
    errors = _validate(request, form)
    if errors:
        request.response.status = 400
        return _page(catalogue, status, errors)
    before = _describe(status)
    status.staff_label = form["staff_label"].strip()
    status.staff_label_en = form["staff_label_en"].strip()
    status.sort_order = int(form["sort_order"].strip())
    for flag in ("is_final", "needs_scheduled_payment_date", "needs_paid_date",
                 "needs_deficiency_reason"):
        setattr(status, flag, flag in form)
    _save_wordings(status, form)
    allowed = {code for code in form.getall("next") if code in catalogue}
    status.transitions = [StatusTransition(from_code=status.code, to_code=code)
                          for code in sorted(allowed)]
    request.dbsession.flush()
    writer.append(request.dbsession, request.actor, "catalogue.update", f"status:{status.code}",
                  before=before, after=_describe(status))
    request.session.flash(request.translate("状況「${label}」を保存しました。",
                                            label=status.staff_label), "success")
    return redirect_see_other(request, "catalogue")


def _save_wordings(status, form):
    for lang in RESIDENT_LANGUAGES:
        wording = status.wording(lang)
        if wording is None:
            wording = StatusWording(lang=lang, resident_label="", explanation="", next_step="")
            status.wordings.append(wording)
        for name in _TEXT_LIMITS:
            setattr(wording, name, form.get(f"{name}.{lang}", "").strip())


def _validate(request, form):
    errors = []
    for name in ("staff_label", "staff_label_en"):
        if not form.get(name, "").strip() or len(form.get(name, "")) > 64:
            errors.append((name, request.translate("職員向けの名称を入力してください（64文字以内）。")))
    if not _SORT_ORDER.fullmatch(form.get("sort_order", "").strip()):
        errors.append(("sort_order", request.translate("表示順は数字で入力してください。")))
    for lang in RESIDENT_LANGUAGES:
        for name, limit in _TEXT_LIMITS.items():
            value = form.get(f"{name}.{lang}", "").strip()
            if not value or len(value) > limit:
                errors.append((f"{name}.{lang}", request.translate(
                    "住民向けの文言を入力してください（${limit}文字以内）。", limit=limit)))
    return errors


def _describe(status):
    return {
        "staff_label": status.staff_label, "staff_label_en": status.staff_label_en,
        "sort_order": status.sort_order, "is_final": status.is_final,
        "needs": [status.needs_scheduled_payment_date, status.needs_paid_date,
                  status.needs_deficiency_reason],
        "next": sorted(status.allowed_next),
        "wording": {w.lang: [w.resident_label, w.explanation, w.next_step]
                    for w in status.wordings},
    }


def _status(request, catalogue):
    status = catalogue.get(request.matchdict["code"])
    if status is None:
        raise HTTPNotFound()
    return status


def _page(catalogue, status, errors):
    return {"catalogue": catalogue, "status": status, "errors": dict(errors),
            "languages": RESIDENT_LANGUAGES}
