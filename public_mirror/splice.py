"""The typed question, spliced into an answer page kept in the cache.

An answer page is rendered once per answer and served to everyone who gets that answer;
the number a resident typed must never be part of it. The page is rendered with markers
where the question goes — the masked number shown, and the hidden fields of the
language buttons — and each resident's copy gets theirs at serving time.

A marker is an HTML comment: autoescaped text (wording, names, settings) can never
produce "<!--", so nothing but the template can place one.
"""

import re
from html import escape
from operator import itemgetter

from markupsafe import Markup

RECEIPT = Markup("<!--q:receipt-->")
MASKED = Markup("<!--q:masked-->")
MASK_HIDDEN = Markup("<!--q:masked-hidden-->")
BIRTH_DATE = Markup("<!--q:birth-date-->")
REPEAT = Markup("<!--q:repeat-->")   # the language buttons' proof (public_mirror.repeat)

SHOWN = 4   # characters of the number shown on an answer page


def masked(receipt: str) -> tuple[str, str]:
    """(hidden part as ＊, shown tail): the last four characters, at most half a short one."""
    shown = min(SHOWN, len(receipt) // 2)
    return "＊" * (len(receipt) - shown), receipt[len(receipt) - shown:]


_MARKERS = {marker.encode(): index for index, marker in
            enumerate((RECEIPT, MASKED, MASK_HIDDEN, BIRTH_DATE, REPEAT))}
_FIND = re.compile(b"|".join(re.escape(m) for m in _MARKERS))


def split(body: bytes) -> tuple:
    """The page cut at its markers once, when it is kept: a ``%``-format of the page with
    ``%s`` where each marker was (the page's own ``%`` doubled), and which value goes in
    each — so that a resident's copy is one C-level format, not a pass per marker."""
    texts, markers, start = [], [], 0
    for found in _FIND.finditer(body):
        texts.append(body[start:found.start()])
        markers.append(_MARKERS[found.group()])
        start = found.end()
    texts.append(body[start:])
    template = b"%s".join(text.replace(b"%", b"%%") for text in texts)
    if len(markers) > 1:
        return template, itemgetter(*markers)
    return template, (lambda values: tuple(values[marker] for marker in markers))


def fill(parts: tuple, question, repeat_proof: str = "") -> bytes:
    """One resident's page: each marker replaced by their escaped question (or nothing)."""
    template, chosen = parts
    receipt = question.receipt if question else ""
    birth = question.birth_date.isoformat() if question and question.birth_date else ""
    hidden, tail = masked(receipt)
    return template % chosen((_html(receipt), _html(tail), _html(hidden), _html(birth),
                              _html(repeat_proof)))


def _html(value: str) -> bytes:
    # Letters and digits (a normalised number, a proof) need no escaping: skip the five
    # replacements for them.
    return value.encode() if value.isalnum() else escape(value).encode()


def splice(body: bytes, question, repeat_proof: str = "") -> bytes:
    return fill(split(body), question, repeat_proof)
