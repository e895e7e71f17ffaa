"""The triggers that keep ``dashboard_tallies`` exact (see intranet.dashboard.models).

PostgreSQL: statement-level triggers with transition tables, so a bulk change or an
import of a million rows costs one grouped upsert per statement, not one per row.
SQLite has only row-level triggers; the same deltas are written per row.
All SQL here is built from this module's own constants (table and column names), never
from input. Every delta is grouped and applied in key order, so two transactions lock tally rows in
the same order (no deadlock between them).
"""

from sqlalchemy import text

from intranet import days

DECIDED = "approved"  # the milestone the progress chart calls 支給決定
KINDS = ("status", "received", "decided", "paid")


def _application_deltas(source: str, sign: int, day) -> list[str]:
    p = f"{source}." if source in ("NEW", "OLD") else ""
    frm = "" if p else f" FROM {source}"
    paid_where = f" WHERE {p}paid_on IS NOT NULL"
    return [
        f"SELECT {p}programme_id AS programme_id, 'status' AS kind, {p}status_code AS bucket, "
        f"{sign} AS n{frm}",
        f"SELECT {p}programme_id, 'received', {day(p + 'received_on')}, {sign}{frm}",
        f"SELECT {p}programme_id, 'paid', {day(p + 'paid_on')}, {sign}{frm}{paid_where}",
    ]


def _decided_deltas(source: str, sign: int, day) -> list[str]:
    # ``day`` here reads a moment (naive UTC): a decision counts on its Japan day.
    row = "s." if source not in ("NEW", "OLD") else f"{source}."
    frm = f"{source} s JOIN" if source not in ("NEW", "OLD") else ""
    join = "ON a.id = s.application_id" if frm else f"WHERE a.id = {source}.application_id AND"
    where = "WHERE" if frm else ""
    return [f"SELECT a.programme_id AS programme_id, 'decided' AS kind, "  # noqa: S608
            f"{day(row + 'changed_at')} AS bucket, {sign} AS n FROM {frm} applications a "
            f"{join} {where} {row}to_code = '{DECIDED}'"]


def _upsert(selects: list[str]) -> str:
    # "WHERE true": SQLite's parser needs it before ON CONFLICT after a SELECT.
    return ("INSERT INTO dashboard_tallies (programme_id, kind, bucket, n) "  # noqa: S608
            "SELECT programme_id, kind, bucket, sum(n) FROM (" + " UNION ALL ".join(selects)
            + ") AS d WHERE true GROUP BY programme_id, kind, bucket HAVING sum(n) <> 0 "
            "ORDER BY programme_id, kind, bucket "
            "ON CONFLICT (programme_id, kind, bucket) DO UPDATE SET n = dashboard_tallies.n + excluded.n")


def _pg_day(column: str) -> str:
    return f"to_char({column}, 'YYYY-MM-DD')"


def _sqlite_day(column: str) -> str:
    return f"date({column})"


def _pg_moment_day(column: str) -> str:
    return _pg_day(days.postgres(column))


# Per engine: the day of a date column (received_on, paid_on: the day itself), and the day
# of a moment (a decision's changed_at, naive UTC: its Japan day, intranet.days).
_DAYS = {"postgresql": (_pg_day, _pg_moment_day), "sqlite": (_sqlite_day, days.sqlite)}


def _deltas(table: str, source: str, sign: int, dialect: str) -> list[str]:
    of_date, of_moment = _DAYS[dialect]
    if table == "applications":
        return _application_deltas(source, sign, of_date)
    return _decided_deltas(source, sign, of_moment)


def _postgres() -> list[str]:
    statements = []
    for table in ("applications", "status_changes"):
        for event, sources in (("INSERT", [("new_rows", 1)]), ("DELETE", [("old_rows", -1)]),
                               ("UPDATE", [("new_rows", 1), ("old_rows", -1)])):
            name = f"{table}_tally_{event.lower()}"
            selects = [s for source, sign in sources
                       for s in _deltas(table, source, sign, "postgresql")]
            referencing = " ".join(f"{'NEW' if src == 'new_rows' else 'OLD'} TABLE AS {src}"
                                   for src, _ in sources)
            statements += [
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  "
                f"{_upsert(selects)};\n  RETURN NULL;\nEND $$",
                f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
            ]
    return statements


def _sqlite() -> list[str]:
    return [sqlite_trigger(table, event) for table in ("applications", "status_changes")
            for event in ("INSERT", "DELETE", "UPDATE")]


def sqlite_trigger(table: str, event: str) -> str:
    """SQLite: the CREATE TRIGGER of one table's tally trigger for one event."""
    sources = {"INSERT": [("NEW", 1)], "DELETE": [("OLD", -1)],
               "UPDATE": [("NEW", 1), ("OLD", -1)]}[event]
    selects = [s for source, sign in sources for s in _deltas(table, source, sign, "sqlite")]
    # Per row on SQLite: a history row that is not a decision skips the statement.
    when = ("" if table == "applications" else " WHEN " + " OR ".join(
        f"{source}.to_code = '{DECIDED}'" for source, _ in sources))
    return (f"CREATE TRIGGER {table}_tally_{event.lower()} AFTER {event} ON "
            f"{table}{when} BEGIN {_upsert(selects)}; END")


def sqlite_applications_counted(sign: int) -> str:
    """SQLite: the tallies of the applications whose ids the parameter ``ids`` lists (a JSON
    array), added (``sign`` 1) or taken away (-1) in one statement. Taken away before a
    chunk's updates and added after them, it is what ``applications_tally_update`` does
    row by row (intranet.imports.sqlite_rows.update_applications)."""
    # The rows read once (MATERIALIZED), not once per kind of tally: 26-29 → 19-20 ms a
    # statement for a chunk of 5,000.
    return ("WITH listed AS MATERIALIZED (SELECT programme_id, status_code, received_on, "  # noqa: S608
            "paid_on FROM applications WHERE id IN (SELECT value FROM json_each(:ids))) "
            + _upsert(_application_deltas("listed", int(sign), _sqlite_day)))


def sqlite_applications_added(first_id: int, last_id: int) -> str:
    """SQLite: what ``applications_tally_insert`` adds for the applications with ids
    ``first_id``–``last_id``, in one statement: the import's bulk insert runs it once per
    chunk instead of the trigger once per row (intranet.imports.sqlite_rows)."""
    rows = ("(SELECT programme_id, status_code, received_on, paid_on FROM applications "  # noqa: S608
            f"WHERE id BETWEEN {int(first_id)} AND {int(last_id)})")
    return _upsert(_application_deltas(rows, 1, _sqlite_day))


def _names():
    return [f"{t}_tally_{e}" for t in ("applications", "status_changes")
            for e in ("insert", "delete", "update")]


def backfill_sql(dialect: str) -> str:
    return _upsert(_deltas("applications", "applications", 1, dialect)
                   + _deltas("status_changes", "status_changes", 1, dialect))


def create(connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    for statement in _postgres() if postgres else _sqlite():
        connection.execute(text(statement))


def drop(connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    for name, table in zip(_names(), ["applications"] * 3 + ["status_changes"] * 3, strict=True):
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else "")))
        if postgres:
            connection.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))
