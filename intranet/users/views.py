"""Account administration (administrators), and the second person's approvals."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet.auth.models import ROLES, User
from intranet.users import requests, services
from intranet.users.models import CREATE, RESET, ROLE, RoleGrant
from intranet.web import discard_changes, matched_id, redirect_see_other

EDIT = "intranet:templates/users/edit.jinja2"
ONE_TIME = "intranet:templates/users/one_time.jinja2"
GRANTS = "intranet:templates/users/grants.jinja2"


def _one_time_hours(request):
    return request.registry.settings["login.one_time_password_hours"]


@view_config(route_name="users", permission="users.manage",
             renderer="intranet:templates/users/list.jinja2")
def user_list(request):
    users = request.dbsession.execute(select(User).order_by(User.username)).scalars().all()
    grants = requests.pending(request.dbsession)
    return {"users": users, "grants": grants, "pending_ids": {g.user_id for g in grants}}


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
def user_create(request):
    form = request.POST
    try:
        asked = requests.ask_account(request.dbsession, request.actor, request.identity.id,
                                     form.get("username", "").strip(),
                                     form.get("display_name", ""), form.get("role", ""))
    except services.AccountError as refused:
        _refused(request, None, refused, CREATE)
        return {"account": None, "form": form, "errors": {refused.field: refused.explain(request)},
                "roles": ROLES}
    # Shown once, in this response only: never in a redirect, a flash or a log.
    request.override_renderer = ONE_TIME
    return _one_time(request, asked.grant, asked.first_half, "first")


@view_config(route_name="user", permission="users.manage", request_method="POST", renderer=EDIT)
def user_save(request):
    account, form = _load(request), request.POST
    role = form.get("role", "")
    grant = None
    try:
        if role != account.role:
            grant = requests.ask_role(request.dbsession, request.actor, request.identity.id,
                                      account, role)
        services.update_user(request.dbsession, request.actor, account,
                             form.get("display_name", ""), "is_active" in form,
                             acting_user_id=request.identity.id)
    except services.AccountError as refused:
        _refused(request, account.id, refused, ROLE)
        return {"account": _load(request), "form": form,
                "errors": {refused.field: refused.explain(request)}, "roles": ROLES}
    message = ("アカウントを保存しました。役割の変更は、別の管理者またはセキュリティ担当の"
               "承認後に有効になります。" if grant else "アカウントを保存しました。")
    request.session.flash(request.translate(message), "success")
    return redirect_see_other(request, "users")


@view_config(route_name="user_reset", permission="users.manage", request_method="POST",
             renderer=ONE_TIME)
def user_reset(request):
    account = _load(request)
    try:
        asked = requests.ask_reset(request.dbsession, request.actor, request.identity.id,
                                   account)
    except services.AccountError as refused:
        _refused(request, account.id, refused, RESET)
        request.override_renderer = EDIT
        account = _load(request)
        form = {"display_name": account.display_name, "role": account.role,
                "is_active": account.is_active}
        return {"account": account, "form": form, "roles": ROLES,
                "errors": {refused.field: refused.explain(request)}}
    return _one_time(request, asked.grant, asked.first_half, "first")


@view_config(route_name="grants", permission="users.approve_grant", request_method="GET",
             renderer=GRANTS)
def grant_list(request):
    grants = requests.pending(request.dbsession)
    ids = {g.user_id for g in grants} | {g.requested_by for g in grants}
    names = dict(request.dbsession.execute(
        select(User.id, User.username).where(User.id.in_(ids))).all()) if ids else {}
    return {"grants": grants, "names": names, "error": None}


@view_config(route_name="grant_decide", permission="users.approve_grant", request_method="POST",
             renderer=GRANTS)
def grant_decide(request):
    grant = request.dbsession.get(RoleGrant, matched_id(request))   # locked by the decision
    if grant is None:
        raise HTTPNotFound()
    try:
        second_half = requests.decide(
            request.dbsession, request.actor, grant, request.identity.id,
            approve=request.POST.get("decision") == "approve", hours=_one_time_hours(request))
    except services.AccountError as refused:
        kind, user_id = grant.kind, grant.user_id
        _refused(request, user_id, refused, kind)
        return {**grant_list(request), "error": refused.explain(request)}
    if second_half is not None:
        request.override_renderer = ONE_TIME
        return _one_time(request, grant, second_half, "second")
    request.session.flash(request.translate("承認の判断を記録しました。"), "success")
    return redirect_see_other(request, "grants")


def _one_time(request, grant, half, which):
    return {"account": request.dbsession.get(User, grant.user_id), "one_time": half,
            "which": which, "grant": grant, "hours": _one_time_hours(request)}


def _refused(request, user_id, refused, kind):
    """Undo what the request wrote; a refused attempt at someone else's account (not a
    typing slip) is audited, so the security officer sees who tried what."""
    discard_changes(request)
    request.response.status = 400
    if refused.reason != "invalid":
        requests.refused(request.dbsession, request.actor, user_id, refused, kind)


def _load(request):
    account = request.dbsession.get(User, matched_id(request))
    if account is None:
        raise HTTPNotFound()
    return account
