"""Account administration (administrators only)."""

from pyramid.httpexceptions import HTTPNotFound
from pyramid.view import view_config
from sqlalchemy import select

from intranet.auth.models import ROLES, User
from intranet.users import services
from intranet.web import discard_changes, matched_id, redirect_see_other

EDIT = "intranet:templates/users/edit.jinja2"


@view_config(route_name="users", permission="users.manage",
             renderer="intranet:templates/users/list.jinja2")
def user_list(request):
    users = request.dbsession.execute(select(User).order_by(User.username)).scalars().all()
    return {"users": users}


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
            services.add_user(request.dbsession, request.actor, form.get("username", "").strip(),
                              form.get("display_name", ""), form.get("role", ""),
                              form.get("password", ""))
        else:
            services.update_user(request.dbsession, request.actor, account,
                                 form.get("display_name", ""), form.get("role", ""),
                                 "is_active" in form, acting_user_id=request.identity.id)
            if form.get("password"):
                services.set_password(request.dbsession, request.actor, account, form["password"])
    except services.AccountError as refused:
        discard_changes(request)
        request.response.status = 400
        account = _load(request) if account is not None else None
        message = refused.explain(request)
        return {"account": account, "form": form, "errors": {refused.field: message},
                "roles": ROLES}
    request.session.flash(request.translate("アカウントを保存しました。"), "success")
    return redirect_see_other(request, "users")


def _load(request):
    account = request.dbsession.get(User, matched_id(request))
    if account is None:
        raise HTTPNotFound()
    return account
