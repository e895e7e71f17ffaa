"""The residents' pages, rendered from configuration and an answer alone — never from the request.

Answer pages are kept and served again to everyone who gets the same answer, so nothing a
stranger sends may reach them: no Host header, no query string, no typed number. Links are
root-relative, or built on ``mirror.public_base_url`` when the site lives under a prefix;
the language is one of the configured codes, chosen before rendering.
"""

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pyramid.i18n import TranslationString, TranslationStringFactory, make_localizer

from public_mirror import birthdate, lookup
from public_mirror.answer_cache import AnswerCache
from public_mirror.i18n import LOCALE_DIR, NATIVE_NAMES, choose
from public_mirror.repeat import FIELD as REPEAT_FIELD
from public_mirror.splice import BIRTH_DATE, MASK_HIDDEN, MASKED, RECEIPT, REPEAT, fill, splice, split
from public_mirror.web import SECURITY_HEADERS, day, when
from transfer import ruby

_ = TranslationStringFactory("mirror")
CONTENT_TYPE = "text/html; charset=UTF-8"
# Pages are personal (an answer) or change with each publication: never kept by a browser
# or a proxy.
PAGE_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store", "Content-Type": CONTENT_TYPE}


@dataclass(frozen=True)
class Page:
    status: int
    body: bytes
    extra_headers: tuple = ()

    def headers(self) -> list[tuple[str, str]]:
        return [*PAGE_HEADERS.items(), *self.extra_headers,
                ("Content-Length", str(len(self.body)))]

    @property
    def status_line(self) -> str:
        return f"{self.status} {_REASONS.get(self.status, 'Unknown')}"


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            413: "Payload Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
            503: "Service Unavailable"}


class Pages:
    """Renders every residents' page from (template, language, values) and the site's settings."""

    def __init__(self, site: dict, languages: list[str], base_url: str = "",
                 texts: dict | None = None):
        self.site = site   # colours and logo; the texts residents read are per language:
        self.texts = texts or {lang: site for lang in languages}
        self.languages = languages
        self.base = base_url.rstrip("/")
        self.env = Environment(loader=PackageLoader("public_mirror", "templates"),
                               autoescape=select_autoescape(["jinja2", "html"]),
                               trim_blocks=False)
        self.env.filters["when"] = when
        self.env.filters["day"] = day
        self.env.filters["words"] = words
        self.env.filters["name_of"] = name_of
        self._localizers = {lang: make_localizer(lang, [str(LOCALE_DIR)]) for lang in languages}
        self.cache = AnswerCache()

    def url(self, name: str, lang: str | None = None) -> str:
        """The site's own links; ``name`` is a path below the site's root."""
        path = f"{self.base}/{name.lstrip('/')}"
        return f"{path}?{urlencode({'lang': lang})}" if lang and lang != "ja" else path

    def render(self, template: str, lang: str, status: int = 200, **values) -> Page:
        lang = choose(lang, self.languages)
        localizer = self._localizers[lang]

        def gettext(message, **mapping):
            message = _(message, mapping=mapping or None)
            if message.mapping:   # era names translated, dates as the language writes them
                message = _(message, mapping={
                    name: localizer.translate(value) if isinstance(value, TranslationString)
                    else day(value, lang) if isinstance(value, date) else value
                    for name, value in message.mapping.items()})
            return localizer.translate(message)

        def gettext_markup(message, **mapping):
            # Catalogue strings may carry <ruby> furigana; the catalogues ship with the app.
            return Markup(gettext(message, **mapping))  # noqa: S704

        html = self.env.get_template(f"{template}.jinja2").render(
            **values, lang=lang, site={**self.site, **self.texts[lang]}, languages=self.languages,
            native_names=NATIVE_NAMES, url=self.url, _=gettext, _m=gettext_markup)
        return Page(status, html.encode("utf-8"))

    def form(self, snapshot, lang: str, status: int = 200, errors=None,
             typed: dict | None = None, here: str = "") -> Page:
        """The form; after an error, with what was typed (``typed``) in its fields, and the
        language buttons posting it again rather than losing it."""
        today = lookup.today_in_japan()
        programmes = lookup.programmes(snapshot)
        typed = typed or {}
        return self.render("form", lang, status, programmes=programmes,
                           open={p["code"]: lookup.is_open(p, today) for p in programmes},
                           errors=errors or {}, params=typed, resubmit=typed if errors else None,
                           eras=birthdate.ERAS, as_of=lookup.as_of(snapshot),
                           numeric=lookup.numeric_keyboard(programmes, typed.get("programme", "")),
                           progress={p["code"]: lookup.paid_percent(p) for p in programmes},
                           here=here)   # the language links stay on this page (/p/<code>)

    def reply(self, reply) -> Page:
        """The page for a ``resident.Reply``; answer pages come from the cache when kept."""
        key = reply.cache_key
        if key is None:
            return self.render_uncached(reply)
        kept = self.cache.get(key)
        if kept is None:   # cut at its markers once, filled per resident
            page = self.render_uncached(reply, spliced=False)
            kept = (page, split(page.body))
            self.cache.keep(key, kept)
        page, parts = kept
        return Page(page.status, fill(parts, reply.question, reply.repeat_proof),
                    page.extra_headers)

    def render_uncached(self, reply, spliced: bool = True) -> Page:
        """``spliced=False``: an answer page with the question's markers (for the cache)."""
        if reply.kind == "invalid":
            return self.form(reply.snapshot, reply.lang, reply.status, reply.errors, reply.typed)
        values = {}
        if reply.kind in ("found", "not_found"):
            resubmit = {"programme": reply.programme["code"], "receipt_number": RECEIPT}
            if reply.programme["needs_birth_date"]:
                resubmit["birth_date"] = BIRTH_DATE
            # Switching language is not another lookup (public_mirror.repeat).
            resubmit[REPEAT_FIELD] = REPEAT
            action = reply.answer.action
            values = {"answer": reply.answer, "as_of": lookup.as_of(reply.snapshot),
                      "resubmit": resubmit, "masked": (MASK_HIDDEN, MASKED),
                      # Part of the page's cache key (resident.Reply.cache_key).
                      "overdue": bool(action and action.overdue(lookup.today_in_japan()))}
        page = self.render(_TEMPLATES[reply.kind], reply.lang, reply.status,
                           programme=reply.programme, **values,
                           retry_minutes=max(1, (reply.retry_after + 59) // 60))
        if reply.kind == "rate_limited":
            return Page(page.status, page.body, (("Retry-After", str(reply.retry_after)),))
        if spliced and reply.kind in ("found", "not_found"):
            return Page(page.status, splice(page.body, reply.question, reply.repeat_proof))
        return page

    def error(self, status: int, lang: str = "ja") -> Page:
        title, message = ERRORS.get(status, ERRORS[400])
        return self.render("error", lang, status, title=title, message=message)


# What a resident reads when the request itself cannot be answered (message ids, Japanese).
ERRORS = {
    400: ("入力内容を受け付けられませんでした",
          "送られた内容を読み取れませんでした。入力画面から、もう一度お試しください。"),
    403: ("ほかのサイトからの照会は受け付けていません",
          "照会は、このサイトの入力画面からだけ受け付けます。入力画面を開いて、もう一度お試しください。"),
    404: ("ページが見つかりません", "お探しのページは見つかりませんでした。"),
    405: ("ページが見つかりません", "お探しのページは見つかりませんでした。"),
    413: ("入力内容を受け付けられませんでした",
          "送られた内容を読み取れませんでした。入力画面から、もう一度お試しください。"),
    500: ("ただいま表示できません",
          "問題が起きました。しばらくしてから、もう一度お試しください。"),
}


def site_settings(settings: dict) -> dict:
    return {key[len("site."):]: value for key, value in settings.items()
            if key.startswith("site.") and key.count(".") == 1}


def words(text, lang: str) -> Markup | str:
    """Wording from the snapshot or the ini: furigana as <ruby> on やさしい日本語 pages, the
    plain word elsewhere (``transfer.ruby`` escapes before it adds any markup)."""
    text = text or ""
    return Markup(ruby.to_html(text)) if lang == "ja-easy" else ruby.plain(text)  # noqa: S704


def name_of(programme: dict, lang: str) -> Markup | str:
    names = programme["name"]
    return words(names.get(lang) or names.get("ja") or "", lang)


# The page each kind of reply is shown with (see public_mirror.resident).
_TEMPLATES = {"found": "answer", "not_found": "not_found", "closed": "closed", "invalid": "form",
              "rate_limited": "too_many", "maintenance": "maintenance", "updating": "updating"}
