"""Benefit programmes: supervisors create them and set how residents may look them up."""

import re

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet import plausible_dates
from intranet.audit import writer
from intranet.programmes import lifecycle
from intranet.programmes.events import ProgrammeCreated, ProgrammePageShown
from intranet.programmes.link import qr_svg, residents_link
from intranet.programmes.models import DEFAULT_RETENTION_YEARS, Programme, all_programmes
from intranet.programmes.names import name_errors, preview
from intranet.web import BAD_INPUT, BadInput, discard_changes, matched_id, redirect_see_other

_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,31}$")
TEMPLATE = "intranet:templates/programmes/edit.jinja2"


@view_config(route_name="programmes", permission="catalogue.view",
             renderer="intranet:templates/programmes/list.jinja2")
def programme_list(request):
    programmes = all_programmes(request.dbsession)
    return {"programmes": programmes, "stage_labels": lifecycle.STATE_LABELS,
            "stages": {p.id: lifecycle.state(p) for p in programmes},
            "retention_ends": {p.id: lifecycle.retention_ends_on(p) for p in programmes}}


@view_config(route_name="programme_new", permission="programmes.edit", request_method="GET",
             renderer=TEMPLATE)
def programme_new_form(request):
    return {"programme": None, "form": {"retention_years": DEFAULT_RETENTION_YEARS},
            "errors": {}, "lifecycle": None}


@view_config(route_name="programme", permission="programmes.edit", request_method="GET",
             renderer=TEMPLATE)
def programme_edit_form(request):
    programme = _load(request)
    return programme_page(request, programme, as_form(programme))


def programme_page(request, programme, form, errors=None, step_error=None, confirm=None):
    """The edit form and, for an existing programme, its lifecycle: state, dates, disposals."""
    link = residents_link(request.registry.settings.get("shinsei.public_url", ""), programme.code)
    qr = link and qr_svg(link, request.translate("「${name}」の照会画面へのQRコード",
                                                 name=programme.name))
    shown = ProgrammePageShown(request, programme, {
        "state": lifecycle.state(programme), "labels": lifecycle.STATE_LABELS,
        "closed_on": lifecycle.japan_date(programme.lookup_closed_at),
        "archived_on": lifecycle.japan_date(programme.archived_at),
        "disposed_on": lifecycle.japan_date(programme.disposed_at),
        "retention_ends_on": lifecycle.retention_ends_on(programme),
        "error": step_error, "confirm": confirm})
    # The disposals (intranet.disposal) and the confirmation's count of applications
    # (intranet.applications) are added by the domains that own them.
    request.registry.notify(shown)
    return {"programme": programme, "form": form, "errors": errors or {},
            "residents_link": link, "residents_qr": qr, "lifecycle": shown.lifecycle}


@view_config(route_name="programme_step", permission="programmes.edit", request_method="POST",
             renderer=TEMPLATE)
def programme_step(request):
    """Close the lookup, or archive: one step forward, never back."""
    programme = _load(request)
    steps = {"close_lookup": lifecycle.close_lookup, "archive": lifecycle.archive}
    step = steps.get(request.POST.get("step", ""))
    if step is None:
        raise BadInput(BAD_INPUT, field="step")
    chosen = request.POST["step"]
    if (request.POST.get("confirmed") != "yes"
            and lifecycle.state(programme) == lifecycle.STEP_FROM[chosen]):
        # Neither step can be undone: the first press only says what will happen, to how
        # many applications (counted by intranet.applications when the page is drawn).
        return programme_page(request, programme, as_form(programme), confirm={"step": chosen})
    try:
        step(request.dbsession, request.actor, programme)
    except lifecycle.ProgrammeStepRefused as refused:
        discard_changes(request)
        request.response.status = 409
        programme = _load(request)
        return programme_page(request, programme, as_form(programme), step_error=refused.explain(request))
    request.session.flash(request.translate("事業の段階を進めました。"), "success")
    return redirect_see_other(request, "programme", id=programme.id)


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
        if programme is None:
            return {"programme": None, "form": form, "errors": errors, "lifecycle": None}
        return programme_page(request, programme, form, errors)
    if form.get("preview"):   # the names as residents will read them; nothing is saved
        shown = (programme_page(request, programme, form) if programme is not None else
                 {"programme": None, "form": form, "errors": {}, "lifecycle": None})
        return {**shown, "preview": preview(values)}
    before = as_form(programme) if programme else None
    if programme is None:
        programme = Programme(**values)
        request.dbsession.add(programme)
        request.dbsession.flush()
        # intranet.deficiencies adds the shipped 不備の種類, for supervisors to change: staff
        # can choose them at once.
        request.registry.notify(ProgrammeCreated(request, programme))
    else:
        for name, value in values.items():
            setattr(programme, name, value)
    request.dbsession.flush()
    writer.append(request.dbsession, request.actor,
                  "programme.create" if before is None else "programme.update",
                  f"programme:{programme.id}", before=before, after=as_form(programme))
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
    if programme is not None and lifecycle.state(programme) == lifecycle.DISPOSED:
        errors["name"] = request.translate("廃棄済みの事業は変更できません。")
    years = form.get("retention_years", "").strip()
    if not (years.isascii() and years.isdigit() and 1 <= int(years) <= 30):
        errors["retention_years"] = request.translate("保存期間は1〜30年の整数で入力してください。")
    contact = form.get("contact", "").strip()
    if len(contact) > 400:
        errors["contact"] = request.translate("問い合わせ先は400文字以内にしてください。")
    dates = {}
    for field in ("lookup_opens_on", "lookup_closes_on"):
        try:
            dates[field] = plausible_dates.from_form(field, form.get(field))
        except plausible_dates.ImplausibleDate as error:
            errors[field] = request.translate(plausible_dates.MESSAGE, **error.mapping)
        except plausible_dates.UnreadableDate as error:
            errors[field] = error.explain(request)
    if (dates.get("lookup_opens_on") and dates.get("lookup_closes_on")
            and dates["lookup_closes_on"] < dates["lookup_opens_on"]):
        errors["lookup_closes_on"] = request.translate("公開終了日は公開開始日より後にしてください。")
    names = {"name_en": form.get("name_en", "").strip(), "name_easy": form.get("name_easy", "").strip()}
    errors.update(name_errors(request, names))
    values = {"code": code, "name": name, **names,
              "needs_birth_date": "needs_birth_date" in form, "contact": contact,
              "retention_years": int(years) if not errors.get("retention_years") else 0,
              **dates}
    return values, errors


def as_form(programme):
    return {
        "code": programme.code, "name": programme.name, "name_en": programme.name_en,
        "name_easy": programme.name_easy,
        "needs_birth_date": programme.needs_birth_date, "contact": programme.contact,
        "retention_years": programme.retention_years,
        "lookup_opens_on": programme.lookup_opens_on.isoformat() if programme.lookup_opens_on else "",
        "lookup_closes_on": programme.lookup_closes_on.isoformat() if programme.lookup_closes_on else "",
    }


def _load(request):
    programme = request.dbsession.get(Programme, matched_id(request))
    if programme is None:
        raise HTTPNotFound()
    return programme
