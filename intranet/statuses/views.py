"""The status catalogue: everyone who handles applications reads it; supervisors edit it."""

import re

from markupsafe import Markup
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config

from intranet.audit import writer
from intranet.statuses.models import RESIDENT_LANGUAGES, StatusTransition, StatusWording
from intranet.statuses.names import fold_status
from intranet.web import redirect_see_other
from transfer import ruby

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
    errors = (_validate(request, form) + _ruby_errors(request, form)
              + _alias_errors(request, catalogue, status, form.get("aliases", "")))
    # The wording as typed stays in the form, after an error or a preview.
    typed = {f"{name}.{lang}": form.get(f"{name}.{lang}", "")
             for lang in RESIDENT_LANGUAGES for name in _TEXT_LIMITS}
    if errors:
        request.response.status = 400
        return {**_page(catalogue, status, errors), "typed": typed}
    if form.get("preview"):   # shown as residents will read it; nothing is saved
        return {**_page(catalogue, status, []), "preview": _preview(form), "typed": typed}
    before = _describe(status)
    status.staff_label = form["staff_label"].strip()
    status.staff_label_en = form["staff_label_en"].strip()
    status.sort_order = int(form["sort_order"].strip())
    status.aliases = "\n".join(_alias_lines(form.get("aliases", "")))
    for flag in ("is_final", "needs_scheduled_payment_date", "needs_paid_date",
                 "needs_deficiency_reason", "needs_resident_action"):
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


def _ruby_errors(request, form):
    """Furigana markup ({給付金|きゅうふきん}) that the public page could not read."""
    return [(f"{name}.{lang}", request.translate(problem))
            for lang in RESIDENT_LANGUAGES for name in _TEXT_LIMITS
            for problem in ruby.problems(form.get(f"{name}.{lang}", ""))]


def _preview(form):
    """Per language, the wording as the residents' page renders it (furigana on やさしい日本語)."""
    return {lang: {name: Markup(ruby.html_for(form.get(f"{name}.{lang}", "").strip(), lang))  # noqa: S704
                   for name in _TEXT_LIMITS}
            for lang in RESIDENT_LANGUAGES}


def _alias_lines(text):
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def _alias_errors(request, catalogue, status, text):
    """An alias another status already answers to would make import cells ambiguous."""
    lines = _alias_lines(text)
    if len(lines) > 50 or any(len(line) > 64 for line in lines):
        return [("aliases", request.translate("別名は1行に1つ、64文字以内、50個までです。"))]
    taken = {fold_status(name): other for other in catalogue.values() if other is not status
             for name in other.names()}
    for line in lines:
        other = taken.get(fold_status(line))
        if other is not None:
            return [("aliases", request.translate(
                "別名「${alias}」は状況「${other}」の名前と同じです。取込で区別できないため使えません。",
                alias=line, other=other.staff_label))]
    return []


def _describe(status):
    return {
        "aliases": status.alias_list(),
        "staff_label": status.staff_label, "staff_label_en": status.staff_label_en,
        "sort_order": status.sort_order, "is_final": status.is_final,
        "resident_action": status.needs_resident_action,
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
