"""The residents' pages: the form, the answer, and the honest "not now" pages."""


from pyramid.view import view_config

from public_mirror import lookup
from public_mirror.fastpath import DECISION
from public_mirror.store import is_expired


def includeme(config):
    config.add_route("form", "/")
    config.add_route("lookup", "/lookup")
    config.add_route("api_lookup", "/api/v1/lookup")
    config.add_route("openapi", "/api/v1/openapi.json")
    config.add_route("healthz", "/healthz")


def unavailable(request):
    """(template, HTTP status) when no answer may be given now, else None."""
    if request.registry.settings["mirror.maintenance"]:
        return "maintenance", 503
    snapshot = request.snapshot
    if snapshot is None or is_expired(snapshot):
        # Never show statuses that may no longer be true as if they were current.
        return "updating", 503
    return None


def page(request, template, status=200, **values):
    request.response.status = status
    request.override_renderer = f"public_mirror:templates/{template}.jinja2"
    return values


def form_values(request, reading=None, params=None):
    snapshot = request.snapshot
    today = lookup.today_in_japan()
    return {
        "programmes": lookup.programmes(snapshot),
        "open": {p["code"]: lookup.is_open(p, today) for p in lookup.programmes(snapshot)},
        "errors": {k: request.translate(v) for k, v in (reading.errors if reading else {}).items()},
        "params": params or {},
        "as_of": lookup.as_of(snapshot),
    }


@view_config(route_name="form", request_method="GET", renderer="public_mirror:templates/form.jinja2")
def form(request):
    closed = unavailable(request)
    if closed:
        return page(request, *closed)
    return form_values(request)


@view_config(route_name="lookup", request_method="POST", renderer="public_mirror:templates/form.jinja2")
def lookup_view(request):
    closed = unavailable(request)
    if closed:
        return page(request, *closed)
    # The fast path may have judged the rate limit and answered already (public_mirror.fastpath).
    allowed, retry_after = request.environ.get(DECISION) or \
        request.registry["rate_limiter"].allow(request.client_address)
    if not allowed:
        request.response.headers["Retry-After"] = str(retry_after)
        return page(request, "too_many", 429, retry_minutes=max(1, (retry_after + 59) // 60))
    snapshot = request.snapshot
    if "shinsei.answer" in request.environ:
        question, result = request.environ["shinsei.answer"]
        return _answer_page(request, snapshot, question, result)
    reading = lookup.read_question(request.POST, snapshot)
    # The typed number is never echoed back: the page must not differ between a number
    # that does not exist and a wrong birth date, and it keeps the number off screens.
    params = {"programme": request.POST.get("programme", "")}
    if reading.question is None:
        return page(request, "form", 400, **form_values(request, reading, params))
    if not lookup.is_open(reading.question.programme, lookup.today_in_japan()):
        return page(request, "closed", 200, programme=reading.question.programme)
    result = lookup.answer(snapshot, request.registry.settings["mirror.lookup_secret"],
                           reading.question)
    request.registry["usage"].count(result.found, result.status and result.status["code"])
    return _answer_page(request, snapshot, reading.question, result)


def _answer_page(request, snapshot, question, result):
    template = "answer" if result.found else "not_found"
    return page(request, template, 200, answer=result, programme=question.programme,
                as_of=lookup.as_of(snapshot))
