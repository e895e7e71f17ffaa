"""JSON for chatbots and call-centre tools: the same flow, rules and limits as the page
(``resident.ResidentDesk``), its OpenAPI document, and the health check."""

import json
import logging
from datetime import UTC, datetime

from pyramid.i18n import TranslationString
from pyramid.view import view_config

from public_mirror import lookup
from public_mirror.ledger import ACTIVATING, MISMATCH
from public_mirror.openapi import OPENAPI
from public_mirror.same_origin import cross_site
from public_mirror.splice import masked
from public_mirror.store import is_expired
from transfer import version
from transfer.answer import WORDING_PARTS
from transfer.ruby import plain

log = logging.getLogger(__name__)
MAX_BODY = 4096
MAX_FIELDS = 16


def read_body(request) -> dict | None:
    """The question as a flat JSON object of strings, or None if it is anything else
    (too long, not UTF-8, not JSON, nested past Python's limit, other value types)."""
    if (request.content_length or 0) > MAX_BODY:
        return None
    raw = request.body_file.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        return None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if (not isinstance(body, dict) or len(body) > MAX_FIELDS
            or not all(isinstance(v, str) for v in body.values())):
        return None
    return body


def answer_json(reply, contact: str = "") -> dict:
    """A reply as the API shows it (see public_mirror.openapi). ``contact``: whom residents
    call (the site's text in the reply's language), named when a deadline has passed."""
    kind = reply.kind
    if kind in ("maintenance", "updating"):
        return {"result": "unavailable", "reason": kind}
    if kind == "rate_limited":
        return {"result": "rate_limited", "retry_after": reply.retry_after}
    if kind == "invalid":
        # Messages with values ("昭和は64年までです") read in full, as the page shows them.
        return {"result": "invalid", "errors": {name: TranslationString(message).interpolate()
                                                for name, message in reply.errors.items()}}
    as_of = lookup.as_of(reply.snapshot).isoformat()
    asked = {}
    if reply.question is not None:   # the answer confirms the question, as the page does
        hidden, tail = masked(reply.question.receipt)
        asked = {"programme": reply.programme["code"], "receipt_number_masked": hidden + tail}
    if kind in ("closed", "not_found"):
        return {"result": kind, "as_of": as_of, **asked}
    answer = reply.answer
    text = answer.wording(reply.lang)
    return {
        "result": "found", "as_of": as_of, **asked, "status": answer.code,
        "action_needed": answer.action_needed,
        # Plain text: a chatbot shows or reads it aloud; the page's furigana is left out.
        **{part: plain(text[part]) for part in WORDING_PARTS},
        "scheduled_payment_on": answer.scheduled_payment_on and answer.scheduled_payment_on.isoformat(),
        "paid_on": answer.paid_on and answer.paid_on.isoformat(),
        "action": answer.action and action_json(answer.action, reply.lang, contact),
    }


def action_json(action, lang: str, contact: str) -> dict:
    """What the resident has to do, as the page says it: plain text, dates as ISO dates."""
    overdue = action.overdue(lookup.today_in_japan())
    return {
        "missing": [plain(text) for text in action.missing_in(lang)],
        "return_to": plain(action.return_to_in(lang)) or None,
        "enclose": plain(action.enclose_in(lang)) or None,
        "return_by": action.return_by and action.return_by.isoformat(),
        "documents_sent_on": action.documents_sent_on and action.documents_sent_on.isoformat(),
        "overdue": overdue,
        "contact": plain(contact) if overdue and contact else None,
    }


@view_config(route_name="api_lookup", request_method="POST", renderer="json")
def api_lookup(request):
    services = request.services
    if cross_site(request.environ, services.pages.base):   # before the budget is touched
        request.response.status = 403
        return {"result": "refused", "reason": "cross_site"}
    reply = services.desk.ask(read_body(request), request.client_address)
    request.response.status = reply.status
    if reply.kind == "rate_limited":
        request.response.headers["Retry-After"] = str(reply.retry_after)
    return answer_json(reply, services.pages.texts[reply.lang].get("contact", ""))


@view_config(route_name="api_progress", request_method="GET", renderer="json")
def api_progress(request):
    """Per programme, the share of applications paid, as of the snapshot; counts only where
    the snapshot publishes them (enough applications), else null."""
    services = request.services
    snapshot = services.snapshots.current()
    if services.desk.closed_reply("ja", snapshot):
        request.response.status = 503
        return {"result": "unavailable"}
    assert snapshot is not None
    return {"result": "progress", "as_of": lookup.as_of(snapshot).isoformat(), "programmes": [
        {"programme": p["code"], "name": {lang: plain(name) for lang, name in p["name"].items()},
         "paid_percent": lookup.paid_percent(p),
         "applications": (p.get("progress") or {}).get("applications"),
         "paid": (p.get("progress") or {}).get("paid")}
        for p in lookup.programmes(snapshot)]}


@view_config(route_name="openapi", request_method="GET", renderer="json")
def openapi(request):
    return OPENAPI


@view_config(route_name="healthz", request_method="GET", renderer="json")
def healthz(request):
    """For the city's monitoring: what residents are being told, and the last refusal.

    Answered from a real lookup through the same code as a resident's (``desk.probe``),
    rendered as page and JSON, so a snapshot that cannot answer is not reported "ok".
    The receiver's state (``public_mirror.receiver_state``): its last attempt and refusal,
    and "stopped" (status ``receiver_stopped``) when a file has waited too long in the inbox.
    Nothing personal: sequence, times, counts, and the refusal's file name and reason; the
    running build's version, so an upgrade can be confirmed from outside. "mismatch": the
    active file is not the one the receiver's ledger says it activated (residents see 更新中).
    """
    services = request.services
    snapshot = services.snapshots.current()
    receiver = services.receiver.report()
    health = {"status": "none", "version": version.current(), "sequence": None,
              "created_at": None, "generated_at": None, "expires_at": None, "age_seconds": None,
              "last_refusal": receiver["last_refusal"], "receiver": receiver}
    if snapshot is None:
        if services.snapshots.verdict == MISMATCH:   # a file the receiver did not activate
            health.update(status="mismatch", problem=services.snapshots.disagreement)
        else:
            health["problem"] = services.snapshots.problem
        request.response.status = 503
        return health
    if services.snapshots.verdict == ACTIVATING:
        health["activating"] = services.snapshots.disagreement
    created = lookup.as_of(snapshot)
    health.update(sequence=snapshot.sequence, created_at=snapshot.header["created_at"],
                  generated_at=snapshot.header["created_at"],
                  expires_at=snapshot.header["expires_at"],
                  age_seconds=int((datetime.now(UTC) - created).total_seconds()),
                  status="stale" if is_expired(snapshot) else "ok")
    if services.desk.in_maintenance():
        health.update(status="maintenance")
    if services.desk.secret_for(snapshot) is None:
        health.update(status="broken", problem=f"no lookup key {snapshot.header.get('lookup_key_id')}"
                                               " on this host: carry it (docs/runbook)")
    try:
        for reply in services.desk.probe(snapshot):
            services.pages.render_uncached(reply)
            answer_json(reply)
    except Exception as error:  # what a resident would meet: report it, do not raise it
        log.error("health probe failed on sequence %s: %s", snapshot.sequence,
                  type(error).__name__)
        health.update(status="broken", problem=f"lookup fails: {type(error).__name__}")
    if health["status"] == "ok" and receiver["state"] == "stopped":
        # Residents are answered, but nothing new will reach them: a person must look.
        health.update(status="receiver_stopped", problem=receiver["problem"])
    if health["status"] != "ok":
        request.response.status = 503
    return health
