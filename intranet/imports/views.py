"""Import screens: upload → dry run → confirm."""

import hashlib
import logging
import re
import tempfile
from pathlib import Path

from pyramid.view import view_config
from sqlalchemy import select

from intranet.imports.apply import apply_import
from intranet.imports.errors import ImportRefused
from intranet.imports.plan import plan_import
from intranet.programmes.models import Programme
from intranet.web import discard_changes, redirect_see_other, whole_number

log = logging.getLogger(__name__)
TEMPLATE = "intranet:templates/imports/form.jinja2"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _spool(request) -> Path:
    path = Path(request.registry.settings.get("imports.spool_dir")
                or Path(tempfile.gettempdir()) / "shinsei-imports")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _page(request, **values):
    programmes = request.dbsession.execute(select(Programme).order_by(Programme.id)).scalars().all()
    return {"programmes": programmes, "plan": None, "error": None, "form": {}, **values}


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
    text = form.get("programme", "")
    programme = request.dbsession.get(Programme, whole_number(text, "programme")) if text else None
    if programme is None:
        request.response.status = 400
        return _page(request, error=request.translate("事業を選んでください。"))
    try:
        filename, data = _file(request, form)
        if form.get("confirm"):
            plan = apply_import(request.dbsession, request.actor, request.identity.id,
                                programme, request.catalogue, data, filename)
            (_spool(request) / plan.sha256).unlink(missing_ok=True)
            request.session.flash(request.translate(
                "「${name}」を取り込みました（新規 ${new} 件、変更 ${changed} 件）。",
                name=filename, new=plan.count("new"), changed=plan.count("changed")), "success")
            return redirect_see_other(request, "imports")
        plan = plan_import(request.dbsession, request.catalogue, programme, data, filename)
    except ImportRefused as refused:
        # The reason names an encoding, a header or a count, never a row's values.
        log.warning("import refused for user:%s: %s", request.identity.id, refused)
        discard_changes(request)
        request.response.status = 400
        return _page(request, error=refused.explain(request),
                     form=form)
    if plan.errors:
        log.info("import dry run for user:%s: %s rows refused (sha256 %s)", request.identity.id,
                 plan.error_count, plan.sha256[:16])
        request.response.status = 400
    return _page(request, plan=plan, programme=programme, form=form)


def _file(request, form):
    """The uploaded file (kept in the spool for the confirm step), or the spooled one."""
    upload = form.get("file")
    if hasattr(upload, "file"):
        data = upload.file.read()
        digest = hashlib.sha256(data).hexdigest()
        (_spool(request) / digest).write_bytes(data)
        return upload.filename, data
    digest = form.get("sha256", "")
    path = _spool(request) / digest
    if not _SHA256.match(digest) or not path.exists():
        raise ImportRefused("ファイルを選んでください。")
    return form.get("filename", "import.csv"), path.read_bytes()
