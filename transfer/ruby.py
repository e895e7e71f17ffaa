"""Furigana markup in resident wording: ``{給付金|きゅうふきん}`` is 給付金 read きゅうふきん.

Staff type it in the intranet's editors (status wording, programme names), which check it
with ``problems`` and preview it; the snapshot carries it as typed, and the public page
renders it as ``<ruby>`` on やさしい日本語 pages and as the plain word elsewhere. One rule,
used by both hosts: the text is HTML-escaped first and only then turned into ruby, so
wording can never bring markup of its own.
"""

import re
from html import escape

_MARK = re.compile(r"\{([^{}|]+)\|([^{}|]+)\}")
# What the editor looks at: a mark whose parts may be empty, so that it can say which is.
_LOOSE_MARK = re.compile(r"\{([^{}|]*)\|([^{}|]*)\}")
_BRACES = re.compile(r"[{}|]")
# Hiragana, katakana (with ー and ・) and half-width katakana: what furigana is written in.
_KANA = re.compile(r"[\u3041-\u309f\u30a0-\u30ff\uff66-\uff9f]+")
_HOW = "{漢字|かんじ} の形で入力してください。"


def to_html(text: str) -> str:
    """Escaped HTML with ``<ruby>`` for each mark (``<rp>`` for browsers without ruby)."""
    return _MARK.sub(r"<ruby>\1<rp>（</rp><rt>\2</rt><rp>）</rp></ruby>", escape(text))


def plain(text: str) -> str:
    """The text as read without furigana (not escaped)."""
    return _MARK.sub(r"\1", text)


def html_for(text: str, lang: str) -> str:
    """The text as the residents' page shows it in ``lang``, as HTML (escaped either way):
    furigana as <ruby> on やさしい日本語 ("ja-easy") pages, the plain word elsewhere."""
    return to_html(text) if lang == "ja-easy" else escape(plain(text))


def problems(text: str) -> list[str]:
    """What is wrong with the markup, in Japanese, for the editor; empty when it is fine.

    Each problem quotes the place (the editor adds which field), so staff can find it."""
    found = []
    for mark in _LOOSE_MARK.finditer(text):
        base, reading = mark.group(1).strip(), mark.group(2).strip()
        if not base:
            found.append(f"ふりがなを付ける文字がありません（「{mark.group()}」）。{_HOW}")
        elif not reading:
            found.append(f"「{base}」のふりがな（読み）が空です（「{mark.group()}」）。{_HOW}")
        elif not _KANA.fullmatch(reading):
            found.append(f"「{base}」のふりがな「{reading}」に、かな以外の文字があります。"
                         f"ふりがなは、ひらがなかカタカナで入力してください（例: {{漢字|かんじ}}）。")
    rest = _LOOSE_MARK.sub("", text)
    stray = _BRACES.search(rest)
    if stray is not None:
        near = rest[max(0, stray.start() - 8):stray.start() + 8]
        found.append(f"ふりがなの書き方が正しくありません（「{near}」の付近）。"
                     f"{{ と | と }} をそろえて、{_HOW}")
    return found
