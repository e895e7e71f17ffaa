"""Saved import layouts: staff name the columns of a file they receive every week once, per
programme, and pick the layout when importing. Typed one ``列名: 項目`` a line (JSON, as the
CLI's ``--mapping`` takes, is read too), saved as that JSON and shown again in lines; a
layout that cannot be read is refused on saving with one plain sentence naming the line."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet.audit import writer
from intranet.audit.models import AuditRecord
from intranet.auth.models import SUPERVISOR
from intranet.imports.columns import column_guide, layout_json, layout_lines, load_mapping
from intranet.imports.errors import ImportRefused
from intranet.imports.models import ImportLayout
from intranet.programmes.models import Programme, all_programmes
from intranet.web import redirect_see_other, whole_number

TEMPLATE = "intranet:templates/imports/layouts.jinja2"
EXAMPLE = "お客様番号: 受付番号\n結果: 状況\n旧システムの状況: 取り込まない"


def layouts_for(dbsession, programme_id=None):
    query = select(ImportLayout).order_by(ImportLayout.programme_id, ImportLayout.name)
    if programme_id is not None:
        query = query.where(ImportLayout.programme_id == programme_id)
    return dbsession.execute(query).scalars().all()


def mapping_of(dbsession, layout_id: int, programme: Programme) -> dict:
    """The chosen layout's mapping; it must be one of this programme's layouts."""
    layout = dbsession.get(ImportLayout, layout_id)
    if layout is None or layout.programme_id != programme.id:
        raise ImportRefused("選んだ対応表はこの事業のものではありません。事業と対応表を選び直してください。")
    return load_mapping(layout.mapping)


def _page(request, layout=None, form=None, error=None):
    programmes = all_programmes(request.dbsession)
    return {"layouts": layouts_for(request.dbsession), "programmes": programmes,
            "layout": layout, "form": form or {}, "error": error, "example": EXAMPLE,
            "guide": column_guide()}


@view_config(route_name="import_layouts", permission="imports.run", request_method="GET",
             renderer=TEMPLATE)
def layout_list(request):
    return _page(request)


@view_config(route_name="import_layout", permission="imports.run", request_method="GET",
             renderer=TEMPLATE)
def layout_form(request):
    layout = _layout(request)
    return _page(request, layout, {"programme": str(layout.programme_id), "name": layout.name,
                                   "mapping": layout_lines(layout.mapping)})


@view_config(route_name="import_layouts", permission="imports.run", request_method="POST",
             renderer=TEMPLATE)
@view_config(route_name="import_layout", permission="imports.run", request_method="POST",
             renderer=TEMPLATE)
def layout_save(request):
    layout = _layout(request) if "id" in request.matchdict else None
    if layout is not None and not _may_change(request, layout):
        request.response.status = 403
        writer.append(request.dbsession, request.actor, "import_layout.refused",
                      f"import_layout:{layout.id}", reason="supervisor_layout")
        return _page(request, layout, request.POST, request.translate(SUPERVISORS_LAYOUT))
    form = request.POST
    text = form.get("programme", "")
    programme = request.dbsession.get(Programme, whole_number(text, "programme")) if text else None
    name = form.get("name", "").strip()
    try:
        if programme is None:
            raise ImportRefused("事業を選んでください。")
        if not name or len(name) > 100:
            raise ImportRefused("対応表の名前を入力してください（100文字以内）。")
        mapping = load_mapping(form.get("mapping", ""))
        taken = request.dbsession.execute(select(ImportLayout).where(
            ImportLayout.programme_id == programme.id, ImportLayout.name == name)).scalar()
        if taken is not None and taken is not layout:
            raise ImportRefused("この事業には「${name}」という対応表がすでにあります。", name=name)
    except ImportRefused as refused:
        request.response.status = 400
        return _page(request, layout, form, refused.explain(request))
    if layout is None:
        layout = ImportLayout()
        request.dbsession.add(layout)
    layout.programme_id, layout.name = programme.id, name
    layout.mapping = layout_json(form["mapping"])
    layout.updated_at = writer.utcnow()
    request.dbsession.flush()
    writer.append(request.dbsession, request.actor, "import_layout.save",
                  f"import_layout:{layout.id}", programme=programme.code, layout=name,
                  columns=len(mapping))
    request.session.flash(request.translate("対応表「${name}」を保存しました。", name=name),
                          "success")
    return redirect_see_other(request, "import_layouts")


SUPERVISORS_LAYOUT = ("監督者が保存した対応表は、監督者だけが変更できます。変えたいときは、別の名前で"
                      "新しい対応表として保存してください。")


def _may_change(request, layout) -> bool:
    """A layout a supervisor saved last is theirs to change: staff who could rewrite it would
    point a bank file's columns elsewhere under a name the supervisor trusts."""
    if request.identity.role == SUPERVISOR:
        return True
    last = request.dbsession.execute(
        select(AuditRecord.actor_role).where(AuditRecord.action == "import_layout.save",
                                             AuditRecord.target == f"import_layout:{layout.id}")
        .order_by(AuditRecord.seq.desc()).limit(1)).scalar()
    return last != SUPERVISOR


def _layout(request):
    layout = request.dbsession.get(ImportLayout, whole_number(request.matchdict["id"], "id"))
    if layout is None:
        raise HTTPNotFound()
    return layout
