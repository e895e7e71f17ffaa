"""CSV out of the intranet: Excel-friendly, formula-safe and streamed.

Excel runs a cell starting with = + - @ (or a tab/CR before one) as a formula; an
exported name like ``=HYPERLINK(...)`` would then phone home. Japanese Excel also takes
the full-width ＝ ＋ － ＠ for them (and an IME types those by default). Such cells get a
leading apostrophe, which Excel shows as plain text.
"""

import codecs
import csv
import io
import re
from collections.abc import Callable, Mapping
from urllib.parse import quote

import transaction
from pyramid.response import Response
from sqlalchemy import func, select

from intranet.audit import writer
from intranet.db import get_tm_session, session_factory_of

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", "−")

ENCODINGS = ("utf-8", "cp932")
# What a character Shift_JIS cannot hold (𠮷, 﨑 from outside CP932, emoji) becomes: the
# 下駄 mark, as Japanese printing marks a missing glyph — never a silent "?".
GETA = "〓"


def _geta(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeEncodeError)  # registered for encoding only
    return GETA * (error.end - error.start), error.end


codecs.register_error("shinsei-geta", _geta)

# 外字: the private-use area. CP932 maps U+E000–U+E757 to its user-defined bytes (F040…),
# but what they show depends on each PC's 外字 font: a CP932 export marks them 〓 as it marks
# what CP932 cannot hold, and an import never stores one without saying so.
GAIJI = re.compile("[\ue000-\uf8ff]")


def is_gaiji(character: str) -> bool:
    return "\ue000" <= character <= "\uf8ff"


def unrepresentable(row, encoding="cp932") -> list[str]:
    """The characters of this row's cells that ``encoding`` cannot hold (for CP932, 外字
    too: written as 〓)."""
    missing = []
    for value in row:
        text = "" if value is None else str(value)
        try:
            text.encode(encoding)
        except UnicodeEncodeError:
            pass
        else:
            if encoding != "cp932" or not GAIJI.search(text):
                continue
        missing += [c for c in text if not _encodes(c, encoding) or
                    (encoding == "cp932" and is_gaiji(c))]
    return missing


def _encodes(character, encoding):
    try:
        character.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def held_by_cp932(character: str) -> bool:
    """Whether a CP932 export writes this character as itself (not as 〓)."""
    return not is_gaiji(character) and _encodes(character, "cp932")


def as_cp932_export_writes(text: str) -> str:
    """``text`` as a CP932 export holds it: each character it cannot hold, and each 外字,
    becomes 〓 (one for one)."""
    return "".join(c if held_by_cp932(c) else GETA for c in text)


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_lines(header, rows, encoding="utf-8"):
    """Yield encoded CSV bytes, one chunk per row; the BOM (UTF-8) comes with the header."""
    if encoding not in ENCODINGS:
        raise ValueError(f"unsupported export encoding {encoding!r}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def encode_row(row):
        writer.writerow([neutralise(v) for v in row])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if encoding == "cp932" and GAIJI.search(text):
            text = GAIJI.sub(GETA, text)
        return text.encode(encoding, errors="shinsei-geta")

    # Excel needs the BOM to read UTF-8; it belongs once, at the start of the file.
    yield (codecs.BOM_UTF8 if encoding == "utf-8" else b"") + encode_row(header)
    for row in rows:
        yield encode_row(row)


def csv_response(filename, chunks, encoding="utf-8"):
    charset = "Shift_JIS" if encoding == "cp932" else "utf-8"
    response = Response(content_type="text/csv", charset=charset)
    response.headers["Content-Disposition"] = attachment(filename)
    response.app_iter = chunks
    return response


def attachment(filename: str) -> str:
    """A Content-Disposition any browser reads: an ASCII fallback, the real name in UTF-8."""
    fallback = "export." + filename.rsplit(".", 1)[-1]
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def streamed_rows(request, query, to_row, scalars=True):
    """Rows read in batches by a session of their own: the response streams after the
    request's transaction has ended, and memory stays flat however many rows there are."""
    factory = session_factory_of(request.registry)

    def generate():
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(factory, manager)
            result = dbsession.execute(query.execution_options(yield_per=2000))
            for item in (result.scalars() if scalars else result):
                yield to_row(item)

    return generate()


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
    from intranet.auth.models import User
    from intranet.programmes.models import Programme

    def exists(column, value) -> bool:
        return dbsession.execute(select(column).where(column == value).limit(1)).first() is not None

    return {"programme": lambda v: v.isdigit() and len(v) <= 10 and exists(Programme.id, int(v)),
            "status": lambda v: v in catalogue,
            "actor": lambda v: len(v) <= 128 and exists(User.username, v)}


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
