"""Loading a million applications into PostgreSQL with COPY, for the benchmarks.

The demo's row generator (intranet.demo) makes the rows, so the data is the same shape
as `make demo`'s; COPY is only the fastest way in.
"""

import random
from datetime import date, datetime, timedelta

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


AUDIT_COLUMNS = ["seq", "at", "actor", "actor_role", "os_user", "host", "action", "target",
                 "details", "prev_hash", "hash"]


def copy_audit_records(connection, count, signing_key=None, checkpoint_path=None, since=1000):
    """Append ``count`` chained audit records after the current head with COPY — the
    staff's everyday actions, hashed exactly as the writer hashes them — and, given a key,
    sign a checkpoint ``since`` records before the new head (as the daily job would have)."""
    from types import SimpleNamespace

    from intranet.audit import checkpoints
    from intranet.audit.chain import canonical_json, record_hash

    raw = connection.connection.driver_connection
    with raw.cursor() as cursor:
        seq, previous = cursor.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        started = datetime(2026, 1, 5, 0, 0) if seq == 0 else cursor.execute(
            "SELECT at FROM audit_records WHERE seq = %s", (seq,)).fetchone()[0]
        signed_at = count - since
        checkpoint = None
        actions = ("application.status", "application.view", "login.success", "export.csv")
        with cursor.copy(f"COPY audit_records ({', '.join(AUDIT_COLUMNS)}) FROM STDIN") as copy:
            for n in range(1, count + 1):
                record = SimpleNamespace(
                    seq=seq + n, at=started + timedelta(seconds=n), actor=f"staff{n % 400:03d}",
                    actor_role="staff", os_user="", host=f"10.0.0.{n % 200}",
                    action=actions[n % 4], target=f"application:{n % 1_000_000 + 1}",
                    details=canonical_json({"from": "received", "to": "reviewing"}),
                    prev_hash=previous)
                record.hash = previous = record_hash(record)
                copy.write_row([getattr(record, c) for c in AUDIT_COLUMNS])
                if n == signed_at and signing_key is not None:
                    checkpoint = checkpoints.sign(record.seq, record.hash,
                                                  record.at + timedelta(microseconds=1),
                                                  signing_key)
        cursor.execute("UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1",
                       (seq + count, previous))
    if checkpoint is not None:
        checkpoints.append_to_file(checkpoint_path, checkpoint)
    return checkpoint
