"""Lookups are taken only from this site's own form (or from a tool, as the API documents).

A third-party page can make a visitor's browser post to /lookup (a plain form needs no
script) or to the API (a ``text/plain`` body needs no preflight): each such post spends that
visitor's lookup budget, until their own lookups are refused. Browsers say where a request
comes from: ``Sec-Fetch-Site`` (every current browser), else ``Origin``. A post that a
browser says came from another site is refused before the budget is touched; a request with
neither header (the API's tools, curl, an old browser's own form) is not a cross-site post
any browser would send without them.
"""

from urllib.parse import urlsplit

# "none": the person typed or chose it themselves; "same-origin": this site's own form.
TRUSTED_FETCH_SITES = ("same-origin", "none")


def cross_site(environ, public_base_url: str = "") -> bool:
    """True when the browser says this request was sent by another site's page."""
    fetch_site = str(environ.get("HTTP_SEC_FETCH_SITE", "")).strip().lower()
    if fetch_site:
        return fetch_site not in TRUSTED_FETCH_SITES
    origin = environ.get("HTTP_ORIGIN")
    if origin is None:
        return False
    if origin.strip().lower() == "null":   # a sandboxed frame or a local file
        return True
    ours = {str(environ.get("HTTP_HOST", "")).lower()}
    if public_base_url:
        ours.add(urlsplit(public_base_url).netloc.lower())
    try:
        return urlsplit(origin.strip()).netloc.lower() not in ours
    except ValueError:
        return True
