"""The hot path: POST /lookup answered with a page already rendered for this snapshot.

After a publication residents arrive in bursts, and every answer page is the same for the
same (snapshot, language, programme, status, dates): the typed number is never echoed.
So the first request for such an answer goes through Pyramid, and its response is kept;
later ones are served here, in plain WSGI, after the same checks (form, rate limit,
lookup, usage count). Anything unusual — bad input, a closed programme, a refusal, no
current snapshot, maintenance — goes to Pyramid as usual.
"""

import io
import threading
from urllib.parse import parse_qsl

from public_mirror import lookup
from public_mirror.ratelimit import client_address
from public_mirror.store import is_expired

MAX_FORM = 4096
CACHE_LIMIT = 4096
DECISION = "shinsei.rate_decision"   # the fast path's rate-limit verdict, for the view
CACHE_KEY = "shinsei.answer_key"     # set when the view's response may be kept


class LookupFastPath:
    def __init__(self, app, registry):
        self.app = app
        self.registry = registry
        settings = registry.settings
        self.secret = settings["mirror.lookup_secret"]
        self.proxies = settings["mirror.trusted_proxies"]
        self.maintenance = settings["mirror.maintenance"]
        self.languages = registry["languages"]
        self._pages: dict = {}
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if (self.maintenance or environ["REQUEST_METHOD"] != "POST"
                or environ.get("PATH_INFO") != "/lookup"):
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_FORM:
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)   # Pyramid may still read it
        key = self._answer_key(environ, body)
        if key is None:
            return self.app(environ, start_response)
        page = self._pages.get(key)
        if page is None:
            environ[CACHE_KEY] = key
            return self._render_and_keep(environ, start_response, key)
        status, headers, content = page
        start_response(status, headers)
        return [content]

    def _answer_key(self, environ, body):
        snapshot = self.registry["active_snapshot"].current()
        if snapshot is None or is_expired(snapshot):
            return None
        form = dict(parse_qsl(body.decode("utf-8", errors="replace")))
        reading = lookup.read_question(form, snapshot)
        if reading.question is None or not lookup.is_open(reading.question.programme,
                                                          lookup.today_in_japan()):
            return None
        allowed, retry_after = self.registry["rate_limiter"].allow(
            client_address(environ, self.proxies))
        environ[DECISION] = (allowed, retry_after)
        if not allowed:
            return None
        answer = lookup.answer(snapshot, self.secret, reading.question)
        self.registry["usage"].count(answer.found, answer.status and answer.status["code"])
        environ["shinsei.answer"] = (reading.question, answer)
        lang = form.get("lang") if form.get("lang") in self.languages else "ja"
        return (snapshot.sequence, lang, reading.question.programme["code"], answer.found,
                answer.status and answer.status["code"], answer.scheduled_payment_on,
                answer.paid_on)

    def _render_and_keep(self, environ, start_response, key):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        chunks = list(self.app(environ, capture))
        if captured.get("status", "").startswith("200") and environ.get(CACHE_KEY) == key:
            with self._lock:
                if len(self._pages) >= CACHE_LIMIT or any(k[0] != key[0] for k in self._pages):
                    self._pages.clear()   # a new snapshot, or too many distinct answers
                self._pages[key] = (captured["status"], captured["headers"], b"".join(chunks))
        return chunks
