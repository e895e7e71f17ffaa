"""Applying a planned import: every row or none (one transaction), each status change with
a history entry naming the file, the import recorded and audited."""

import contextlib
from collections import Counter

from sqlalchemy import func, select

from intranet.applications.models import Application
from intranet.audit import writer
from intranet.imports import sqlite_rows, staging
from intranet.imports.errors import ImportRefused
from intranet.imports.models import ImportRecord
from intranet.imports.pipeline import Background, Inline
from intranet.imports.plan import plan_import
from intranet.imports.staging import Stage

_COLUMN = {"status": "status_code"}


def apply_import(dbsession, actor, user_id, programme, catalogue, data: bytes, filename: str,
                 mapping=None, progress=None, sink=None, gaiji_table=None, changes_sink=None):
    """Plan and write in one pass, chunk by chunk, inside the caller's transaction.

    A bad row anywhere raises ImportRefused after the scan: the caller's transaction is
    then aborted, so the rows already written disappear with it — all or nothing.

    On PostgreSQL each chunk is written on a background thread while the next one is
    planned (the server works while Python parses and compares); a chunk's lookups run on
    that thread too, in the order imports.pipeline explains.
    """
    now = writer.utcnow()
    reason = f"取込: {filename}"
    # Which application moved from which status to which: the audit record counts the
    # moves; each receipt number sits beside the chain (an officer's record page lists them).
    moved: dict[int, dict[str, str]] = {}
    # PostgreSQL: COPY + set-based statements per chunk (imports.staging); SQLite, whose
    # executemany runs in-process without round trips, plain INSERTs (imports.sqlite_rows).
    stage = Stage(dbsession) if dbsession.get_bind().dialect.name == "postgresql" else None
    # SQLite works inside this process and hands the GIL back for every row's parameters:
    # a writing thread there only trades the GIL with the planning one (measured slower,
    # docs/performance.md), so SQLite writes each chunk before planning the next.
    background = Background() if stage is not None else Inline()

    def write(rows):
        """Runs on the planning thread. PostgreSQL: it makes the chunk's rows for the
        database (search keys included), then hands them to the writing thread."""
        new_rows = [row for row in rows if row.action == "new"]
        changed = [row for row in rows if row.action == "changed"]
        if stage is None:
            background.submit(_write_sqlite, dbsession, programme, new_rows, changed, now,
                              reason, user_id)
        else:
            background.submit(stage.write, programme.id,
                              [staging.new_values(row) for row in new_rows],
                              [staging.changed_record(row) for row in changed],
                              now, reason, user_id)
        for row in changed:
            if "status" in row.values:
                moved[row.application_id] = {
                    "receipt": row.receipt, "move": f"{row.before_status}→{row.values['status']}"}

    cache = sqlite_rows.larger_cache(dbsession) if stage is None else contextlib.nullcontext()
    try:
        with cache:
            plan = plan_import(dbsession, catalogue, programme, data, filename, mapping,
                               progress, on_chunk=write, runner=background, sink=sink,
                               gaiji_table=gaiji_table, changes_sink=changes_sink)
            background.wait()
    finally:
        background.close()
    if plan.error_count:
        raise ImportRefused("エラーのあるファイルは取り込めません（${count} 件）。",
                            count=plan.error_count)
    rows = sum(plan.counts.values())
    record = ImportRecord(at=now, user_id=user_id, programme_id=programme.id,
                          filename=filename[:255], sha256=plan.sha256, kind=plan.kind,
                          encoding=plan.encoding, rows=rows, created=plan.count("new"),
                          changed=plan.count("changed"), unchanged=plan.count("unchanged"))
    dbsession.add(record)
    dbsession.flush()
    # The chain counts the moves; which receipt moved, and the file's name (it may name a
    # person), sit beside it, cut by disposal.
    moves = Counter(value["move"] for value in moved.values())
    writer.append(dbsession, actor, "import.apply", f"import:{record.id}",
                  sha256=plan.sha256, programme=programme.code,
                  kind=plan.kind, rows=rows, created=record.created,
                  changed=record.changed, unchanged=record.unchanged,
                  status_moves=plan.status_moves, moves=dict(sorted(moves.items())),
                  personal=moved, programme_personal={programme.id: {"filename": filename}})
    return plan


def _write_sqlite(dbsession, programme, new_rows, changed, now, reason, user_id):
    """SQLite: the new applications and their history through the driver's executemany
    (sqlite_rows.Rows), the changed ones grouped by the columns they change."""
    ids = allocate_ids(dbsession, len(new_rows)) if new_rows else []
    history = [(new_id, None, *_history(row, now, reason, user_id))
               for row, new_id in zip(new_rows, ids, strict=True)]
    if new_rows:
        sqlite_rows.insert_applications(dbsession, [
            (new_id, programme.id, *staging.new_values(row), now, 1)
            for row, new_id in zip(new_rows, ids, strict=True)])
    groups = _by_columns(changed)
    if changed:
        sqlite_rows.update_applications(
            dbsession, [row.application_id for row in changed],
            lambda: _update_sqlite(dbsession, groups, now))
    # The history in the order the updates ran: group by group.
    history += [(row.application_id, row.before_status, *_history(row, now, reason, user_id))
                for group in groups.values() for row in group if "status" in row.values]
    if history:
        sqlite_rows.HISTORY.insert(dbsession, history)


def _update_sqlite(dbsession, groups, now):
    """The changed applications, one executemany per set of columns they change."""
    for names, group in groups.items():
        sqlite_rows.update_columns(dbsession, tuple(_COLUMN.get(n, n) for n in names), [
            (*(row.values[n] for n in names), now, row.application_id) for row in group])


def allocate_ids(dbsession, count: int) -> list[int]:
    """SQLite: ids for new applications, taken before the INSERT (a plain multi-row INSERT
    is much cheaper than one that returns every id). SQLite has one writer at a time, so
    the next ids after the largest are free. (PostgreSQL: the staging table's default.)"""
    start = dbsession.execute(select(func.coalesce(func.max(Application.id), 0))).scalar_one()
    return list(range(start + 1, start + count + 1))


def _by_columns(rows):
    groups = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row.values)), []).append(row)
    return groups


def _history(row, now, reason, user_id):
    """A history entry's values after (application id, from): sqlite_rows.HISTORY's order."""
    return (row.values["status"], now, user_id, "import", reason,
            row.values.get("scheduled_payment_on"), row.values.get("paid_on"))
