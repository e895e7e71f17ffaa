"""Characters an import must not lose: what a CP932 export wrote as 〓, and 外字.

A CP932 export writes each character Shift_JIS cannot hold (𠮷, ♥ outside CP932, emoji) and
each 外字 as 〓 (intranet.exports). Re-imported, that 〓 is the mark of a character the file
could not carry — never a new value: a cell that is exactly the export of the stored value
keeps the stored value (and the dry run says so); a cell that changes the value *and* puts 〓
where a stored character stood is refused, naming the character. A 外字 (private-use area)
shows as another glyph or a box on every PC without the city's 外字 font: a value that would
store one is refused, naming the field, the character's code point and its position —
unless the city's 外字 table maps it (intranet.gaiji).
A message that names a character a screen cannot show (a 外字, a control character, a
space) names it by what it is and its code point — 「外字 U+E000」 — never by an empty gap.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable

from intranet.exports import GAIJI, GETA, as_cp932_export_writes, held_by_cp932

# The columns a person's words go into (the ones a CP932 export can mark).
TEXT_FIELDS = ("name", "kana", "address", "phone", "deficiency_reason", "notes")

KEPT = ("ファイルの「${after}」の 〓 は、Shift_JIS（CP932）の書き出しで表せなかった文字"
        "（${characters}）の印です。登録済みの「${before}」をそのまま残します。")
REPLACES = ("この値は登録済みの「${before}」の「${characters}」を 〓 に置き換えます（Shift_JIS の"
            "書き出しで表せなかった文字です）。UTF-8 か Excel（.xlsx）で書き出したファイルを直して"
            "取り込むか、この列の 〓 を元の文字に戻してください。")
GAIJI_FOUND = ("外字が含まれています（${code}、${position} 文字目）。外字は、その外字を登録して"
               "いないパソコンでは別の字や □ に見えます。標準の文字に置き換えるか、〓 にして元の字を"
               "備考に書いてから取り込んでください。")
# With the city's 外字 table (intranet.gaiji): a mapped 外字 is replaced and noted in 備考.
GAIJI_REPLACED = ("外字 ${code}（${position} 文字目）は、市の外字表のとおり「${replacement}」として"
                  "取り込みます。元の外字の番号は備考に残します。")
GAIJI_UNMAPPED = ("市の外字表にない外字です（${code}、${position} 文字目）。外字表に加えるか、標準の"
                  "文字に置き換えてから取り込んでください。")
GAIJI_NOTES_FULL = ("外字の番号を備考に残すと ${limit} 文字を超えます。備考を短くしてから取り込んで"
                    "ください。")


def geta_verdict(before: str | None, after: str):
    """For a changed text value: "kept" (the file holds the CP932 export of the stored
    value: keep it), the stored characters the file would replace by 〓 (refuse), or None."""
    if GETA not in after or not before:
        return None
    if as_cp932_export_writes(before) == after:
        return "kept"
    if len(before) == len(after):      # one 〓 per character, as the export writes them
        lost = [b for b, a in zip(before, after, strict=True)
                if a == GETA and b != GETA and not held_by_cp932(b)]
    else:
        lost = [b for b in before if not held_by_cp932(b) and b not in after]
    return lost or None


def lost_characters(before: str) -> str:
    return shown(c for c in before if not held_by_cp932(c))


# What a screen shows as nothing, a gap or a box, by Unicode category: a 外字 (private use:
# another glyph or □ without the city's 外字 font), a control character, a space, a
# format character (zero-width space, BOM).
_UNSEEN = {"Co": "外字", "Cc": "制御文字", "Cf": "見えない文字", "Cs": "見えない文字",
           "Zs": "空白", "Zl": "改行", "Zp": "改行"}


# The words ``shown`` names characters by; each a message id (the English screens say
# "gaiji U+E000": ``named_in``, applied where a message or a page is put in words).
KIND_WORDS = (*dict.fromkeys(_UNSEEN.values()), "異体字セレクタ")
_NAMED = re.compile("(" + "|".join(KIND_WORDS) + r") (U\+[0-9A-F]{4,6})")


def named_in(text: str, translate: Callable[[str], str]) -> str:
    """``text`` with each character ``shown`` named (「外字 U+E000」) in the reader's words."""
    return _NAMED.sub(lambda found: f"{translate(found.group(1))} {found.group(2)}", text)


def _variation_selector(character: str) -> bool:
    return "\ufe00" <= character <= "\ufe0f" or "\U000e0100" <= character <= "\U000e01ef"


def shown(characters: Iterable[str], once: bool = True) -> str:
    """``characters`` as staff can read them in a message or a table, each once (or, not
    ``once``, as they stand: a run of text dropped): one a screen cannot show is named by
    what it is and its code point (「𠮷、外字 U+E000」, separated by 、 then); the others
    are themselves, side by side (「𠮷♥」)."""
    names = []
    for character in dict.fromkeys(characters) if once else characters:
        kind = "異体字セレクタ" if _variation_selector(character) else \
            _UNSEEN.get(unicodedata.category(character))
        names.append(character if kind is None else f"{kind} U+{ord(character):04X}")
    return ("、" if any(len(name) > 1 for name in names) else "").join(names)


def gaiji_in(text) -> dict | None:
    """The first 外字 in ``text`` as the message's values, or None."""
    found = GAIJI.search(text) if isinstance(text, str) else None
    if found is None:
        return None
    return {"code": f"U+{ord(found.group()):04X}", "position": found.start() + 1}


# A change the file makes that looks like a character lost on the way (another program's
# export, a retyped list): imported as the file says, and flagged for staff to check.
GETA_ADDED = ("「${before}」が「${after}」になり、「${characters}」が 〓 に変わります。〓 は表せなかった"
              "文字の印です。元の文字でよいか確かめてください。")
QUESTION_ADDED = ("「${before}」が「${after}」になり、「${characters}」が ? に変わります。文字コードの"
                  "変換で失われた文字かもしれません。元の文字でよいか確かめてください。")
CHARACTERS_DROPPED = ("「${before}」が「${after}」になり、「${characters}」がなくなります。文字コードの"
                      "変換で落ちた文字かもしれません。元の文字でよいか確かめてください。")
_MARKS = {GETA: GETA_ADDED, "?": QUESTION_ADDED}


def change_warning(before: str | None, after: str) -> tuple[str, dict] | None:
    """A stored text the file changes by putting 〓 or ? where a character stood (one for
    each, or ?? for a character outside the BMP, as some converters write), or by dropping
    characters and nothing else: (message, its values) to flag it, else None. (The CP932
    export's own 〓 are geta_verdict's: kept or refused before this.)"""
    if not before or before == after:
        return None
    for mark, message in _MARKS.items():
        if after.count(mark) > before.count(mark):
            lost = _replaced(before, after, mark)
            if lost:
                return message, _values(before, after, shown(lost))
    dropped = _dropped(before, after)
    if dropped:
        return CHARACTERS_DROPPED, _values(before, after, shown(dropped, once=False))
    return None


_QUOTED = 60        # a long 備考 is quoted by its start: 5,000 flagged rows stay a page


def _values(before: str, after: str, characters: str) -> dict:
    def cut(text):
        return text if len(text) <= _QUOTED else text[:_QUOTED] + "…"
    return {"before": cut(before), "after": cut(after), "characters": cut(characters)}


def _replaced(before: str, after: str, mark: str) -> list[str]:
    """The stored characters ``mark`` stands for in ``after``: position by position when
    the lengths agree, else those of ``before`` that ``after`` lacks."""
    if len(before) == len(after):
        return [b for b, a in zip(before, after, strict=True) if a == mark and b != mark]
    return [b for b in before if b not in after]


def _dropped(before: str, after: str) -> str:
    """The characters of ``before`` missing from ``after`` when ``after`` is ``before`` with
    only some characters taken out (in order), else ""."""
    if len(after) >= len(before):
        return ""
    rest = iter(after)
    missing, pending = [], next(rest, None)
    for character in before:
        if character == pending:
            pending = next(rest, None)
        else:
            missing.append(character)
    return "".join(missing) if pending is None else ""
