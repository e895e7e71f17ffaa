"""SQLite: an import's rows handed straight to the driver's executemany, and the stored
applications it compares them with read through the driver (``looked_up``).

Why: SQLAlchemy's executemany builds a parameter dictionary per row and converts it
column by column in Python — at a million rows that was more time than SQLite's own
writing (profile in docs/performance.md). Here a row is a tuple in the statement's column
order, and only the columns whose type converts a value (dates, timestamps) are converted,
by that type's own bind processor for the dialect: the database receives exactly the text
SQLAlchemy would have sent (tests/integration/test_import_fast_path.py compares the stored
text with rows the ORM wrote). The statement runs on the session's connection, in its
transaction. Table and column names are this module's constants, never input.

New applications are inserted with the tally trigger of their table suspended: SQLite's
triggers run per row, three upserts for each new application (as much time as the insert
itself, docs/performance.md); ``insert_applications`` drops it, inserts the chunk, adds the
chunk's tallies in one grouped statement and creates the trigger again — all inside the
import's transaction (SQLite's DDL is transactional), so a failure anywhere rolls the
trigger's absence back with the rows, and no other connection ever sees it missing.
Changed applications likewise (``update_applications``): their tallies taken away before
the chunk's updates and added after them, in two statements.
"""

import contextlib
import json
import sqlite3

from intranet.applications import models
from intranet.dashboard import tallies
from intranet.imports.staging import NEW_COLUMNS

# A converted value per distinct input, per column: dates and the import's timestamp repeat.
_MEMO_LIMIT = 4096

# SQLite's page cache for an import's connection, in KiB. SQLite's default (2 MiB) holds a
# few hundred pages of a million-row file: each chunk's index entries, and a bank file's
# scattered updates, went through the OS for the same pages again and again. 64 MiB took
# about 10 % off both a million new applications and a 50,000-row bank file (make
# bench-import, docs/performance.md), for as much memory at most, only while it runs.
IMPORT_CACHE_KIB = 65536


@contextlib.contextmanager
def larger_cache(dbsession):
    """The import's connection with IMPORT_CACHE_KIB of page cache; its own size again
    afterwards (the staff app's pooled connections keep SQLite's default)."""
    driver = dbsession.connection().connection.driver_connection
    (before,) = driver.execute("PRAGMA cache_size").fetchone()
    driver.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with contextlib.suppress(sqlite3.Error):   # a broken connection is discarded anyway
            driver.execute(f"PRAGMA cache_size = {int(before)}")


class Rows:
    def __init__(self, table, columns: tuple):
        self.table, self.columns = table, columns
        self.sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608
                    f"VALUES ({', '.join('?' * len(columns))})")

    def insert(self, dbsession, rows: list[tuple]) -> None:
        converters = self._converters(dbsession.get_bind().dialect)
        if converters and rows:
            rows = _converted(rows, converters)
        dbsession.connection().connection.driver_connection.executemany(self.sql, rows)

    def _converters(self, dialect):
        return _remembered([self.table.c[name] for name in self.columns],
                           lambda impl: impl.bind_processor(dialect), dialect)


class Updates(Rows):
    """UPDATE of ``columns`` (then ``updated_at``) with ``version`` counted up, by id: a row
    is the new values, the time, the id."""

    def __init__(self, table, columns: tuple):
        super().__init__(table, (*columns, "updated_at", "id"))
        self.sql = (f"UPDATE {table.name} SET "  # noqa: S608
                    + "".join(f"{name} = ?, " for name in columns)
                    + "version = version + 1, updated_at = ? WHERE id = ?")


def looked_up(dbsession, columns: tuple, numbers: list[str]) -> list[tuple]:
    """The stored applications with these normalised receipt numbers: ``columns`` (the
    model's Column objects) of each, as SQLAlchemy's select of them returns them, through
    the driver in IN lists of ``LOOKUP`` numbers. Why: the ORM's rows convert every date
    cell of every row in Python (a bank file's 50,000 rows carry six dates each, a
    few hundred distinct); here each column's result processor is remembered per
    distinct text, as the writes remember their bind processors."""
    dialect = dbsession.get_bind().dialect
    converters = _remembered(columns, lambda impl: impl.result_processor(dialect, None),
                             dialect)
    driver = dbsession.connection().connection.driver_connection
    found = []
    for start in range(0, len(numbers), LOOKUP):
        part = numbers[start:start + LOOKUP]
        found += driver.execute(_lookup_sql(columns, len(part)), part).fetchall()
    return _converted(found, converters) if converters and found else found


# Receipt numbers per lookup statement: well under SQLite's limit on a statement's
# parameters (32,766 since 3.32; Debian 12 ships 3.40), as the select it replaced.
LOOKUP = 1000


def _lookup_sql(columns: tuple, count: int) -> str:
    names = ", ".join(column.name for column in columns)
    return (f"SELECT {names} FROM {models.APPLICATIONS.name} "  # noqa: S608 (model's names)
            f"WHERE receipt_number_normalised IN ({', '.join('?' * count)})")


def update_columns(dbsession, columns: tuple, rows: list[tuple]) -> None:
    """The changed applications that change ``columns``, through the driver (Updates)."""
    Updates(models.APPLICATIONS, columns).insert(dbsession, rows)


def insert_applications(dbsession, rows: list[tuple]) -> None:
    """APPLICATIONS.insert of new applications (ids ascending, the first column), with their
    tallies added once for the chunk instead of by the per-row trigger."""
    driver = _in_transaction(dbsession)
    driver.execute(f"DROP TRIGGER {_INSERT_TRIGGER}")
    APPLICATIONS.insert(dbsession, rows)
    driver.execute(tallies.sqlite_applications_added(rows[0][0], rows[-1][0]))
    driver.execute(tallies.sqlite_trigger("applications", "INSERT"))


def update_applications(dbsession, ids: list[int], update) -> None:
    """Run ``update()`` (the chunk's UPDATEs of the applications ``ids``) with their
    tallies moved in two grouped statements instead of by the per-row trigger."""
    driver = _in_transaction(dbsession)
    listed = {"ids": json.dumps(ids)}
    driver.execute(f"DROP TRIGGER {_UPDATE_TRIGGER}")
    driver.execute(tallies.sqlite_applications_counted(-1), listed)
    update()
    driver.execute(tallies.sqlite_applications_counted(1), listed)
    driver.execute(tallies.sqlite_trigger("applications", "UPDATE"))


def _in_transaction(dbsession):
    """The driver's connection, in a transaction: sqlite3 would run DDL outside any."""
    driver = dbsession.connection().connection.driver_connection
    if not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")
    return driver


_INSERT_TRIGGER, _UPDATE_TRIGGER = "applications_tally_insert", "applications_tally_update"


class _Converted(dict):
    """A column type's bind processor, remembered per distinct value (None stays None)."""

    def __init__(self, process):
        super().__init__({None: None})
        self.process = process

    def __missing__(self, value):
        if len(self) >= _MEMO_LIMIT:
            self.clear()
            self[None] = None
        self[value] = converted = self.process(value)
        return converted


def _remembered(columns, processor, dialect) -> list[tuple[int, _Converted]]:
    """(index, remembered processor) of each column whose type converts a value for the
    dialect: ``processor`` takes the type's implementation and gives its bind or result
    processor, or None."""
    return [(index, _Converted(process)) for index, column in enumerate(columns)
            if (process := processor(column.type.dialect_impl(dialect))) is not None]


def _converted(rows, converters):
    """The rows with the converting columns converted, column by column: each column's
    values mapped through its remembered converter in C, the rows put back together."""
    columns = list(zip(*rows, strict=True))
    for index, convert in converters:
        columns[index] = tuple(map(convert.__getitem__, columns[index]))
    return list(zip(*columns, strict=True))


APPLICATIONS = Rows(models.APPLICATIONS, ("id", "programme_id", *NEW_COLUMNS, "updated_at", "version"))
HISTORY = Rows(models.STATUS_CHANGES, ("application_id", "from_code", "to_code", "changed_at", "user_id",
                                "source", "reason", "scheduled_payment_on", "paid_on"))
