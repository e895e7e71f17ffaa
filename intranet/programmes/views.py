"""Benefit programmes: supervisors create them and set how residents may look them up."""

import re
from datetime import date

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet import plausible_dates
from intranet.audit import writer
from intranet.programmes.models import Programme
from intranet.web import matched_id, redirect_see_other

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
TEMPLATE = "intranet:templates/programmes/edit.jinja2"


@view_config(route_name="programmes", permission="catalogue.view",
             renderer="intranet:templates/programmes/list.jinja2")
def programme_list(request):
    return {"programmes": request.dbsession.execute(
        select(Programme).order_by(Programme.id)).scalars().all()}


@view_config(route_name="programme_new", permission="programmes.edit", request_method="GET",
             renderer=TEMPLATE)
def programme_new_form(request):
    return {"programme": None, "form": {}, "errors": {}}


@view_config(route_name="programme", permission="programmes.edit", request_method="GET",
             renderer=TEMPLATE)
def programme_edit_form(request):
    programme = _load(request)
    return {"programme": programme, "form": _as_form(programme), "errors": {}}


@view_config(route_name="programme_new", permission="programmes.edit", request_method="POST",
             renderer=TEMPLATE)
@view_config(route_name="programme", permission="programmes.edit", request_method="POST",
             renderer=TEMPLATE)
def programme_save(request):
    programme = _load(request) if "id" in request.matchdict else None
    form = request.POST
    values, errors = _read(request, form, programme)
    if errors:
        request.response.status = 400
        return {"programme": programme, "form": form, "errors": errors}
    before = _as_form(programme) if programme else None
    if programme is None:
        programme = Programme(**values)
        request.dbsession.add(programme)
    else:
        for name, value in values.items():
            setattr(programme, name, value)
    request.dbsession.flush()
    writer.append(request.dbsession, request.actor,
                  "programme.create" if before is None else "programme.update",
                  f"programme:{programme.id}", before=before, after=_as_form(programme))
    request.session.flash(request.translate("事業を保存しました。"), "success")
    return redirect_see_other(request, "programmes")


def _read(request, form, programme):
    errors = {}
    code = form.get("code", "").strip() if programme is None else programme.code
    if not _CODE.match(code):
        errors["code"] = request.translate("コードは英小文字・数字・-_ で2〜32文字にしてください。")
    elif programme is None and request.dbsession.execute(
            select(Programme.id).where(Programme.code == code)).first():
        errors["code"] = request.translate("このコードはすでに使われています。")
    name = form.get("name", "").strip()
    if not name or len(name) > 200:
        errors["name"] = request.translate("事業名を入力してください（200文字以内）。")
    dates = {}
    for field in ("lookup_opens_on", "lookup_closes_on"):
        text = form.get(field, "").strip()
        try:
            dates[field] = plausible_dates.check(field, date.fromisoformat(text) if text else None)
        except plausible_dates.ImplausibleDate as error:
            errors[field] = request.translate(plausible_dates.MESSAGE, **error.mapping)
        except ValueError:
            errors[field] = request.translate("日付の形式が正しくありません（例: 2020-06-01）。")
    if (dates.get("lookup_opens_on") and dates.get("lookup_closes_on")
            and dates["lookup_closes_on"] < dates["lookup_opens_on"]):
        errors["lookup_closes_on"] = request.translate("公開終了日は公開開始日より後にしてください。")
    values = {"code": code, "name": name, "name_en": form.get("name_en", "").strip()[:200],
              "needs_birth_date": "needs_birth_date" in form, **dates}
    return values, errors


def _as_form(programme):
    return {
        "code": programme.code, "name": programme.name, "name_en": programme.name_en,
        "needs_birth_date": programme.needs_birth_date,
        "lookup_opens_on": programme.lookup_opens_on.isoformat() if programme.lookup_opens_on else "",
        "lookup_closes_on": programme.lookup_closes_on.isoformat() if programme.lookup_closes_on else "",
    }


def _load(request):
    programme = request.dbsession.get(Programme, matched_id(request))
    if programme is None:
        raise HTTPNotFound()
    return programme
