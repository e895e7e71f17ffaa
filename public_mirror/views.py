"""The residents' pages: thin shells that turn a ``resident.Reply`` into HTML."""

from pyramid.exceptions import URLDecodeError
from pyramid.httpexceptions import HTTPException
from pyramid.response import Response
from pyramid.view import exception_view_config, notfound_view_config, view_config

from public_mirror.failures import log_failure
from public_mirror.pages import Page

MAX_BODY = 64 * 1024   # a multipart form with every field is far below this


def includeme(config):
    config.add_route("form", "/")
    config.add_route("lookup", "/lookup")
    config.add_route("busy", "/busy")
    config.add_route("bad_request", "/bad-request")
    config.add_route("api_lookup", "/api/v1/lookup")
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


@view_config(route_name="lookup", request_method="POST")
def lookup_view(request):
    """The form's answer (the fast path in front answers most of these the same way)."""
    params = None
    if (request.content_length or 0) <= MAX_BODY:   # a form is small; never parse a flood
        try:
            params = request.POST
            params.items()   # a body WebOb cannot read fails here, not inside the flow
        except (UnicodeDecodeError, ValueError):
            params = None
    reply = request.services.desk.ask(params, request.client_address)
    return as_response(request.services.pages.reply(reply))


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
    return as_response(request.services.pages.error(500))
