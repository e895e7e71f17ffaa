"""Sign in, sign out, choose a language, and where each role lands."""

from urllib.parse import urlsplit

from pyramid.csrf import new_csrf_token
from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import forget, remember
from pyramid.view import view_config

from intranet.audit import writer
from intranet.auth import services
from intranet.i18n import LOCALES
from intranet.web import BAD_INPUT, BadInput

# Where each permission's holder starts, in order of preference.
_HOMES = (
    ("applications.view", "dashboard"),
    ("audit.view", "audit"),
    ("users.manage", "users"),
)


@view_config(route_name="home")
def home(request):
    if request.identity is None:
        return HTTPSeeOther(location=request.route_url("login"))
    for permission, route in _HOMES:
        if request.has_permission(permission):
            return HTTPSeeOther(location=request.route_url(route))
    return HTTPSeeOther(location=request.route_url("login"))


@view_config(route_name="login", request_method="GET", renderer="intranet:templates/login.jinja2")
def login_form(request):
    return {"username": "", "error": None, "next": _safe_next(request)}


@view_config(route_name="login", request_method="POST", renderer="intranet:templates/login.jinja2")
def login(request):
    next_path = _safe_next(request)  # a bad one is refused before anyone is signed in
    username = request.POST.get("username", "").strip()
    result = services.authenticate(
        request.dbsession, request.registry.settings, request.client_addr or "",
        username, request.POST.get("password", ""),
    )
    if result.user is None:
        message = {
            "locked": "ログインの失敗が続いたため、このアカウントは一時的にロックされています。"
                      "しばらくしてからもう一度お試しください。",
            "bad_credentials": "ユーザー名またはパスワードが正しくありません。",
        }[result.outcome]
        request.response.status = 401 if result.outcome == "bad_credentials" else 423
        return {"username": username, "error": request.translate(message), "next": next_path}
    locale = request.session.get("locale")
    remember(request, result.user)
    if locale:
        request.session["locale"] = locale
    new_csrf_token(request)
    return HTTPSeeOther(location=next_path or request.route_url("home"))


@view_config(route_name="logout", request_method="POST")
def logout(request):
    if request.identity is not None:
        writer.append(request.dbsession, request.actor, "logout", f"user:{request.identity.id}")
    forget(request)
    return HTTPSeeOther(location=request.route_url("login"))


@view_config(route_name="language", request_method="POST")
def choose_language(request):
    next_path = _safe_next(request)
    locale = request.POST.get("locale")
    if locale in LOCALES:
        request.session["locale"] = locale
    return HTTPSeeOther(location=next_path or request.route_url("home"))


@view_config(context=BadCSRFToken, renderer="intranet:templates/csrf.jinja2")
def bad_csrf(request):
    request.response.status = 400
    return {}


def _safe_next(request) -> str:
    """Only a path on this site: an open redirect would help phishing."""
    target = request.params.get("next", "")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        # A line break would split the Location header; no link of ours carries one.
        raise BadInput(BAD_INPUT, field="next")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return ""
    return target
