"""Account administration (administrators), and the second person's supervisor grants."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet.auth.models import ROLES, User
from intranet.users import services
from intranet.users.models import RoleGrant
from intranet.web import discard_changes, matched_id, redirect_see_other

EDIT = "intranet:templates/users/edit.jinja2"
ONE_TIME = "intranet:templates/users/one_time.jinja2"


def _one_time_hours(request):
    return request.registry.settings["login.one_time_password_hours"]


@view_config(route_name="users", permission="users.manage",
             renderer="intranet:templates/users/list.jinja2")
def user_list(request):
    users = request.dbsession.execute(select(User).order_by(User.username)).scalars().all()
    return {"users": users, "grants": services.pending_grants(request.dbsession)}


@view_config(route_name="user_new", permission="users.manage", request_method="GET",
             renderer=EDIT)
def user_new_form(request):
    return {"account": None, "form": {"role": "staff"}, "errors": {}, "roles": ROLES}


@view_config(route_name="user", permission="users.manage", request_method="GET", renderer=EDIT)
def user_edit_form(request):
    account = _load(request)
    form = {"display_name": account.display_name, "role": account.role,
            "is_active": account.is_active}
    return {"account": account, "form": form, "errors": {}, "roles": ROLES}


@view_config(route_name="user_new", permission="users.manage", request_method="POST",
             renderer=EDIT)
@view_config(route_name="user", permission="users.manage", request_method="POST", renderer=EDIT)
def user_save(request):
    account = _load(request) if "id" in request.matchdict else None
    form = request.POST
    try:
        if account is None:
            account, one_time = services.add_user(
                request.dbsession, request.actor, form.get("username", "").strip(),
                form.get("display_name", ""), form.get("role", ""),
                requested_by=request.identity.id, one_time_hours=_one_time_hours(request))
            grant = _pending_for(request, account)
            # Shown once, in this response only: never in a redirect, a flash or a log.
            request.override_renderer = ONE_TIME
            return {"account": account, "one_time": one_time, "grant": grant,
                    "hours": _one_time_hours(request)}
        grant = services.update_user(request.dbsession, request.actor, account,
                                     form.get("display_name", ""), form.get("role", ""),
                                     "is_active" in form, acting_user_id=request.identity.id)
    except services.AccountError as refused:
        discard_changes(request)
        request.response.status = 400
        account = _load(request) if "id" in request.matchdict else None
        message = refused.explain(request)
        return {"account": account, "form": form, "errors": {refused.field: message},
                "roles": ROLES}
    message = ("アカウントを保存しました。監督者への変更は、"
               "別の管理者またはセキュリティ担当の承認後に有効になります。"
               if grant else "アカウントを保存しました。")
    request.session.flash(request.translate(message), "success")
    return redirect_see_other(request, "users")


@view_config(route_name="user_reset", permission="users.manage", request_method="POST",
             renderer=ONE_TIME)
def user_reset(request):
    account = _load(request)
    one_time = services.reset_password(request.dbsession, request.actor, account,
                                       _one_time_hours(request))
    return {"account": account, "one_time": one_time, "grant": None,
            "hours": _one_time_hours(request)}


@view_config(route_name="grants", permission="users.approve_grant", request_method="GET",
             renderer="intranet:templates/users/grants.jinja2")
def grant_list(request):
    grants = services.pending_grants(request.dbsession)
    ids = {g.user_id for g in grants} | {g.requested_by for g in grants}
    names = dict(request.dbsession.execute(
        select(User.id, User.username).where(User.id.in_(ids))).all()) if ids else {}
    return {"grants": grants, "names": names, "error": None}


@view_config(route_name="grant_decide", permission="users.approve_grant", request_method="POST",
             renderer="intranet:templates/users/grants.jinja2")
def grant_decide(request):
    grant = request.dbsession.get(RoleGrant, matched_id(request))
    if grant is None:
        raise HTTPNotFound()
    try:
        services.decide_grant(request.dbsession, request.actor, grant, request.identity.id,
                              approve=request.POST.get("decision") == "approve")
    except services.AccountError as refused:
        discard_changes(request)
        request.response.status = 400
        page = grant_list(request)
        return {**page, "error": refused.explain(request)}
    request.session.flash(request.translate("承認の判断を記録しました。"), "success")
    return redirect_see_other(request, "grants")


def _pending_for(request, account):
    return request.dbsession.execute(select(RoleGrant).where(
        RoleGrant.user_id == account.id, RoleGrant.state == "pending")).scalar_one_or_none()


def _load(request):
    account = request.dbsession.get(User, matched_id(request))
    if account is None:
        raise HTTPNotFound()
    return account
