"""The residents' link for a programme (``/p/<code>`` on the public page) and its QR code,
for the notice letter: a resident who scans it lands on the form with the right 給付金
chosen — the likeliest mistake made impossible. No number is ever part of the link."""

from urllib.parse import quote

import segno
from markupsafe import Markup


def residents_link(public_url: str, code: str) -> str | None:
    """``shinsei.public_url`` + /p/<code>, or None when the public page's address is not set."""
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/p/{quote(code, safe='')}"


def qr_svg(link: str, title: str) -> Markup:
    """The QR code as inline SVG (no file, no script), scaled for print."""
    code = segno.make(link, error="m", micro=False)
    svg = code.svg_inline(scale=4, border=4, title=title, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 (segno writes the SVG and escapes the title)
