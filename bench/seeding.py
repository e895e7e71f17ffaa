"""Loading a million applications into PostgreSQL with COPY, for the benchmarks.

The demo's row generator (intranet.demo) makes the rows, so the data is the same shape
as `make demo`'s; COPY is only the fastest way in.
"""

import random
from datetime import date

from intranet.applications.models import Application, StatusChange
from intranet.demo import generate_applications

APPLICATION_COLUMNS = ["id", "programme_id", "receipt_number", "receipt_number_normalised",
                       "name", "kana", "birth_date", "address", "phone", "route", "received_on",
                       "status_code", "scheduled_payment_on", "paid_on", "deficiency_reason",
                       "notes", "updated_at", "version", "search_key"]
HISTORY_COLUMNS = ["application_id", "from_code", "to_code", "changed_at", "user_id", "source",
                   "reason", "scheduled_payment_on", "paid_on"]


def copy_applications(connection, programme, count, seed=1, opening=date(2020, 5, 11)):
    """COPY ``count`` applications and their histories; ids from 1 upward."""
    raw = connection.connection.driver_connection

    def rows():  # the generator is seeded: both passes see the same applications
        return enumerate(generate_applications(programme, count, random.Random(seed), opening), 1)

    with raw.cursor() as cursor:
        columns = ", ".join(APPLICATION_COLUMNS)
        with cursor.copy(f"COPY applications ({columns}) FROM STDIN") as copy:
            for app_id, (row, _history) in rows():
                copy.write_row([app_id, *(row[c] for c in APPLICATION_COLUMNS[1:])])
        columns = ", ".join(HISTORY_COLUMNS)
        with cursor.copy(f"COPY status_changes ({columns}) FROM STDIN") as copy:
            for app_id, (_row, history) in rows():
                for change in history:
                    copy.write_row([app_id, *(change[c] for c in HISTORY_COLUMNS[1:])])
        for table in (Application.__tablename__, StatusChange.__tablename__):
            # Table names are the models' own constants, not input.
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                           f"(SELECT max(id) FROM {table}))")
