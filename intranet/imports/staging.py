"""PostgreSQL: a planned chunk written with COPY and set-based statements, instead of one
statement per row.

Why: every row as its own INSERT/UPDATE costs a round trip, and — since the dashboard
tallies are kept by statement-level triggers (intranet.dashboard.tallies) — one trigger
run per row. Here a chunk's new applications cost one statement for their ids, one COPY
into ``applications`` and one into ``status_changes``; its changed ones one COPY into a
temporary table, one UPDATE … FROM and one INSERT … SELECT of their history: the triggers
run once per statement, over the whole chunk.

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
# The action details (intranet.deficiencies.rules): kind bits, then their two dates.
_ACTION = ("deficiency_kinds", "documents_sent_on", "return_by")
# new_round: the row enters a status that needs the resident's action, so a NULL action
# date is written as NULL (cleared), not kept.
COLUMNS = (("id", "bigint"), ("action", "text"), ("before_status", "text"),
           ("history", "boolean"), ("new_round", "boolean"), *((c, "text") for c in _TEXT),
           *((c, "date") for c in _DATES), ("deficiency_kinds", "bigint"),
           *((c, "date") for c in _ACTION[1:]))
_NAMES = tuple(name for name, _ in COLUMNS)
_FIELD = {"status_code": "status"}      # staging column → the plan's field name
_UPDATED = tuple(c for c in _TEXT + _DATES + _ACTION[:1]
                 if c not in ("receipt_number", "receipt_number_normalised"))

# IF NOT EXISTS: a second import in the same transaction finds the first one's table.
_CREATE = (f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} ("
           + ", ".join(f"{name} {kind}" for name, kind in COLUMNS) + ") ON COMMIT DROP")
_COPY = f"COPY {STAGE} ({', '.join(_NAMES)}) FROM STDIN"
# New applications and their first history entries go straight into their tables: COPY
# fires the same constraints and triggers as INSERT (the tallies' statement triggers once
# per COPY), without the staging table's second copy of every row.
_APPLICATION_COLUMNS = ("id", "programme_id", *_TEXT, *_DATES, *_ACTION, "updated_at", "version")
_COPY_APPLICATIONS = f"COPY applications ({', '.join(_APPLICATION_COLUMNS)}) FROM STDIN"
_HISTORY_COLUMNS = ("application_id", "from_code", "to_code", "changed_at", "user_id", "source",
                    "reason", "scheduled_payment_on", "paid_on")
_COPY_HISTORY = f"COPY status_changes ({', '.join(_HISTORY_COLUMNS)}) FROM STDIN"
# Ids for the new rows, in file order, as one array (one value to send back, not a row each),
# from the sequence named by its number, found once per import: nextval of
# pg_get_serial_sequence(…) looked the name up again for every id (20 ms per 5,000 ids on a
# quiet server, 6.6 s of a million-row import; 3.7 ms by number).
_SEQUENCE = "SELECT pg_get_serial_sequence('applications', 'id')::regclass::oid"
_IDS = "SELECT array_agg(nextval(%s::oid::regclass)) FROM generate_series(1, %s)"
_STATUS_AT = _TEXT.index("status_code")
_SCHEDULED_AT, _PAID_AT = (len(_TEXT) + _DATES.index(c) for c in ("scheduled_payment_on", "paid_on"))
_UPDATE_CHANGED = (
    "UPDATE applications AS a SET "  # noqa: S608
    + ", ".join(f"{c} = coalesce(s.{c}, a.{c})" for c in _UPDATED)
    + "".join(f", {c} = CASE WHEN s.new_round THEN s.{c} ELSE coalesce(s.{c}, a.{c}) END"
              for c in _ACTION[1:])
    + f", version = a.version + 1, updated_at = %(now)s FROM {STAGE} AS s "
    "WHERE s.action = 'changed' AND a.id = s.id")
_INSERT_HISTORY = (
    f"INSERT INTO status_changes ({', '.join(_HISTORY_COLUMNS)}) "  # noqa: S608
    f"SELECT id, before_status, status_code, %(now)s, %(user)s, 'import', %(reason)s, "
    f"scheduled_payment_on, paid_on FROM {STAGE} WHERE history ORDER BY id")


# A new application's columns taken from its row, in the staging table's order (the
# SQLite path makes its INSERT parameters from the same tuple: one rule for both engines).
NEW_COLUMNS = _TEXT + _DATES + _ACTION


def new_values(row) -> tuple:
    """A new row's NEW_COLUMNS values: what it states, the defaults for what it leaves out."""
    values = row.values
    name, kana, phone = values.get("name", ""), values.get("kana", ""), values.get("phone", "")
    return (values["receipt_printed"], row.receipt, name, kana, values.get("address", ""),
            phone, values.get("route") or "postal", values["status"],
            values.get("deficiency_reason", ""), values.get("notes", ""),
            search_key(name, kana, phone), values.get("birth_date"), values["received_on"],
            values.get("scheduled_payment_on"), values.get("paid_on"),
            values.get("deficiency_kinds") or 0, values.get("documents_sent_on"),
            values.get("return_by"))


class Stage:
    """One import's writing on PostgreSQL; its staging table (for changed rows) is created
    on first use in the transaction."""

    def __init__(self, dbsession):
        self.connection = dbsession.connection().connection.driver_connection
        self.created = False
        self.sequence: int | None = None

    def write(self, programme_id, new_rows, changed_rows, now, reason, user_id):
        """Runs on the import's writing thread. ``new_rows``: new_values() tuples;
        ``changed_rows``: changed_record() tuples. The changed rows first, then the new:
        the history then lists them in id order, as one statement over both did."""
        with self.connection.cursor() as cursor:
            if changed_rows:
                self._changed(cursor, changed_rows, now, reason, user_id)
            if new_rows:
                if self.sequence is None:
                    self.sequence = cursor.execute(_SEQUENCE).fetchone()[0]
                ids = cursor.execute(_IDS, (self.sequence, len(new_rows))).fetchone()[0]
                with cursor.copy(_COPY_APPLICATIONS) as copy:
                    for new_id, values in zip(ids, new_rows, strict=True):
                        copy.write_row((new_id, programme_id, *values, now, 1))
                with cursor.copy(_COPY_HISTORY) as copy:
                    for new_id, values in zip(ids, new_rows, strict=True):
                        copy.write_row((new_id, None, values[_STATUS_AT], now, user_id,
                                        "import", reason, values[_SCHEDULED_AT],
                                        values[_PAID_AT]))

    def _changed(self, cursor, changed_rows, now, reason, user_id):
        if not self.created:
            cursor.execute(_CREATE)
            self.created = True
        cursor.execute(f"TRUNCATE pg_temp.{STAGE}")
        with cursor.copy(_COPY) as copy:
            for record in changed_rows:
                copy.write_row(record)
        parameters = {"now": now, "user": user_id, "reason": reason}
        cursor.execute(_UPDATE_CHANGED, parameters)
        cursor.execute(_INSERT_HISTORY, parameters)


def changed_record(row) -> tuple:
    """A changed row as the staging table takes it: NULL for what it does not change."""
    values = row.values
    return (row.application_id, "changed", row.before_status, "status" in values, row.new_round,
            None, None, *(values.get(_FIELD.get(c, c)) for c in _TEXT[2:]),
            *(values.get(c) for c in _DATES + _ACTION))
