"""The hot path: POST /lookup answered in plain WSGI, without Pyramid's routing.

After a publication residents arrive in bursts. A form post is read here (bounded), asked
of the same ``ResidentDesk`` as the page and the API, and answered with the same
``Pages`` — answer pages from their cache. Anything that is not a plain form post to
/lookup goes on to Pyramid, whose view is the same shell around the same flow.
"""

from urllib.parse import parse_qsl

from public_mirror.failures import log_failure
from public_mirror.ratelimit import client_address
from public_mirror.resident import MAX_BODY, MAX_FIELDS
from public_mirror.same_origin import cross_site

FORM_TYPE = "application/x-www-form-urlencoded"


class LookupFastPath:
    def __init__(self, app, services):
        self.app = app
        self.services = services

    def __call__(self, environ, start_response):
        if (environ["REQUEST_METHOD"] != "POST" or environ.get("PATH_INFO") != "/lookup"
                or environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() != FORM_TYPE):
            return self.app(environ, start_response)
        services = self.services
        if cross_site(environ, services.pages.base):   # before the budget is touched
            page = services.pages.error(403)
            start_response(page.status_line, page.headers())
            return [page.body]
        try:
            reply = services.desk.ask(read_form(environ),
                                      client_address(environ, services.trusted_proxies))
            page = services.pages.reply(reply)
        except Exception as error:   # the residents' 500 page, as Pyramid's views give it
            log_failure("the fast path (POST /lookup)", error)
            page = services.pages.error(500)
        start_response(page.status_line, page.headers())
        return [page.body]


def read_form(environ) -> dict | None:
    """The posted fields, or None if the body is too long, not text, or has too many fields."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 <= length <= MAX_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    try:
        return parse_form(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def parse_form(text: str) -> dict:
    """``dict(parse_qsl(text, max_num_fields=MAX_FIELDS))``, exactly; a body with nothing to
    decode (no ``%``, no ``+``: what the form sends for ASCII input) is split directly,
    at a fifth of ``parse_qsl``'s cost."""
    if "%" in text or "+" in text:
        return dict(parse_qsl(text, max_num_fields=MAX_FIELDS))
    if text and text.count("&") >= MAX_FIELDS:
        raise ValueError("Max number of fields exceeded")
    fields = {}
    for pair in text.split("&"):
        name, _, value = pair.partition("=")
        if value:   # parse_qsl drops blank values and pairs without "="
            fields[name] = value
    return fields
