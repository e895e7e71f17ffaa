"""不備の種類 and 返送先 per programme: everyone who handles applications reads them;
supervisors edit them, with a preview of what residents read (the status wording's
editor, intranet.statuses.views, is the model: the same markup checks, the same preview)."""

import re

from markupsafe import Markup
from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet.audit import writer
from intranet.deficiencies import catalogue as kind_catalogue
from intranet.deficiencies.catalogue import fold
from intranet.deficiencies.models import MAX_DEFICIENCY_KINDS, RESIDENT_LANGUAGES, DeficiencyKind
from intranet.programmes.models import Programme
from intranet.web import matched_id, redirect_see_other
from transfer import ruby

LIST = "intranet:templates/deficiencies/list.jinja2"
EDIT = "intranet:templates/deficiencies/edit.jinja2"
_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{1,31}")
_SORT_ORDER = re.compile(r"[0-9]{1,9}")
_WORDING_LIMIT = 400
# 返送先 and 同封するもの: field per language, and the longest accepted (やさしい日本語 carries
# its furigana, so it may be longer).
RETURN_FIELDS = {name: {"ja": (name, 400), "en": (f"{name}_en", 400),
                        "ja-easy": (f"{name}_easy", 800)} for name in ("return_to", "enclose")}


@view_config(route_name="deficiency_kinds", permission="catalogue.view", request_method="GET",
             renderer=LIST)
def kind_list(request):
    programme = _programme(request)
    return _list_page(request, programme, _return_form(programme), {})


@view_config(route_name="deficiency_kinds", permission="catalogue.edit", request_method="POST",
             renderer=LIST)
def return_details_save(request):
    """返送先 and 同封するもの: in all three languages or in none."""
    programme = _programme(request)
    form = {field: request.POST.get(field, "").strip()
            for fields in RETURN_FIELDS.values() for field, _ in fields.values()}
    errors = _return_errors(request, form)
    if errors:
        request.response.status = 400
        return _list_page(request, programme, form, errors)
    if request.POST.get("preview"):
        return {**_list_page(request, programme, form, {}), "preview": _return_preview(form)}
    before = _return_form(programme)
    for field, value in form.items():
        setattr(programme, field, value)
    writer.append(request.dbsession, request.actor, "programme.return_details",
                  f"programme:{programme.id}", before=before, after=form)
    request.session.flash(request.translate("返送先と同封するものを保存しました。"), "success")
    return redirect_see_other(request, "deficiency_kinds", id=programme.id)


@view_config(route_name="deficiency_kind", permission="catalogue.edit", request_method="GET",
             renderer=EDIT)
def kind_form(request):
    programme = _programme(request)
    kind = _kind(request, programme)
    form = _kind_form(kind)
    if kind is None:   # a new kind goes last
        orders = [k.sort_order for k in kind_catalogue.load(request.dbsession, programme.id).kinds]
        form["sort_order"] = str(max(orders, default=0) + 10)
    return _edit_page(programme, kind, form, {})


@view_config(route_name="deficiency_kind", permission="catalogue.edit", request_method="POST",
             renderer=EDIT)
def kind_save(request):
    programme = _programme(request)
    kind = _kind(request, programme)
    kinds = kind_catalogue.load(request.dbsession, programme.id)
    form = {name: request.POST.get(name, "").strip()
            for name in ("code", "name", "sort_order", *_wording_fields())}
    form["retired"] = "retired" in request.POST
    if kind is not None:
        form["code"] = kind.code   # a kind's code is what files and snapshots name it by
    errors = _kind_errors(request, kinds, kind, form)
    if kind is None and not errors and kind_catalogue.free_bit(kinds) is None:
        errors["code"] = request.translate(
            "1つの事業に登録できる不備の種類は${limit}までです。使わない種類は「使用終了」にしてください。",
            limit=MAX_DEFICIENCY_KINDS)
    if errors:
        request.response.status = 400
        return _edit_page(programme, kind, form, errors)
    if request.POST.get("preview"):
        return {**_edit_page(programme, kind, form, {}), "preview": _kind_preview(form)}
    before = kind and _audited(kind)
    if kind is None:
        kind = DeficiencyKind(programme_id=programme.id, code=form["code"], wordings=[],
                              bit=kind_catalogue.free_bit(kinds))
        request.dbsession.add(kind)
    kind.name, kind.sort_order, kind.retired = form["name"], int(form["sort_order"]), form["retired"]
    for lang in RESIDENT_LANGUAGES:
        kind.set_wording(lang, form[f"wording.{lang}"])
    request.dbsession.flush()
    writer.append(request.dbsession, request.actor,
                  "deficiency_kind.create" if before is None else "deficiency_kind.update",
                  f"deficiency_kind:{kind.id}", programme=programme.code, bit=kind.bit,
                  before=before, after=_audited(kind))
    request.session.flash(request.translate("不備の種類「${name}」を保存しました。", name=kind.name),
                          "success")
    return redirect_see_other(request, "deficiency_kinds", id=programme.id)


def _wording_fields():
    return [f"wording.{lang}" for lang in RESIDENT_LANGUAGES]


def _kind_errors(request, kinds, kind, form):
    errors = {}
    if kind is None and not _CODE.fullmatch(form["code"]):
        errors["code"] = request.translate("コードは英小文字・数字・-_ で2〜32文字にしてください。")
    if not form["name"] or len(form["name"]) > 64:
        errors["name"] = request.translate("職員向けの名称を入力してください（64文字以内）。")
    if not _SORT_ORDER.fullmatch(form["sort_order"]):
        errors["sort_order"] = request.translate("表示順は数字で入力してください。")
    # Import files name kinds by code, name or Japanese wording: no two kinds may share one.
    taken = {fold(name): other for other in kinds.kinds if other is not kind
             for name in (other.code, other.name, other.resident_text("ja")) if name}
    for field in ("code", "name", "wording.ja"):
        other = taken.get(fold(form[field])) if form[field] else None
        if other is not None and field not in errors:
            errors[field] = request.translate(
                "「${value}」は不備の種類「${other}」の名前と同じです。取込で区別できないため使えません。",
                value=form[field], other=other.name)
    for lang in RESIDENT_LANGUAGES:
        field = f"wording.{lang}"
        if field in errors:
            continue
        if not form[field] or len(form[field]) > _WORDING_LIMIT:
            errors[field] = request.translate("住民向けの文言を入力してください（${limit}文字以内）。",
                                              limit=_WORDING_LIMIT)
        elif problems := ruby.problems(form[field]):
            errors[field] = request.translate(problems[0])
    return errors


def _return_errors(request, form):
    errors = {}
    for fields in RETURN_FIELDS.values():
        given = [form[field] for field, _ in fields.values() if form[field]]
        for field, limit in fields.values():
            if len(form[field]) > limit:
                errors[field] = request.translate("${limit}文字以内にしてください。", limit=limit)
            elif given and not form[field]:
                # Residents read the page in every language: a text in one needs all three.
                errors[field] = request.translate("日本語・英語・やさしい日本語のすべてを入力してください"
                                                  "（使わないときは、すべて空欄にします）。")
            elif problems := ruby.problems(form[field]):
                errors[field] = request.translate(problems[0])
    return errors


def _preview_text(lang, text):
    """As the residents' page shows it: furigana on やさしい日本語, the plain word elsewhere."""
    if lang == "ja-easy":
        return Markup(ruby.to_html(text))  # noqa: S704  (ruby.to_html escapes first)
    return ruby.plain(text)


def _kind_preview(form):
    return {lang: _preview_text(lang, form[f"wording.{lang}"]) for lang in RESIDENT_LANGUAGES}


def _return_preview(form):
    return {name: {lang: _preview_text(lang, form[field]) for lang, (field, _) in fields.items()}
            for name, fields in RETURN_FIELDS.items()}


def _kind_form(kind):
    if kind is None:
        return {"code": "", "name": "", "sort_order": "", "retired": False,
                **dict.fromkeys(_wording_fields(), "")}
    return {"code": kind.code, "name": kind.name, "sort_order": str(kind.sort_order),
            "retired": kind.retired,
            **{f"wording.{lang}": kind.resident_text(lang) for lang in RESIDENT_LANGUAGES}}


def _audited(kind):
    """A kind as its audit record says it (the audit screen names each detail)."""
    return {"code": kind.code, "name": kind.name, "sort_order": kind.sort_order,
            "retired": kind.retired,
            "wording": {lang: kind.resident_text(lang) for lang in RESIDENT_LANGUAGES}}


def _return_form(programme):
    return {field: getattr(programme, field)
            for fields in RETURN_FIELDS.values() for field, _ in fields.values()}


def _list_page(request, programme, form, errors):
    return {"programme": programme, "kinds": kind_catalogue.load(request.dbsession, programme.id),
            "form": form, "errors": errors, "fields": RETURN_FIELDS,
            "languages": RESIDENT_LANGUAGES, "limit": MAX_DEFICIENCY_KINDS}


def _edit_page(programme, kind, form, errors):
    return {"programme": programme, "kind": kind, "form": form, "errors": errors,
            "languages": RESIDENT_LANGUAGES}


def _programme(request):
    programme = request.dbsession.get(Programme, matched_id(request))
    if programme is None:
        raise HTTPNotFound()
    return programme


def _kind(request, programme):
    """The kind named in the URL (None for "new"); one of this programme's only."""
    if request.matchdict["kind"] == "new":
        return None
    kind = request.dbsession.execute(select(DeficiencyKind).where(
        DeficiencyKind.id == matched_id(request, "kind"),
        DeficiencyKind.programme_id == programme.id)).scalar_one_or_none()
    if kind is None:
        raise HTTPNotFound()
    return kind
