"""Sign in, sign out, choose a language, where each role lands, and the 403 page (changing
one's own password is ``intranet.users.password_views``)."""

from urllib.parse import urlsplit

from pyramid.csrf import new_csrf_token
from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPFound, HTTPSeeOther
from pyramid.security import forget, remember
from pyramid.view import forbidden_view_config, view_config

from intranet.audit import writer
from intranet.auth import services, sessions
from intranet.auth.models import INQUIRY
from intranet.auth.sessions import SESSION_ENDED
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
        return HTTPSeeOther(location=login_url(request))
    if request.identity.must_change_password:
        return HTTPSeeOther(location=request.route_url("password"))
    if request.identity.role == INQUIRY:
        # The call centre's work starts with a caller's name, number or birth date.
        return HTTPSeeOther(location=request.route_url("applications"))
    for permission, route in _HOMES:
        if request.has_permission(permission):
            return HTTPSeeOther(location=request.route_url(route))
    return HTTPSeeOther(location=request.route_url("login"))


def login_url(request, next_path=""):
    """The login page, saying why the session ended (idle, expired) and where to return."""
    query = {"next": next_path} if next_path else {}
    reason = request.environ.get(SESSION_ENDED)
    if reason in _ENDED_MESSAGES:
        query["ended"] = reason
    return request.route_url("login", _query=query)


_ENDED_MESSAGES = {
    sessions.IDLE: "一定時間操作がなかったため、ログアウトしました。"
                   "もう一度ログインすると、元の画面に戻ります。",
    sessions.EXPIRED: "ログインしてから長時間たったため、ログアウトしました。もう一度ログインしてください。",
    "password": "パスワードが変更されたため、ログアウトしました。もう一度ログインしてください。",
    "role": "役割が変更されたため、ログアウトしました。もう一度ログインしてください。",
}

_FAILURES = {
    services.BAD_CREDENTIALS: (401, "ユーザー名またはパスワードが正しくありません。"),
    services.THROTTLED: (429, "ログインの失敗が続いたため、この端末からこのユーザー名でのログインを"
                              "${seconds}秒間受け付けません。しばらくしてからもう一度お試しください。"),
    services.ONE_TIME_EXPIRED: (401, "仮パスワードの有効期限が切れています。"
                                     "管理者に再発行を依頼してください。"),
}


@view_config(route_name="login", request_method="GET", renderer="intranet:templates/login.jinja2")
def login_form(request):
    message = _ENDED_MESSAGES.get(request.GET.get("ended", ""))
    return {"username": "", "error": None, "next": _safe_next(request),
            "notice": request.translate(message) if message else None}


@view_config(route_name="login", request_method="POST", renderer="intranet:templates/login.jinja2")
def login(request):
    next_path = _safe_next(request)  # a bad one is refused before anyone is signed in
    username = request.POST.get("username", "").strip()
    result = services.authenticate(
        request.dbsession, request.registry.settings, request.client_addr or "",
        username, request.POST.get("password", ""),
    )
    if result.user is None:
        status, message = _FAILURES[result.outcome]
        request.response.status = status
        if result.wait_seconds:
            request.response.headers["Retry-After"] = str(result.wait_seconds)
        return {"username": username, "notice": None,
                "error": request.translate(message, seconds=result.wait_seconds),
                "next": next_path}
    locale = request.session.get("locale")
    remember(request, result.user)
    if locale:
        request.session["locale"] = locale
    new_csrf_token(request)
    if result.user.must_change_password:
        return HTTPSeeOther(location=request.route_url("password"))
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


@forbidden_view_config(renderer="intranet:templates/forbidden.jinja2")
def forbidden(request):
    if request.identity is None:
        # A GET is where the user was; a POST's address is no page to come back to.
        return HTTPFound(location=login_url(
            request, request.path_qs if request.method == "GET" else ""))
    if request.identity.must_change_password:
        return HTTPFound(location=request.route_url("password"))
    request.response.status = 403
    return {}
