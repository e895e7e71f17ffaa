"""Changing one's own password (also the first thing after a one-time password)."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from intranet.users import services as accounts
from intranet.web import discard_changes

CHANGE_FORM = "intranet:templates/password.jinja2"


@view_config(route_name="password", permission="password.change", request_method="GET",
             renderer=CHANGE_FORM)
def password_form(request):
    return {"errors": {}}


@view_config(route_name="password", permission="password.change", request_method="POST",
             renderer=CHANGE_FORM)
def password_change(request):
    form, user = request.POST, request.identity
    try:
        if form.get("password", "") != form.get("confirm", ""):
            raise accounts.AccountError("confirm", "確認用のパスワードが一致しません。")
        accounts.change_own_password(request.dbsession, request.actor, user,
                                     form.get("current", ""), form.get("password", ""),
                                     keep_token=request.session.get("sid"))
    except accounts.AccountError as refused:
        discard_changes(request)
        request.response.status = 400
        return {"errors": {refused.field: refused.explain(request)}}
    request.session.flash(request.translate(
        "パスワードを変更しました。ほかの端末のログインは終了しました。"), "success")
    return HTTPSeeOther(location=request.route_url("home"))
