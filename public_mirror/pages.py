"""The residents' pages, rendered from configuration and an answer alone — never from the request.

Answer pages are kept and served again to everyone who gets the same answer, so nothing a
stranger sends may reach them: no Host header, no query string, no typed number. Links are
root-relative, or built on ``mirror.public_base_url`` when the site lives under a prefix;
the language is one of the configured codes, chosen before rendering.
"""

from datetime import date
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from pyramid.i18n import TranslationString, TranslationStringFactory, make_localizer

from public_mirror import birthdate, furigana, lookup, splice
from public_mirror.answer_cache import AnswerCache
from public_mirror.i18n import LOCALE_DIR, NATIVE_NAMES, choose
from public_mirror.repeat import FIELD as REPEAT_FIELD
from public_mirror.web import SECURITY_HEADERS, day, kept_headers, month_day, when
from transfer import ruby
from transfer.answer import is_open

_ = TranslationStringFactory("mirror")
CONTENT_TYPE = "text/html; charset=UTF-8"
# Pages are personal (an answer) or change with each publication: never kept by a browser
# or a proxy.
PAGE_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store", "Content-Type": CONTENT_TYPE}


_PAGE_HEADER_ITEMS = kept_headers(PAGE_HEADERS.items())   # the server's block per page kind


class Page(NamedTuple):
    """Immutable, made at a third of a frozen dataclass's cost (one per answer)."""

    status: int
    body: bytes
    extra_headers: tuple = ()

    def headers(self) -> list[tuple[str, str]]:
        return [*_PAGE_HEADER_ITEMS, *self.extra_headers,
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
        self.env.filters["day"] = lambda value, lang: day(
            date.fromisoformat(value) if isinstance(value, str) else value, lang)
        self.env.filters["words"] = words
        self.env.filters["name_of"] = name_of
        self.env.filters["text"] = text_only
        self.env.filters["minutes"] = minutes
        self._localizers = {lang: make_localizer(lang, [str(LOCALE_DIR)]) for lang in languages}
        self.cache = AnswerCache()
        self._writers = {lang: self._writer(lang) for lang in languages}

    def url(self, name: str, lang: str | None = None) -> str:
        """The site's own links; ``name`` is a path below the site's root."""
        path = f"{self.base}/{name.lstrip('/')}"
        return f"{path}?{urlencode({'lang': lang})}" if lang and lang != "ja" else path

    def translate(self, lang: str, message, mapping: dict | None = None) -> Markup:
        """A message in ``lang``, as HTML. A catalogue's text is text, with furigana as
        ``{漢字|かんじ}`` (``transfer.ruby``, as in all wording): <ruby> on やさしい日本語
        pages. The values put into it are escaped, unless they are markup made here: era
        names translated, dates as the language writes them."""
        message = _(message, mapping=mapping or None)
        html = self._catalogue_html(lang, str(message))
        if not message.mapping:
            return html
        values = {name: self.translate(lang, value) if isinstance(value, TranslationString)
                  else escape(day(value, lang)) if isinstance(value, date) else escape(value)
                  for name, value in message.mapping.items()}
        return Markup(TranslationString(html, mapping=values).interpolate())  # noqa: S704

    @lru_cache(maxsize=2048)  # noqa: B019  (one Pages per process; message ids are the app's)
    def _catalogue_html(self, lang: str, msgid: str) -> Markup:
        """A message's text in ``lang`` as HTML, before any value is put in: the same for
        every page, so made once (the message id is the app's, never what was typed)."""
        text = self._localizers[lang].translate(_(msgid))   # no mapping: not interpolated
        return Markup(ruby.to_html(text)) if lang == "ja-easy" else escape(text)  # noqa: S704

    def render(self, template: str, lang: str, status: int = 200, **values) -> Page:
        lang = choose(lang, self.languages)

        def gettext(message, **mapping):
            return self.translate(lang, message, mapping)

        html = self.env.get_template(f"{template}.jinja2").render(
            **values, lang=lang, site={**self.site, **self.texts[lang]}, languages=self.languages,
            native_names=NATIVE_NAMES, url=self.url, _=gettext)
        return Page(status, html.encode("utf-8"))

    def form(self, snapshot, lang: str, status: int = 200, errors=None,
             typed: dict | None = None, here: str = "", kept: bool = False) -> Page:
        """The form; after an error, with what was typed (``typed``) in its fields, and the
        language buttons posting it again rather than losing it (``kept``: the resident
        came back to the form from an answer, and its language buttons stay on the form)."""
        typed = typed or {}
        era = typed.get("birth_era", "")
        chosen = {code: Markup(" selected") if code == era else ""
                  for code in splice.ERA_CHOICES}
        if era not in splice.ERA_CHOICES:
            chosen[""] = Markup(" selected")
        resubmit = typed if errors or kept else None
        return self.render("form", lang, status, **self.form_values(snapshot, typed, chosen),
                           errors=errors or {}, resubmit=resubmit,
                           resubmit_to="" if kept else "lookup",
                           here=here)   # the language links stay on this page (/p/<code>)

    def form_values(self, snapshot, params: dict, era_chosen: dict) -> dict:
        """What the form needs: the programmes (open today or not), the fields' values."""
        today = lookup.today_in_japan()
        programmes = lookup.programmes(snapshot)
        return {"programmes": programmes, "params": params, "era_chosen": era_chosen,
                "open": {p["code"]: is_open(p, today) for p in programmes},
                "eras": birthdate.ERAS, "as_of": lookup.as_of(snapshot),
                "numeric": lookup.numeric_keyboard(programmes, params.get("programme", "")),
                "progress": {p["code"]: lookup.paid_percent(p) for p in programmes}}

    def reply(self, reply) -> Page:
        """The page for a ``resident.Reply``; answer pages come from the cache when kept."""
        key = reply.cache_key
        if key is None:
            return self.render_uncached(reply)
        kept = self.cache.get(key)
        if kept is None:   # cut at its markers once, filled per resident
            page = self.render_uncached(reply, spliced=False)
            kept = (page, splice.split(page.body))
            self.cache.keep(key, kept)
        page, parts = kept
        return Page(page.status, splice.fill(parts, reply.question, reply.repeat_proof,
                                             self._writers.get(reply.lang) or self._writer(reply.lang)),
                    page.extra_headers)

    def render_uncached(self, reply, spliced: bool = True) -> Page:
        """``spliced=False``: an answer page with the question's markers (for the cache)."""
        if reply.kind == "invalid":
            return self.form(reply.snapshot, reply.lang, reply.status, reply.errors, reply.typed)
        values: dict = {"keep": reply.typed}
        if reply.kind in ("found", "not_found"):
            values = self._answer_values(reply)
        page = self.render(_TEMPLATES[reply.kind], reply.lang, reply.status,
                           programme=reply.programme, **values,
                           retry_minutes=max(1, (reply.retry_after + 59) // 60))
        if reply.kind == "rate_limited":
            return Page(page.status, page.body, (("Retry-After", str(reply.retry_after)),))
        if spliced and reply.kind in ("found", "not_found"):
            return Page(page.status, splice.splice(page.body, reply.question,
                                                   reply.repeat_proof, self._writer(reply.lang)))
        return page

    def _answer_values(self, reply) -> dict:
        """An answer page's values, with markers where the question goes (``splice``): the
        page is kept and served to everyone given the same answer."""
        birth = {"birth_era": splice.BIRTH_ERA, "birth_year": splice.BIRTH_YEAR,
                 "birth_month": splice.BIRTH_MONTH, "birth_day": splice.BIRTH_DAY}
        asked = {"programme": reply.programme["code"], "receipt_number": splice.RECEIPT,
                 **(birth if reply.programme["needs_birth_date"] else {})}
        action = reply.answer.action
        # Switching language is not another lookup (public_mirror.repeat).
        values = {"answer": reply.answer, "as_of": lookup.as_of(reply.snapshot),
                  "resubmit": {**asked, REPEAT_FIELD: splice.REPEAT},
                  "masked": (splice.MASK_HIDDEN, splice.MASKED),
                  "birth_shown": splice.BIRTH_SHOWN,
                  # Part of the page's cache key (resident.Reply.cache_key).
                  "overdue": bool(action and action.overdue(lookup.today_in_japan()))}
        if reply.kind == "not_found":   # the form again, filled in; and back to it, kept
            values.update(self.form_values(reply.snapshot, {**asked, **birth},
                                           splice.ERA_CHOSEN), errors={}, keep=asked)
        return values

    def _writer(self, lang: str):
        """The birth date as the resident entered it, in ``lang`` (``splice.fill``)."""
        return lambda question: str(self.birth_entered(question, lang))

    def birth_entered(self, question, lang: str) -> Markup:
        typed = birthdate.entered(question.birth_date, question.birth_era)
        if typed.era == birthdate.WESTERN:
            return escape(day(question.birth_date, lang))
        year = _("元") if typed.year == 1 else typed.year   # 令和元年
        return self.translate(lang, birthdate.IN_ERA, {
            "era": birthdate.era_name(typed.era), "year": year, "date": question.birth_date,
            "month_day": escape(month_day(question.birth_date, lang))})

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


def words(text, lang: str) -> Markup:
    """Wording from the snapshot or the ini: furigana as <ruby> on やさしい日本語 pages, the
    plain word elsewhere (``transfer.ruby`` escapes before it adds any markup)."""
    return Markup(ruby.html_for(text or "", lang))  # noqa: S704


def name_of(programme: dict, lang: str) -> Markup | str:
    names = programme["name"]
    return words(names.get(lang) or names.get("ja") or "", lang)


def text_only(html, lang: str) -> Markup | str:
    """Where markup cannot go (the title, an attribute, an option): furigana read as kana
    on やさしい日本語 pages."""
    return furigana.as_text(html) if lang == "ja-easy" else html


def minutes(count: int, lang: str) -> Markup | str:
    """A number of minutes, for the やさしい日本語 wording (1分 read いっぷん)."""
    return furigana.minutes_html(count) if lang == "ja-easy" else str(count)


# The page each kind of reply is shown with (see public_mirror.resident).
_TEMPLATES = {"found": "answer", "not_found": "not_found", "closed": "closed", "invalid": "form",
              "rate_limited": "too_many", "maintenance": "maintenance", "updating": "updating"}
