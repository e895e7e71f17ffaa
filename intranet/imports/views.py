"""Import screens: upload → dry run → confirm."""

import hashlib
import io
import logging

from pyramid.view import view_config

from intranet.audit import writer
from intranet.exports import csv_response
from intranet.imports.apply import apply_import
from intranet.imports.columns import column_guide
from intranet.imports.errors import ImportRefused
from intranet.imports.layouts import layouts_for, mapping_of
from intranet.imports.plan import plan_import
from intranet.imports.problems import CsvWriter
from intranet.imports.spool import Spool
from intranet.programmes.models import Programme, all_programmes
from intranet.web import discard_changes, redirect_see_other, whole_number

log = logging.getLogger(__name__)
TEMPLATE = "intranet:templates/imports/form.jinja2"


def _spool(request) -> Spool:
    return Spool.from_settings(request.registry.settings)


def _gaiji_table(request) -> dict:
    return request.registry.settings.get("imports.gaiji", {})


def _page(request, **values):
    programmes = all_programmes(request.dbsession)
    return {"programmes": programmes, "layouts": layouts_for(request.dbsession), "plan": None,
            "error": None, "form": {}, "needs_bulk": None, "guide": column_guide(), **values}


@view_config(route_name="imports", permission="imports.run", request_method="GET",
             renderer=TEMPLATE)
def import_form(request):
    return _page(request)


@view_config(route_name="imports", permission="imports.run", request_method="POST",
             renderer=TEMPLATE)
def import_post(request):
    limit = request.registry.settings["imports.max_bytes"]
    if (request.content_length or 0) > limit:
        # Refused from the declared length: the body is never read.
        request.response.status = 413
        return _page(request, error=request.translate(
            "ファイルが大きすぎます（上限 ${mb} MB）。分割して取り込んでください。", mb=limit // 2**20))
    form = request.POST
    user_id = request.identity.id
    if form.get("cancel"):
        _spool(request).discard(user_id, form.get("sha256", ""))
        request.session.flash(request.translate("取込を取り消しました。"), "success")
        return redirect_see_other(request, "imports")
    text = form.get("programme", "")
    programme = request.dbsession.get(Programme, whole_number(text, "programme")) if text else None
    if programme is None:
        request.response.status = 400
        return _page(request, error=request.translate("事業を選んでください。"))
    spooled: list[str] = []        # a new upload's digest, once kept for the confirm step
    try:
        layout = form.get("layout", "")
        mapping = mapping_of(request.dbsession, whole_number(layout, "layout"),
                             programme) if layout else None
        filename, data = _file(request, form, spooled)
        if form.get("confirm"):
            plan = apply_import(request.dbsession, request.actor, user_id,
                                programme, request.catalogue, data, filename, mapping,
                                gaiji_table=_gaiji_table(request))
            if plan.status_moves and not request.has_permission("applications.bulk"):
                raise ImportRefused(_NEEDS_BULK, count=plan.status_moves)
            _spool(request).discard(user_id, plan.sha256)
            request.session.flash(request.translate(
                "「${name}」を取り込みました（新規 ${new} 件、変更 ${changed} 件）。",
                name=filename, new=plan.count("new"), changed=plan.count("changed")), "success")
            if plan.kept:
                request.session.flash(request.translate(
                    "${count} 件の値は、ファイルでは 〓 だったため登録済みのまま残しました。",
                    count=plan.kept), "success")
            if plan.flagged:
                request.session.flash(request.translate(
                    "確かめてほしい値 ${count} 件（〓 や ? が入る、文字がなくなる変更）は、"
                    "ファイルのとおり取り込みました。", count=plan.flagged), "success")
            if plan.replaced_gaiji:
                request.session.flash(request.translate(
                    "外字 ${count} 文字を市の外字表のとおり置き換え、元の番号を備考に残しました。",
                    count=plan.replaced_gaiji), "success")
            return redirect_see_other(request, "imports")
        plan = plan_import(request.dbsession, request.catalogue, programme, data, filename,
                           mapping, gaiji_table=_gaiji_table(request))
    except ImportRefused as refused:
        # The reason names an encoding, a header or a count, never a row's values.
        log.warning("import refused for user:%s: %s", request.identity.id, refused)
        discard_changes(request)
        for digest in spooled:     # refused whole: nothing to confirm, nothing to keep
            _spool(request).discard(user_id, digest)
        request.response.status = 403 if refused.message == _NEEDS_BULK else 400
        return _page(request, error=refused.explain(request),
                     form=form)
    if plan.errors:
        log.info("import dry run for user:%s: %s rows refused (sha256 %s)", request.identity.id,
                 plan.error_count, plan.sha256[:16])
        request.response.status = 400
    needs_bulk = plan.status_moves > 0 and not request.has_permission("applications.bulk")
    return _page(request, plan=plan, programme=programme, form=form,
                 needs_bulk=needs_bulk and request.translate(_NEEDS_BULK, count=plan.status_moves))


@view_config(route_name="import_problems", permission="imports.run", request_method="POST",
             renderer=TEMPLATE)
def import_problems(request):
    """Every problem the dry run found, as a CSV made now from this user's spooled upload —
    built in memory, so nothing more is written to disk — and audited as an export."""
    form = request.POST
    text = form.get("programme", "")
    programme = request.dbsession.get(Programme, whole_number(text, "programme")) if text else None
    try:
        if programme is None:
            raise ImportRefused("事業を選んでください。")
        layout = form.get("layout", "")
        mapping = mapping_of(request.dbsession, whole_number(layout, "layout"),
                             programme) if layout else None
        filename, data = _file(request, {"sha256": form.get("sha256", "")})
        handle = io.StringIO()
        sink = CsvWriter(handle, lambda message, mapping: request.translate(message, **mapping))
        plan = plan_import(request.dbsession, request.catalogue, programme, data, filename,
                           mapping, sink=sink, gaiji_table=_gaiji_table(request))
    except ImportRefused as refused:
        discard_changes(request)
        request.response.status = 400
        return _page(request, error=refused.explain(request), form=form)
    discard_changes(request)             # the plan's reading leaves nothing behind
    writer.append(request.dbsession, request.actor, "export", "import_problems.csv",
                  sha256=plan.sha256, rows=sink.count, encoding="utf-8")   # a file name may name a person
    stem = filename.rsplit(".", 1)[0] or "import"
    return csv_response(request.translate("取込の問題_${name}.csv", name=stem),
                        [handle.getvalue().encode("utf-8")])


# A file that moves the status of applications already registered is a bulk change, and
# takes the same permission as the bulk screen.
_NEEDS_BULK = ("このファイルは登録済みの ${count} 件の状況を変更します。状況の一括変更にあたるため、"
               "監督者（一括変更の権限）が取り込んでください。")


def _file(request, form, spooled: list[str] | None = None):
    """The uploaded file (kept in the spool for the confirm step; its digest added to
    ``spooled``), or this user's own spooled upload under its real name."""
    upload = form.get("file")
    if hasattr(upload, "file"):
        data = upload.file.read()
        filename = upload.filename[:255]
        digest = hashlib.sha256(data).hexdigest()
        _spool(request).keep(request.identity.id, digest, filename, data)
        if spooled is not None:
            spooled.append(digest)
        return filename, data
    kept = _spool(request).take(request.identity.id, form.get("sha256", ""))
    if kept is None:
        raise ImportRefused("確認したファイルが見つかりません（時間がたって削除されたか、"
                            "別の利用者のファイルです）。もう一度ファイルを選んでください。")
    return kept
