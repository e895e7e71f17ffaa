"""How the tests look for personal data in bytes: every spelling and encoding a value may
take (the snapshot scan and the disposal scan share it)."""

from datetime import date


def spellings(value: str):
    """``value`` with full- or half-width spaces and without dashes, in each encoding a
    municipal file or a database page may hold."""
    forms = {value, value.replace("　", " "), value.replace("-", "")}
    for form in list(forms):
        for encoding in ("utf-8", "cp932", "utf-16-le", "utf-16-be", "euc_jp"):
            try:
                yield form.encode(encoding)
            except UnicodeEncodeError:
                continue


def birth_date_forms(birth: date) -> list[str]:
    return [birth.isoformat(), birth.strftime("%Y%m%d"), birth.strftime("%Y/%m/%d"),
            f"{birth.year}年{birth.month}月{birth.day}日"]


def found_in(data: bytes, needles) -> list[str]:
    """The needles (text) any spelling of which occurs in ``data``."""
    return [needle for needle in needles if any(s in data for s in spellings(needle))]
