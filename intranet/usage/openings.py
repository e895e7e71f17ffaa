"""The call centre's record openings per Japan day, counted by the database.

The relief figure (``intranet.usage.figures``) shows, per Japan day, the ``application.view``
audit records of that day. Read from the audit trail it took every such record of 31 days
(at a million applications and ten million records, ~670,000 rows and seconds per view of
the dashboard); ``audit_view_days`` holds the same numbers, kept exact by triggers on
``audit_records`` in the same statement as the change, whoever writes it (the staff app,
the transfer job, the pruner, COPY, a hand-written INSERT):

- INSERT adds each opening to its day;
- DELETE (only the retention run can: the append-only trigger refuses any other) takes it
  away again, so a pruned day shows what the trail still holds, exactly as reading the
  trail would (zero once the whole day is pruned);
- UPDATE is refused by the append-only trigger; a disposal cuts ``audit_personal``, never a
  record, so it changes no count.

A Japan day is the record's UTC time plus nine hours (Japan has kept UTC+9 without summer
time since 1951, the figure's ``astimezone(JST)`` agrees for every record a city holds).
On PostgreSQL the triggers are statement-level with transition tables (a COPY of millions
is one grouped upsert), on SQLite row triggers for the one action only. The table is not
part of the chain: the chain is the evidence, this is a figure. All SQL is built from this
module's constants.
"""

from sqlalchemy import text

from intranet import days

# What the call centre's opening of an application is recorded as (issue 14; the figure's
# INQUIRY_VIEW).
ACTION = "application.view"


def _upsert(rows: str) -> str:
    # rows: SELECT day, n …; "WHERE true": SQLite's parser needs it before ON CONFLICT.
    return ("INSERT INTO audit_view_days (day, n) SELECT day, n FROM (" + rows  # noqa: S608
            + ") AS d WHERE true ORDER BY day "
            "ON CONFLICT (day) DO UPDATE SET n = audit_view_days.n + excluded.n")


def _grouped(source: str, sign: int, day) -> str:
    return (f"SELECT {day('at')} AS day, {sign} * count(*) AS n FROM {source} "  # noqa: S608
            f"WHERE action = '{ACTION}' GROUP BY {day('at')}")


def _postgres() -> list[str]:
    statements = []
    for event, source, sign in (("INSERT", "NEW TABLE AS added", 1),
                                ("DELETE", "OLD TABLE AS removed", -1)):
        name = f"audit_view_days_{event.lower()}"
        table = source.rsplit(" ", 1)[1]
        statements += [
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  "
            f"{_upsert(_grouped(table, sign, days.postgres))};\n  RETURN NULL;\nEND $$",
            f"CREATE TRIGGER {name} AFTER {event} ON audit_records REFERENCING {source} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
        ]
    return statements


def _sqlite() -> list[str]:
    return [f"CREATE TRIGGER audit_view_days_{event.lower()} AFTER {event} ON audit_records "  # noqa: S608
            f"WHEN {row}.action = '{ACTION}' BEGIN "
            f"INSERT INTO audit_view_days (day, n) VALUES ({days.sqlite(row + '.at')}, {sign}) "
            f"ON CONFLICT (day) DO UPDATE SET n = n + {sign}; END"
            for event, row, sign in (("INSERT", "NEW", 1), ("DELETE", "OLD", -1))]


def backfill_sql(dialect: str) -> str:
    """Every opening already in the trail (the migration's, before the triggers)."""
    day = days.postgres if dialect == "postgresql" else days.sqlite
    return _upsert(_grouped("audit_records", 1, day))


def create(connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    for statement in _postgres() if postgres else _sqlite():
        connection.execute(text(statement))


def drop(connection) -> None:
    postgres = connection.dialect.name == "postgresql"
    for event in ("insert", "delete"):
        name = f"audit_view_days_{event}"
        connection.execute(text(f"DROP TRIGGER IF EXISTS {name}"
                                + (" ON audit_records" if postgres else "")))
        if postgres:
            connection.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))
