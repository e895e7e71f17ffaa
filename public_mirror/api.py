"""JSON for chatbots and call-centre tools (same rules and limits as the page), its OpenAPI
document, and the health check."""

from datetime import UTC, datetime

from pyramid.view import view_config

from public_mirror import lookup
from public_mirror.openapi import OPENAPI
from public_mirror.store import is_expired
from public_mirror.views import unavailable


def _wording(status: dict, lang: str) -> dict:
    wording = status.get("wording", {})
    return wording.get(lang) or wording.get("ja") or {}


@view_config(route_name="api_lookup", request_method="POST", renderer="json")
def api_lookup(request):
    closed = unavailable(request)
    if closed:
        request.response.status = closed[1]
        return {"result": "unavailable", "reason": closed[0]}
    allowed, retry_after = request.registry["rate_limiter"].allow(request.client_address)
    if not allowed:
        request.response.status = 429
        request.response.headers["Retry-After"] = str(retry_after)
        return {"result": "rate_limited", "retry_after": retry_after}
    try:
        body = request.json_body
    except ValueError:
        body = None
    if not isinstance(body, dict) or not all(isinstance(v, str) for v in body.values()):
        request.response.status = 400
        return {"result": "invalid", "errors": {"body": "a JSON object of strings is expected"}}
    snapshot = request.snapshot
    reading = lookup.read_question(body, snapshot)
    if reading.question is None:
        request.response.status = 400
        return {"result": "invalid", "errors": reading.errors}
    lang = body.get("lang") if body.get("lang") in request.registry["languages"] else "ja"
    as_of = lookup.as_of(snapshot).isoformat()
    if not lookup.is_open(reading.question.programme, lookup.today_in_japan()):
        return {"result": "closed", "as_of": as_of}
    result = lookup.answer(snapshot, request.registry.settings["mirror.lookup_secret"],
                           reading.question)
    request.registry["usage"].count(result.found, result.status and result.status["code"])
    if not result.found:
        return {"result": "not_found", "as_of": as_of}
    text = _wording(result.status, lang)
    return {
        "result": "found", "as_of": as_of, "status": result.status["code"],
        "label": text.get("label", ""), "explanation": text.get("explanation", ""),
        "next_step": text.get("next_step", ""),
        "scheduled_payment_on": result.scheduled_payment_on and result.scheduled_payment_on.isoformat(),
        "paid_on": result.paid_on and result.paid_on.isoformat(),
    }


@view_config(route_name="openapi", request_method="GET", renderer="json")
def openapi(request):
    return OPENAPI


@view_config(route_name="healthz", request_method="GET", renderer="json")
def healthz(request):
    snapshot = request.snapshot
    if snapshot is None:
        request.response.status = 503
        return {"status": "none", "sequence": None, "generated_at": None, "age_seconds": None}
    created = lookup.as_of(snapshot)
    stale = is_expired(snapshot)
    if stale:
        request.response.status = 503
    return {"status": "stale" if stale else "ok", "sequence": snapshot.sequence,
            "generated_at": snapshot.header["created_at"],
            "age_seconds": int((datetime.now(UTC) - created).total_seconds())}
