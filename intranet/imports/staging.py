"""PostgreSQL: a planned chunk written with COPY into a temporary table and one set-based
statement per table, instead of one statement per row.

Why: every row as its own INSERT/UPDATE costs a round trip, and — since the dashboard
tallies are kept by statement-level triggers (intranet.dashboard.tallies) — one trigger
run per row. Here a chunk of a thousand rows costs one COPY, one INSERT … SELECT of the
new applications, one UPDATE … FROM of the changed ones and one INSERT … SELECT of their
history: the triggers run once per statement, over the whole chunk.

The plan (intranet.imports.plan) is unchanged: it decides, row by row and in Python, what
is new, changed or refused; this module only writes what it decided, in the caller's
transaction, so all or nothing still holds. The temporary table is dropped at commit or
rollback. Every name in the SQL below is this module's own constant, never input.
"""

from intranet.applications.search_key import search_key

STAGE = "import_stage"
# (column, type) of the staging table. A changed row leaves NULL what it does not change:
# the plan never changes a value to NULL or "" (plan._row_plan), so NULL means "keep".
_TEXT = ("receipt_number", "receipt_number_normalised", "name", "kana", "address", "phone",
         "route", "status_code", "deficiency_reason", "notes", "search_key")
_DATES = ("birth_date", "received_on", "scheduled_payment_on", "paid_on")
COLUMNS = (("id", "bigint"), ("action", "text"), ("before_status", "text"),
           ("history", "boolean"), *((c, "text") for c in _TEXT),
           *((c, "date") for c in _DATES))
_NAMES = tuple(name for name, _ in COLUMNS)
_FIELD = {"status_code": "status"}      # staging column → the plan's field name
_UPDATED = tuple(c for c in _TEXT + _DATES
                 if c not in ("receipt_number", "receipt_number_normalised"))

# IF NOT EXISTS: a second import in the same transaction finds the first one's table.
_CREATE = (f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ("
           + ", ".join(f"{name} {kind}" for name, kind in COLUMNS) + ") ON COMMIT DROP")
# A new row's id is the staging table's default, the applications' own sequence (given by
# its oid, an integer): ids are taken in file order as the rows are copied, without a round
# trip of their own. ``{sequence}`` is filled with that integer only.
_DEFAULT_ID = (f"ALTER TABLE pg_temp.{STAGE} ALTER COLUMN id "
               "SET DEFAULT nextval({sequence}::oid::regclass)")
_SEQUENCE = "SELECT pg_get_serial_sequence('applications', 'id')::regclass::oid"
_COPY_NEW = f"COPY {STAGE} ({', '.join(_NAMES[1:])}) FROM STDIN"
_COPY_CHANGED = f"COPY {STAGE} ({', '.join(_NAMES)}) FROM STDIN"
_APPLICATION_COLUMNS = ("id", "programme_id", *(c for c in _TEXT), *_DATES, "updated_at",
                        "version")
_INSERT_NEW = (
    f"INSERT INTO applications ({', '.join(_APPLICATION_COLUMNS)}) "  # noqa: S608
    f"SELECT id, %(programme)s, {', '.join(_TEXT)}, {', '.join(_DATES)}, %(now)s, 1 "
    f"FROM {STAGE} WHERE action = 'new' ORDER BY id")
_UPDATE_CHANGED = (
    "UPDATE applications AS a SET "  # noqa: S608
    + ", ".join(f"{c} = coalesce(s.{c}, a.{c})" for c in _UPDATED)
    + f", version = a.version + 1, updated_at = %(now)s FROM {STAGE} AS s "
    "WHERE s.action = 'changed' AND a.id = s.id")
_INSERT_HISTORY = (
    "INSERT INTO status_changes (application_id, from_code, to_code, changed_at, user_id, "  # noqa: S608
    "source, reason, scheduled_payment_on, paid_on) "
    f"SELECT id, before_status, status_code, %(now)s, %(user)s, 'import', %(reason)s, "
    f"scheduled_payment_on, paid_on FROM {STAGE} WHERE history ORDER BY id")


# A new application's columns taken from its row, in the staging table's order (the
# SQLite path makes its INSERT parameters from the same tuple: one rule for both engines).
NEW_COLUMNS = _TEXT + _DATES


def new_values(row) -> tuple:
    """A new row's NEW_COLUMNS values: what it states, the defaults for what it leaves out."""
    values = row.values
    name, kana, phone = values.get("name", ""), values.get("kana", ""), values.get("phone", "")
    return (values["receipt_printed"], row.receipt, name, kana, values.get("address", ""),
            phone, values.get("route") or "postal", values["status"],
            values.get("deficiency_reason", ""), values.get("notes", ""),
            search_key(name, kana, phone), values.get("birth_date"), values["received_on"],
            values.get("scheduled_payment_on"), values.get("paid_on"))


class Stage:
    """One import's staging table, created on the first chunk of its transaction."""

    def __init__(self, dbsession):
        self.connection = dbsession.connection().connection.driver_connection
        self.created = False

    def write(self, programme_id, new_rows, changed_rows, now, reason, user_id):
        """Runs on the import's writing thread; ``new_rows``: new_record()s (no id yet),
        ``changed_rows``: changed_record()s."""
        with self.connection.cursor() as cursor:
            if not self.created:
                cursor.execute(_CREATE)
                sequence = int(cursor.execute(_SEQUENCE).fetchone()[0])
                cursor.execute(_DEFAULT_ID.format(sequence=sequence))
                self.created = True
            cursor.execute(f"TRUNCATE pg_temp.{STAGE}")
            for statement, records in ((_COPY_NEW, new_rows), (_COPY_CHANGED, changed_rows)):
                if records:
                    with cursor.copy(statement) as copy:
                        for record in records:
                            copy.write_row(record)
            parameters = {"programme": programme_id, "now": now, "user": user_id,
                          "reason": reason}
            if new_rows:
                cursor.execute(_INSERT_NEW, parameters)
            if changed_rows:
                cursor.execute(_UPDATE_CHANGED, parameters)
            cursor.execute(_INSERT_HISTORY, parameters)


def new_record(row) -> tuple:
    """A new row as the staging table takes it (its id is the table's default)."""
    return ("new", None, True, *new_values(row))


def changed_record(row) -> tuple:
    """A changed row as the staging table takes it: NULL for what it does not change."""
    values = row.values
    return (row.application_id, "changed", row.before_status, "status" in values, None, None,
            *(values.get(_FIELD.get(c, c)) for c in _TEXT[2:]),
            *(values.get(c) for c in _DATES))
