"""Every export is an audit record: which export, with which filter, how many rows; what
was typed about an applicant kept beside the chain, never in it."""

import re
from collections.abc import Callable, Mapping

from sqlalchemy import column, func, select, table

from intranet.audit import writer

# The filters an export reads, each with the shape its value must have to sit in the audit
# chain. A value of another shape (a receipt number typed as a status or a programme, say)
# is treated as typed about an applicant; a key no export reads is not recorded at all.
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HOST = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9.:_/\[\]-]{1,255}$")
FILTER_SHAPES = {
    "from": _DATE, "to": _DATE,
    "sort": re.compile(r"^(received|updated|receipt|status)$"), "dir": re.compile(r"^(asc|desc)$"),
    "encoding": re.compile(r"^(utf-8|cp932)$"), "replace": re.compile(r"^1$"),
    "action": re.compile(r"^[a-z_.]{1,64}$"), "result": re.compile(r"^(delivered|failed)$"),
    "destination": _HOST,
}


def _known(dbsession, catalogue) -> dict[str, Callable[[str], bool]]:
    """Filters whose value must name something that exists: any other value (eight digits
    as a "programme", a phone number as a "status") may be an applicant's."""
    def exists(named, value) -> bool:
        return dbsession.execute(select(named).where(named == value).limit(1)).first() is not None

    return {"programme": lambda v: v.isdigit() and len(v) <= 10 and exists(_PROGRAMME_ID, int(v)),
            "status": lambda v: v in catalogue,
            "actor": lambda v: len(v) <= 128 and exists(_USERNAME, v)}


# The record stands below the domains whose names it checks: it reads their tables by name,
# never through their models (which would make the audit floor import the floors above it).
_PROGRAMME_ID = table("programmes", column("id")).c.id
_USERNAME = table("users", column("username")).c.username


# Filters that name an applicant: the receipt number, the name, the birth date, the phone
# number (the inquiry desk's whole-number box), and the list's page cursor (it carries a
# receipt number or a date).
PERSONAL_FILTERS = frozenset({"receipt", "name", "birth", "phone", "after"})


def split_filters(params, known: Mapping[str, Callable[[str], bool]]
                  ) -> tuple[dict[str, str], dict[str, str]]:
    """(what the chain may hold, what was typed about applicants) of a request's filters."""
    kept, typed = {}, {}
    for key, value in params.items():
        if not value:
            continue
        shape = FILTER_SHAPES.get(key)
        check = known.get(key) or (shape.match if shape is not None else None)
        if check is not None and check(value):
            kept[key] = value
        elif check is not None or key in PERSONAL_FILTERS:
            typed[key] = value
    return kept, typed


def audit_export(request, what: str, query, encoding: str = "utf-8",
                 programmes: Callable[[dict[str, str]], list[int]] | None = None) -> int:
    """Every export is an audit record: who, which export, with which filter, how many rows.

    Counted before streaming, in the request's transaction, so the record is committed
    with the request whether or not the download is completed. A receipt number, a name
    or a birth date typed as a filter names a person: the chain says only which such
    filters were given (``typed``); their values sit beside it under the programmes
    ``programmes`` names for them (those whose applicants they found), so the disposal of
    those programmes cuts them (issue 25). Values naming no applicant held, and every
    typed value of an export of no applicant data (the audit and transfer logs), are not
    kept at all.
    """
    rows = request.dbsession.execute(
        select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    filters, typed = split_filters(request.GET,
                                   _known(request.dbsession, request.catalogue))
    linked = programmes(typed) if typed and programmes is not None else []
    details = {"typed": sorted(typed)} if typed else {}
    writer.append(request.dbsession, request.actor, "export", what, filter=filters,
                  rows=rows, encoding=encoding,
                  programme_personal={p: {"filter": typed} for p in linked}, **details)
    return rows
