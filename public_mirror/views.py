"""The residents' pages: thin shells that turn a ``resident.Reply`` into HTML."""

from pyramid.exceptions import URLDecodeError
from pyramid.httpexceptions import HTTPException
from pyramid.response import Response
from pyramid.view import exception_view_config, notfound_view_config, view_config

from public_mirror import lookup
from public_mirror.failures import log_failure
from public_mirror.pages import Page
from public_mirror.same_origin import cross_site
from public_mirror.statement import last_check

MAX_BODY = 64 * 1024   # a multipart form with every field is far below this


def includeme(config):
    config.add_route("form", "/")
    config.add_route("lookup", "/lookup")
    config.add_route("programme_link", "/p/{code}")
    config.add_route("accessibility", "/accessibility")
    config.add_route("busy", "/busy")
    config.add_route("bad_request", "/bad-request")
    config.add_route("api_lookup", "/api/v1/lookup")
    config.add_route("api_progress", "/api/v1/progress")
    config.add_route("openapi", "/api/v1/openapi.json")
    config.add_route("healthz", "/healthz")


def as_response(page: Page) -> Response:
    return Response(body=page.body, status=page.status_line, headerlist=page.headers())


def query_language(request) -> str:
    try:
        return request.services.desk.language(request.GET.get("lang"))
    except (UnicodeDecodeError, ValueError):
        return "ja"   # a query string that is not even text: the default language


@view_config(route_name="form", request_method="GET")
def form(request):
    services, lang = request.services, query_language(request)
    snapshot = services.snapshots.current()   # one snapshot for the whole page
    closed = services.desk.closed_reply(lang, snapshot)
    if closed:
        return as_response(services.pages.reply(closed))
    assert snapshot is not None   # closed_reply answers "updating" when there is none
    return as_response(services.pages.form(snapshot, lang))


@view_config(route_name="form", request_method="POST")
def form_kept(request):
    """「入力画面に戻る」 from an answer: the form with what was typed, posted back by the
    resident's own page so that no number is ever in a URL. Nothing is looked up."""
    services, params = request.services, posted(request)
    lang = services.desk.language(params.get("lang") if params is not None else None)
    snapshot = services.snapshots.current()
    closed = services.desk.closed_reply(lang, snapshot)
    if closed:
        return as_response(services.pages.reply(closed))
    assert snapshot is not None
    return as_response(services.pages.form(snapshot, lang, typed=lookup.typed(params),
                                           kept=True))


@view_config(route_name="programme_link", request_method="GET")
def programme_link(request):
    """The link printed (and as a QR code) on a programme's notice letter: the form with
    that programme already chosen. It holds a programme code only, never a number."""
    services, lang = request.services, query_language(request)
    snapshot = services.snapshots.current()
    closed = services.desk.closed_reply(lang, snapshot)
    if closed:
        return as_response(services.pages.reply(closed))
    assert snapshot is not None
    known = {p["code"] for p in lookup.programmes(snapshot)}
    code = request.matchdict["code"]
    if code not in known:
        return as_response(services.pages.error(404, lang))
    page = services.pages.form(snapshot, lang, typed={"programme": code}, here=f"p/{code}")
    return as_response(page)


@view_config(route_name="accessibility", request_method="GET")
def accessibility(request):
    return as_response(request.services.pages.render("statement", query_language(request),
                                                     check=last_check()))


@view_config(route_name="lookup", request_method="POST")
def lookup_view(request):
    """The form's answer (the fast path in front answers most of these the same way)."""
    if cross_site(request.environ, request.services.pages.base):
        return as_response(request.services.pages.error(403, query_language(request)))
    reply = request.services.desk.ask(posted(request), request.client_address)
    return as_response(request.services.pages.reply(reply))


def posted(request):
    """The posted fields, or None for a body too long or that cannot be read."""
    if (request.content_length or 0) > MAX_BODY:   # a form is small; never parse a flood
        return None
    try:
        params = request.POST
        params.items()   # a body WebOb cannot read fails here, not inside the flow
    except (UnicodeDecodeError, ValueError):
        return None
    return params


@view_config(route_name="busy", request_method="GET")
def busy(request):
    """The page nginx shows when its own flood limit trips (error_page 429 in deploy/nginx)."""
    page = request.services.pages.render("too_many", query_language(request), 429,
                                         retry_minutes=1)
    return as_response(page)


@view_config(route_name="bad_request", request_method="GET")
def bad_request(request):
    """The page nginx shows for a request it refuses (error_page 413 in deploy/nginx)."""
    return as_response(request.services.pages.error(400, query_language(request)))


@notfound_view_config()
def not_found(request):
    return as_response(request.services.pages.error(404, query_language(request)))


@exception_view_config(HTTPException)
def http_error(context, request):
    status = context.code if context.code in (400, 404, 405, 413) else 400
    return as_response(request.services.pages.error(status, query_language(request)))


@exception_view_config(URLDecodeError)
def undecodable(context, request):
    """A path or query that is not UTF-8 (``/%ff``): a bad request, not a failure."""
    return as_response(request.services.pages.error(400))


@exception_view_config(Exception)
def failure(context, request):
    # The route's name, not the path: a path is typed by whoever sends the request.
    route = request.matched_route.name if request.matched_route else "no route"
    log_failure(f"{request.method} ({route})", context)
    return as_response(request.services.pages.error(500, query_language(request)))
