"""Page furniture: static files, the theme and logo, security headers, and no cookies at all."""

import mimetypes
from pathlib import Path
from urllib.parse import urlsplit

from public_mirror import furigana

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "interest-cohort=(), geolocation=(), camera=(), microphone=()",
}


# Header lists an app sends again and again (by the id of their first item): the server
# (``public_mirror.serve``) builds the header block for them once per kind and length
# rather than per response. Any other WSGI server sees plain lists of plain tuples.
KEPT_HEADERS: dict[int, tuple] = {}


def kept_headers(items) -> tuple:
    """``items`` as a tuple to begin a page's header lists with, registered as kept."""
    kept = tuple(items)
    KEPT_HEADERS[id(kept[0])] = kept   # the tuple holds its first item: the id stays its own
    return kept


# What a browser may keep: files that are the same for everyone.
_KEPT = ("/static/", "/favicon.ico", "/robots.txt")


def headers_tween_factory(handler, registry):
    def tween(request):
        response = handler(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        # The raw path: decoding a path that is not UTF-8 (/%ff) must not fail here.
        if not request.environ.get("PATH_INFO", "").startswith(_KEPT):
            # Answers are personal and change with each publication: never cached.
            response.headers["Cache-Control"] = "no-store"
        # No cookies are set by this app, whatever a library might try.
        response.headers.pop("Set-Cookie", None)
        return response

    return tween


def when(moment, lang="ja") -> str:
    """The "as of" time in Japan time, as each language writes it (with furigana, as
    markup, on やさしい日本語 pages)."""
    if lang == "en":
        return f"{moment.day} {moment:%B %Y, %H:%M} (Japan time)"   # "8 January", not "08"
    if lang == "ja-easy":
        return furigana.time_html(moment)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment.hour}時{moment.minute}分"


def day(value, lang="ja") -> str:
    if lang == "en":
        return f"{value.day} {value:%B %Y}"
    if lang == "ja-easy":
        return furigana.date_html(value)
    return f"{value.year}年{value.month}月{value.day}日"


def month_day(value, lang="ja") -> str:
    """The month and day of a date (a birth date written with its era year)."""
    if lang == "en":
        return f"{value.day} {value:%B}"
    if lang == "ja-easy":
        return furigana.month_day(value.month, value.day)
    return f"{value.month}月{value.day}日"


def theme_css(request):
    """The municipality's colours (contrast checked at start-up), as a stylesheet: the CSP
    allows no inline style."""
    site = request.services.pages.site
    response = request.response
    response.content_type = "text/css"
    response.text = (f":root {{ --brand: {site['colour_brand']}; "
                     f"--brand-text: {site['colour_text']}; }}\n")
    response.cache_control = "public, max-age=3600"
    return response


def logo_view(path: Path):
    """The municipality's logo, read once at start-up."""
    body, kind = path.read_bytes(), mimetypes.guess_type(path.name)[0] or "image/png"

    def logo(request):
        response = request.response
        response.body, response.content_type = body, kind
        response.cache_control = "public, max-age=86400"
        return response

    return logo


def robots(request):
    """Search engines may find the form; answers are never at a URL anyway, and the API
    and the health check are for machines."""
    url = request.services.pages.url   # robots.txt names paths, without the host
    paths = [urlsplit(url(path)).path for path in ("lookup", "api/", "healthz")]
    response = request.response
    response.content_type, response.charset = "text/plain", "utf-8"
    response.text = "".join(["User-agent: *\n", *(f"Disallow: {path}\n" for path in paths)])
    response.cache_control = "public, max-age=86400"
    return response


def favicon(request):
    """What every browser asks for on a first visit (the pages link the SVG one too)."""
    response = request.response
    response.body, response.content_type = _FAVICON.read_bytes(), "image/vnd.microsoft.icon"
    response.cache_control = "public, max-age=86400"
    return response


_FAVICON = Path(__file__).parent / "static" / "favicon.ico"


def includeme(config):
    settings = config.get_settings()
    config.add_tween("public_mirror.web.headers_tween_factory")
    config.add_static_view("static", "public_mirror:static", cache_max_age=86400)
    config.add_route("robots", "/robots.txt")
    config.add_view(robots, route_name="robots", request_method="GET")
    config.add_route("favicon", "/favicon.ico")
    config.add_view(favicon, route_name="favicon", request_method="GET")

    config.add_route("theme", "/theme.css")
    config.add_view(theme_css, route_name="theme", request_method="GET")
    if settings.get("site.logo"):
        config.add_route("logo", "/logo")
        config.add_view(logo_view(Path(settings["site.logo"])), route_name="logo",
                        request_method="GET")
