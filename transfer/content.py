"""The snapshot's content, checked before anything is shown from it (the verifier's last step).

A validly signed snapshot can still be one the public page cannot answer from: a status
index past the catalogue, a programme without a name, a date that is not a date. Each is
refused here with ``MalformedSnapshot`` / ``InvalidEntries``, so that it is quarantined
instead of activated, and every lookup on the live snapshot keeps working.
"""

import re
from datetime import date
from typing import Any, NoReturn

from transfer import errors
from transfer.snapshot import MAX_DEFICIENCY_KINDS, parse_time
from transfer.table import KEY_SIZE, SnapshotTable

# As the intranet allows them (intranet/programmes), in the ASCII the lookup key needs.
_PROGRAMME_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_STATUS_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_DATES = {"scheduled_payment_on", "paid_on"}
_KIND_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_TEXT_LIMIT = 4000


def check_content(header: dict[str, Any], table: SnapshotTable) -> None:
    _times(header)
    kinds = _programmes(header["programmes"])
    _statuses(header["statuses"])
    _entries(table, len(header["statuses"]), kinds)


def _fail(problem: str) -> NoReturn:
    raise errors.MalformedSnapshot(problem)


def _times(header: dict[str, Any]) -> None:
    created, expires = parse_time(header["created_at"]), parse_time(header["expires_at"])
    if expires <= created:
        _fail("expires_at is not after created_at")


def _programmes(programmes: list[Any]) -> int:
    """Check each programme; return every deficiency-kind bit any of them defines."""
    if not programmes:
        _fail("no programme in the header")
    seen: set[str] = set()
    bits = 0
    for number, programme in enumerate(programmes, 1):
        where = f"programme {number}"
        _coded(programme, where, _PROGRAMME_CODE, seen)
        _wording(programme.get("name"), f"{where} name", flat=True)
        if not isinstance(programme.get("needs_birth_date"), bool):
            _fail(f"{where}: needs_birth_date is not true/false")
        for name in ("lookup_opens_on", "lookup_closes_on"):
            _optional_date(programme.get(name), f"{where} {name}")
        _progress(programme, where)
        bits |= _action_details(programme, where)
    return bits


def _action_details(programme: dict[str, Any], where: str) -> int:
    """Optional (format 2): the programme's deficiency kinds — code, bit, wording per
    language — and where to send the papers and what to enclose, per language."""
    for name in ("return_to", "enclose"):
        if programme.get(name) is not None:
            _wording(programme[name], f"{where} {name}", flat=True)
    kinds = programme.get("deficiency_kinds", [])
    if not isinstance(kinds, list) or len(kinds) > MAX_DEFICIENCY_KINDS:
        _fail(f"{where}: deficiency_kinds must be a list of at most {MAX_DEFICIENCY_KINDS}")
    codes: set[str] = set()
    bits = 0
    for number, kind in enumerate(kinds, 1):
        at = f"{where} deficiency kind {number}"
        _coded(kind, at, _KIND_CODE, codes)
        bit = kind.get("bit")
        if (not isinstance(bit, int) or isinstance(bit, bool)
                or not 0 <= bit < MAX_DEFICIENCY_KINDS or bits >> bit & 1):
            _fail(f"{at}: bit {bit!r} is not 0 to {MAX_DEFICIENCY_KINDS - 1}, or repeated")
        bits |= 1 << bit
        _wording(kind.get("wording"), f"{at} wording", flat=True)
    return bits


def _progress(programme: dict[str, Any], where: str) -> None:
    """Optional (added in format 1): digits-only numbers, and counts for the progress line."""
    if not isinstance(programme.get("receipt_digits_only", False), bool):
        _fail(f"{where}: receipt_digits_only is not true/false")
    progress = programme.get("progress")
    if progress is None:
        return
    counts = (progress.get("applications"), progress.get("paid")) if isinstance(progress, dict) \
        else (None, None)
    applications, paid = counts
    if not (isinstance(applications, int) and isinstance(paid, int)
            and not isinstance(applications, bool) and not isinstance(paid, bool)
            and 0 <= paid <= applications):
        _fail(f"{where}: progress must be {{applications, paid}} with 0 <= paid <= applications")


def _statuses(statuses: list[Any]) -> None:
    seen: set[str] = set()
    for number, status in enumerate(statuses, 1):
        where = f"status {number}"
        _coded(status, where, _STATUS_CODE, seen)
        dates = status.get("dates", [])
        if not isinstance(dates, list) or not set(dates) <= _DATES:
            _fail(f"{where}: dates must be a list of {sorted(_DATES)}")
        if not isinstance(status.get("action_needed", False), bool):
            _fail(f"{where}: action_needed is not true/false")
        _wording(status.get("wording"), f"{where} wording", flat=False)


def _coded(item: object, where: str, pattern: re.Pattern[str], seen: set[str]) -> None:
    """An object with a well-formed ``code`` not seen before in its list (then noted)."""
    if not isinstance(item, dict):
        _fail(f"{where} is not an object")
    code = item.get("code")
    if not isinstance(code, str) or not pattern.match(code) or code in seen:
        _fail(f"{where}: code {code!r} is missing, malformed or repeated")
    seen.add(code)


def _wording(value: object, where: str, *, flat: bool) -> None:
    """Per language: a text (``flat``: a programme's name, Japanese required) or
    {label, explanation, next_step} (a status's wording; the page falls back to Japanese)."""
    if not isinstance(value, dict) or (flat and not isinstance(value.get("ja"), str)):
        _fail(f"{where}: missing{' (no Japanese name)' if flat else ''}")
    for lang, text in value.items():
        if not isinstance(lang, str) or not _LANGUAGE.match(lang):
            _fail(f"{where}: language {lang!r} is malformed")
        parts = {"name": text} if flat else text
        if not isinstance(parts, dict) or (not flat and not isinstance(parts.get("label"), str)):
            _fail(f"{where} ({lang}): not the expected texts")
        for part in parts.values():
            if part is not None and (not isinstance(part, str) or len(part) > _TEXT_LIMIT):
                _fail(f"{where} ({lang}): a text is not a string or is too long")


def _optional_date(value: object, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        _fail(f"{where}: {value!r} is not a date")
    try:
        date.fromisoformat(value)
    except ValueError:
        _fail(f"{where}: {value!r} is not a date")


def _entries(table: SnapshotTable, statuses: int, kinds: int) -> None:
    # The status byte of every entry, read in one slice (C speed for millions of entries).
    indexes = table.body[KEY_SIZE::table.entry_size][:table.count]
    if indexes and max(indexes) >= statuses:
        raise errors.InvalidEntries(f"an entry has status index {max(indexes)}, the catalogue "
                                    f"has {statuses} statuses")
    # A kind no programme defines could only be shown as nothing: refused, not guessed.
    unknown = table.deficiency_kinds_used() & ~kinds
    if unknown:
        raise errors.InvalidEntries(f"an entry names deficiency kind bit "
                                    f"{unknown.bit_length() - 1}, which no programme defines")
