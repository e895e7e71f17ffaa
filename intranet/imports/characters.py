"""Characters an import must not lose: what a CP932 export wrote as 〓, and 外字.

A CP932 export writes each character Shift_JIS cannot hold (𠮷, ♥ outside CP932, emoji) and
each 外字 as 〓 (intranet.exports). Re-imported, that 〓 is the mark of a character the file
could not carry — never a new value: a cell that is exactly the export of the stored value
keeps the stored value (and the dry run says so); a cell that changes the value *and* puts 〓
where a stored character stood is refused, naming the character. A 外字 (private-use area)
shows as another glyph or a box on every PC without the city's 外字 font: a value that would
store one is refused, naming the field, the character's code point and its position —
unless the city's 外字 table maps it (imports.gaiji).
"""

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
# With the city's 外字 table (imports.gaiji): a mapped 外字 is replaced and noted in 備考.
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
    return "".join(dict.fromkeys(c for c in before if not held_by_cp932(c)))


def gaiji_in(text) -> dict | None:
    """The first 外字 in ``text`` as the message's values, or None."""
    found = GAIJI.search(text) if isinstance(text, str) else None
    if found is None:
        return None
    return {"code": f"U+{ord(found.group()):04X}", "position": found.start() + 1}
