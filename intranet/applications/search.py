"""Finding applications: filters, sort, and keyset pagination that stays fast at page 500.

OFFSET pagination reads and discards every earlier row; a keyset cursor ("after this
(value, id)") lets the index jump straight to the page, whatever its depth.
"""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import Select, func, select, tuple_

from intranet import plausible_dates
from intranet.applications.models import Application
from intranet.applications.search_key import is_phone, phone_digits, query_pattern
from intranet.dates import DateError, parse_date
from intranet.web import BAD_INPUT, MAX_ID, BadInput, whole_number
from transfer.receipt import normalise_receipt_number

SORTS = {
    "received": Application.received_on,
    "updated": Application.updated_at,
    "receipt": Application.receipt_number_normalised,
}
# The list counts at most this many matches. An exact count of a common surname at a
# million applications reads every matching row (125,000 for one name: 130-366 ms, ~1 s
# for a phone fragment; docs/performance.md), while a page costs milliseconds. Past the
# cap the number is no help to staff anyway: they need to narrow the search.
COUNT_CAP = 1_000
# Patterns longer than two kanji (ten letters) are asked of the trigram index by every third
# trigram (_fewer_trigrams). Measured at a million (docs/performance.md): a full name's or
# kana's capped count ~1.5x faster; a common surname alone (10 letters) 3x slower — its
# three trigrams leave many more candidates than its eight — and a phone number's gain small.
SPARSE_FROM = 11
# A name matching more than COUNT_CAP applications has its page found by walking the list's
# order for at most this many rows (_walk). At a million, a common full name's 51 matches
# are among the first 9,000-15,000 rows (5,000-10,000 matches); sparser ones are read
# through the trigram index after this many (~20 ms of walking in vain at a million).
WALK = 20_000
# Digits: a fragment that matches more than COUNT_CAP is either in most numbers (042: the
# first rows hold its page) or four digits inside many numbers' 042-7xx (1,000-1,400 at a
# million, one in 800 rows): read through the index after a short walk (docs/performance.md).
PHONE_WALK = 2_000
_DECODERS: dict[str, Callable[[str], object]] = {
    "received": date.fromisoformat, "updated": datetime.fromisoformat, "receipt": str}


@dataclass(frozen=True)
class Criteria:
    programme_id: int | None = None
    receipt: str = ""
    name: str = ""
    status: str = ""
    # With a common surname, the birth date is what tells two applicants apart.
    birth_date: date | None = None
    # A phone number's digits, compared whole (the name box finds part of one, for staff).
    phone: str = ""
    # The inquiry desk: a phone number typed in the name box is compared whole too, so no
    # search tells it one digit of a number it was not given (issue 25; inquiry.py).
    exact_phone: bool = False
    received_from: date | None = None
    received_to: date | None = None
    sort: str = "received"
    descending: bool = True
    after: tuple | None = None
    errors: list = field(default_factory=list, compare=False)

    @property
    def filtered(self) -> bool:
        """Whether any condition narrows the list (the unfiltered list shows no count)."""
        return bool(self.programme_id or self.receipt or self.name or self.status
                    or self.birth_date or self.phone or self.received_from or self.received_to)

    @property
    def name_is_phone(self) -> bool:
        """Whether the name box holds a phone number (read by its digits)."""
        pattern = query_pattern(self.name) if self.name else None
        return bool(pattern and pattern.isdigit())


@dataclass(frozen=True)
class Total:
    count: int
    capped: bool       # more than COUNT_CAP match; count is then COUNT_CAP


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def parse_criteria(params, exact_phone: bool = False) -> Criteria:
    errors: list[str] = []
    criteria = Criteria(
        programme_id=_programme(params.get("programme")),
        receipt=normalise_receipt_number(params.get("receipt", "")),
        # Kept as typed (shown back in the box); search_key folds it for the query.
        name=params.get("name", "").strip()[:100],
        status=params.get("status", ""),
        birth_date=_birth_date(params.get("birth"), errors),
        phone=_phone(params.get("phone"), errors),
        exact_phone=exact_phone,
        received_from=_date(params.get("from"), "from", errors),
        received_to=_date(params.get("to"), "to", errors),
        sort=_choice(params, "sort", tuple(SORTS), "received"),
        descending=_choice(params, "dir", ("desc", "asc"), "desc") == "desc",
        errors=errors,
    )
    return replace(criteria, after=decode_cursor(criteria.sort, params.get("after")))


def build_query(criteria: Criteria, through_index: bool = False) -> Select:
    """The matching applications. ``through_index``: the same rows, with a name asked of the
    trigram index by fewer trigrams (``_fewer_trigrams``) — for the count and the page of a
    rare name, which read their matches through that index."""
    query = select(Application)
    if criteria.programme_id:
        query = query.where(Application.programme_id == criteria.programme_id)
    if criteria.receipt:
        query = query.where(Application.receipt_number_normalised == criteria.receipt)
    query = query.where(*_name_conditions(criteria, Application.search_key, through_index))
    if criteria.phone:
        query = query.where(_whole_phone(Application.search_key, criteria.phone))
    if criteria.status:
        query = query.where(Application.status_code == criteria.status)
    if criteria.birth_date:
        query = query.where(Application.birth_date == criteria.birth_date)
    if criteria.received_from:
        query = query.where(Application.received_on >= criteria.received_from)
    if criteria.received_to:
        query = query.where(Application.received_on <= criteria.received_to)
    return query


def _name_conditions(criteria: Criteria, key, through_index: bool = False) -> tuple:
    """What the name box asks of the search key ``key`` (the column, or the column of the
    rows _walk reads): nothing when the box is empty."""
    pattern = query_pattern(criteria.name) if criteria.name else None
    if pattern and criteria.exact_phone and pattern.isdigit():
        return (_whole_phone(key, pattern),)
    if pattern and through_index and len(pattern) >= SPARSE_FROM:
        return _fewer_trigrams(pattern)
    if pattern:
        # The pattern is ASCII letters and digits only (search_key.encode): nothing to escape.
        return (key.like(f"%{pattern}%"),)
    return ()


def _fewer_trigrams(pattern: str):
    """The name condition as two: every third trigram of the pattern, disjoint and in order
    (``%abc%def%`` — pg_trgm takes trigrams only within each piece), which the trigram index
    answers; and the whole substring, tested on the rows it gives (``search_key || ''`` is
    not the indexed column, so PostgreSQL does not ask the index for its trigrams too).

    Same rows: a key holding the pattern holds its pieces in that order, so the first
    condition only adds what the second already asks. Faster: pg_trgm asks the index for
    every trigram of a pattern (18 for a four-kanji name) and intersects their posting
    lists, each 80,000-170,000 entries long for a common kanji at a million applications;
    a third of them narrows nearly as well (docs/performance.md, name search)."""
    return (Application.search_key.like(sparse_pattern(pattern)),
            (Application.search_key + "").like(f"%{pattern}%"))


def sparse_pattern(pattern: str) -> str:
    """``%abc%def%…%``: the pattern's disjoint trigrams in order (what _fewer_trigrams asks
    the index for)."""
    return "%" + "%".join(pattern[i:i + 3] for i in range(0, len(pattern) - 2, 3)) + "%"


def _whole_phone(key, digits: str):
    """The phone field is the search key's last, after the last space: ending the pattern
    there with the digits matches the whole number and nothing shorter."""
    return key.like(f"% {digits}")


def search(dbsession, criteria: Criteria, page_size: int, total: Total | None = None) -> Page:
    """One page of matches. ``total`` — the count the list shows, taken first — chooses the
    plan for a name search: more than COUNT_CAP matches, _walk(); at most COUNT_CAP, or
    more but too sparse in the list's order for the walk, _few()."""
    column = SORTS[criteria.sort]
    order = (column.desc(), Application.id.desc()) if criteria.descending else (column, Application.id)
    walk = bool(criteria.name and total is not None and total.capped)
    rows = _walk(dbsession, criteria, column, order, page_size) if walk else None
    if rows is None:
        # Through the matches: at most COUNT_CAP of them, or a walk that found less than a page.
        few = bool(criteria.name and total is not None)
        query = _after(build_query(criteria, through_index=few), criteria, column)
        if few:
            query = _few(query, column, criteria.descending, page_size)
        rows = dbsession.execute(query.order_by(*order).limit(page_size + 1)).scalars().all()
    items = rows[:page_size]
    more = len(rows) > page_size
    return Page(items, encode_cursor(criteria.sort, items[-1]) if more else None)


def _after(query: Select, criteria: Criteria, column) -> Select:
    """The rows after the cursor, in the list's order."""
    if criteria.after is None:
        return query
    key = tuple_(column, Application.id)
    return query.where(key < criteria.after if criteria.descending else key > criteria.after)


def _walk(dbsession, criteria: Criteria, column, order, page_size: int) -> list | None:
    """The page of a name matching more than COUNT_CAP applications, found by walking the
    list's order — the sort column's index, every condition but the name — for at most WALK
    rows (PHONE_WALK for digits) and testing each for the name; None when those rows hold
    less than the page (and the row after it): then the matches are sparse for their number
    (at a million, likely not many more than COUNT_CAP), and _few() reads them through the
    trigram index.

    Left to itself PostgreSQL often does this, but not always: for some common full names
    and kana its estimate of the trigram condition is ~100 rows where 5,000-10,000 match,
    so it reads them all through the trigram index, sorts them and keeps 51 (50-90 ms at a
    million; docs/performance.md). Here the name is tested outside a subquery that has its
    own LIMIT, which PostgreSQL never merges into the outer query: it cannot ask the
    trigram index, and the walk is bounded whatever it estimates.

    Same rows, same order: the walked rows are the first WALK of the matches' order without
    the name, so the first page_size + 1 of them that hold the name are the first
    page_size + 1 matches."""
    walked = _after(build_query(replace(criteria, name="")), criteria, column).with_only_columns(
        Application.id, column, Application.search_key).order_by(*order).limit(
        PHONE_WALK if criteria.name_is_phone else WALK).subquery("walked")
    sort = walked.c[column.key]
    page = (select(walked.c.id).where(*_name_conditions(criteria, walked.c.search_key))
            .order_by(*((sort.desc(), walked.c.id.desc()) if criteria.descending
                        else (sort, walked.c.id)))
            .limit(page_size + 1))
    rows = dbsession.execute(select(Application).where(Application.id.in_(page))
                             .order_by(*order)).scalars().all()
    return rows if len(rows) > page_size else None


def _few(query: Select, column, descending: bool, page_size: int) -> Select:
    """The same page, found through the matches first: for a name that matches at most
    COUNT_CAP applications. Left to itself PostgreSQL walks the sort column's index and
    tests each row for the name, which is quick for a common name (the first 51 come soon)
    but reads half the table for a rare one — a phone number's last four digits, 0.5 s —
    since it cannot know how rare the name is. The matches are taken whole through the
    trigram index (MATERIALIZED: on their own, with no order to follow), their page sorted
    among them, and only those rows read. Same rows, same order: the page's own ORDER BY and
    LIMIT still apply, to those ids."""
    matches = query.with_only_columns(Application.id, column).cte("matches").prefix_with(
        "MATERIALIZED")
    sort = matches.c[column.key]
    order = (sort.desc(), matches.c.id.desc()) if descending else (sort, matches.c.id)
    page = select(matches.c.id).order_by(*order).limit(page_size + 1)
    return select(Application).where(Application.id.in_(page))


def count_matches(dbsession, criteria: Criteria) -> Total:
    """Count up to COUNT_CAP + 1 matching rows: enough to tell "more than the cap"."""
    limited = build_query(criteria, through_index=True).with_only_columns(Application.id).limit(COUNT_CAP + 1)
    found = dbsession.execute(select(func.count()).select_from(limited.subquery())).scalar_one()
    return Total(min(found, COUNT_CAP), found > COUNT_CAP)


def encode_cursor(sort: str, application: Application) -> str:
    value = getattr(application, SORTS[sort].key)
    raw = json.dumps([str(value) if not isinstance(value, str) else value, application.id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str | None):
    """A malformed cursor is ignored (first page), never an error page."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, ident = json.loads(raw)
        if not isinstance(ident, int) or not 0 < ident <= MAX_ID:
            return None
        return (_DECODERS[sort](value), ident)
    except (ValueError, TypeError, KeyError):
        return None


def _programme(text: str | None) -> int | None:
    return whole_number(text, "programme") if text else None


def _choice(params, name: str, allowed: tuple[str, ...], default: str) -> str:
    """One of the values our own links send; anything else is a 400, not a guess."""
    value = params.get(name) or default
    if value not in allowed:
        raise BadInput(BAD_INPUT, field=name)
    return value


def _birth_date(text, errors):
    """As the caller says it: 和暦 (昭和55年4月1日, S55.4.1, しょうわ55年4月1日) or 西暦."""
    if not text or not text.strip():
        return None
    try:
        return parse_date(text[:40])
    except DateError:
        errors.append("birth")
        return None


def _phone(text, errors) -> str:
    """Digits of a phone number as typed (widths, dashes, brackets); anything else is an
    error shown beside the box, not a search for some of its digits."""
    text = (text or "").strip()[:40]
    if not text:
        return ""
    if not is_phone(text):
        errors.append("phone")
        return ""
    return phone_digits(text)


def _date(text, field_name, errors):
    try:
        return plausible_dates.from_form(field_name, text)
    except (plausible_dates.UnreadableDate, plausible_dates.ImplausibleDate):
        errors.append(field_name)
        return None
