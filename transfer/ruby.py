"""Furigana markup in resident wording: ``{給付金|きゅうふきん}`` is 給付金 read きゅうふきん.

Staff type it in the intranet's wording editor (which checks it with ``problems`` and
previews it), the snapshot carries it as typed, and the public page renders it as
``<ruby>`` on やさしい日本語 pages and as the plain word elsewhere. One rule, used by both
hosts: the text is HTML-escaped first and only then turned into ruby, so wording can never
bring markup of its own.
"""

import re
from html import escape

_MARK = re.compile(r"\{([^{}|]+)\|([^{}|]+)\}")
_BRACES = re.compile(r"[{}|]")


def to_html(text: str) -> str:
    """Escaped HTML with ``<ruby>`` for each mark (``<rp>`` for browsers without ruby)."""
    return _MARK.sub(r"<ruby>\1<rp>（</rp><rt>\2</rt><rp>）</rp></ruby>", escape(text))


def plain(text: str) -> str:
    """The text as read without furigana (not escaped)."""
    return _MARK.sub(r"\1", text)


def problems(text: str) -> list[str]:
    """What is wrong with the markup, in Japanese, for the editor; empty when it is fine."""
    rest = _MARK.sub("", text)
    found = _BRACES.search(rest)
    if found is None:
        return []
    near = rest[max(0, found.start() - 8):found.start() + 8]
    return [f"ふりがなの書き方が正しくありません（「{near}」の付近）。"
            "{漢字|かんじ} の形で、{ と | と } をそろえて入力してください。"]
