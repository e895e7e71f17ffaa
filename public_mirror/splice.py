"""The typed question, spliced into an answer page kept in the cache.

An answer page is rendered once per answer and served to everyone who gets that answer;
what a resident typed must never be part of it. The page is rendered with markers where
the question goes — the masked number shown, the birth date as it was entered, the fields
of the form offered again after "not found", and the hidden fields of the language
buttons — and each resident's copy gets theirs at serving time.

A marker is an HTML comment: autoescaped text (wording, names, settings) can never
produce "<!--", so nothing but the template can place one.
"""

import re
from collections.abc import Callable
from html import escape
from operator import itemgetter

from markupsafe import Markup

from public_mirror.birthdate import ERAS, WESTERN, entered

RECEIPT = Markup("<!--q:receipt-->")
MASKED = Markup("<!--q:masked-->")
MASK_HIDDEN = Markup("<!--q:masked-hidden-->")
REPEAT = Markup("<!--q:repeat-->")   # the language buttons' proof (public_mirror.repeat)
# The birth date as the resident entered it: the era chosen and the year in that era.
BIRTH_ERA = Markup("<!--q:birth-era-->")
BIRTH_YEAR = Markup("<!--q:birth-year-->")
BIRTH_MONTH = Markup("<!--q:birth-month-->")
BIRTH_DAY = Markup("<!--q:birth-day-->")
BIRTH_SHOWN = Markup("<!--q:birth-shown-->")   # written out in the page's language
# The era select's choices: "" (none chosen), each era, 西暦.
ERA_CHOICES = ("", *ERAS, WESTERN)
ERA_CHOSEN = {code: Markup(f"<!--q:era-chosen-{code or 'none'}-->")  # noqa: S704  (codes of ours)
              for code in ERA_CHOICES}

SHOWN = 4   # characters of the number shown on an answer page
_SELECTED = b" selected"


def masked(receipt: str) -> tuple[str, str]:
    """(hidden part as ＊, shown tail): the last four characters, at most half a short one."""
    shown = min(SHOWN, len(receipt) // 2)
    return "＊" * (len(receipt) - shown), receipt[len(receipt) - shown:]


# Each marker's place in a resident's values (see ``_values``).
_ORDER = (RECEIPT, MASKED, MASK_HIDDEN, REPEAT, BIRTH_ERA, BIRTH_YEAR, BIRTH_MONTH, BIRTH_DAY,
          BIRTH_SHOWN, *ERA_CHOSEN.values())
_MARKERS = {marker.encode(): index for index, marker in enumerate(_ORDER)}
_SHOWN_AT = _ORDER.index(BIRTH_SHOWN)
_FIND = re.compile(b"|".join(re.escape(m) for m in _MARKERS))
_NO_BIRTH = (b"", b"", b"", b"", b"", *(_SELECTED if not code else b"" for code in ERA_CHOICES))


def split(body: bytes) -> tuple:
    """The page cut at its markers once, when it is kept: a ``%``-format of the page with
    ``%s`` where each marker was (the page's own ``%`` doubled), which value goes in each
    — so that a resident's copy is one C-level format, not a pass per marker — and whether
    the page shows the birth date written out (only then is it written out)."""
    texts, markers, start = [], [], 0
    for found in _FIND.finditer(body):
        texts.append(body[start:found.start()])
        markers.append(_MARKERS[found.group()])
        start = found.end()
    texts.append(body[start:])
    template = b"%s".join(text.replace(b"%", b"%%") for text in texts)
    shows_birth = _SHOWN_AT in markers
    if len(markers) > 1:
        return template, itemgetter(*markers), shows_birth
    return template, (lambda values: tuple(values[marker] for marker in markers)), shows_birth


def fill(parts: tuple, question, repeat_proof: str = "",
         write_out: Callable[[object], str] | None = None) -> bytes:
    """One resident's page: each marker replaced by their escaped question (or nothing).
    ``write_out(question)``: the birth date in the page's words, as HTML (markup of the
    app's own, around escaped values)."""
    template, chosen, shows_birth = parts
    return template % chosen(_values(question, repeat_proof,
                                     write_out if shows_birth else None))


def _values(question, repeat_proof: str, write_out) -> tuple:
    receipt = question.receipt if question else ""
    hidden, tail = masked(receipt)
    asked = (_html(receipt), _html(tail), _html(hidden), _html(repeat_proof))
    birth = question.birth_date if question else None
    if birth is None:
        return asked + _NO_BIRTH
    typed = entered(birth, question.birth_era)
    shown = write_out(question).encode() if write_out else b""
    return (*asked, typed.era.encode(), str(typed.year).encode(), str(typed.month).encode(),
            str(typed.day).encode(), shown,
            *(_SELECTED if code == typed.era else b"" for code in ERA_CHOICES))


def _html(value: str) -> bytes:
    # Letters and digits (a normalised number, a proof) need no escaping: skip the five
    # replacements for them.
    return value.encode() if value.isalnum() else escape(value).encode()


def splice(body: bytes, question, repeat_proof: str = "",
           write_out: Callable[[object], str] | None = None) -> bytes:
    return fill(split(body), question, repeat_proof, write_out)
