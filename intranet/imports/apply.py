"""Applying a planned import: every row or none (one transaction), each status change with
a history entry naming the file, the import recorded and audited."""

from sqlalchemy import bindparam, func, insert, select, text, update

from intranet.applications.models import Application, StatusChange
from intranet.applications.search_key import search_key
from intranet.audit import writer
from intranet.imports.errors import ImportRefused
from intranet.imports.models import ImportRecord
from intranet.imports.plan import plan_import
from intranet.imports.staging import Stage

_COLUMN = {"status": "status_code"}


def apply_import(dbsession, actor, user_id, programme, catalogue, data: bytes, filename: str,
                 mapping=None, progress=None):
    """Plan and write in one pass, chunk by chunk, inside the caller's transaction.

    A bad row anywhere raises ImportRefused after the scan: the caller's transaction is
    then aborted, so the rows already written disappear with it — all or nothing.
    """
    now = writer.utcnow()
    reason = f"取込: {filename}"
    # Which receipt numbers moved from which status to which: the audit record carries
    # it, so an officer sees what a file did without reading applicant data.
    moved: dict[str, list[str]] = {}
    # PostgreSQL: COPY + set-based statements per chunk (imports.staging); SQLite, whose
    # executemany runs in-process without round trips, keeps the plain statements.
    stage = Stage(dbsession) if dbsession.get_bind().dialect.name == "postgresql" else None

    def write(rows):
        if stage is None:
            _write_chunk(dbsession, programme, rows, now, reason, user_id)
        else:
            _stage_chunk(dbsession, stage, programme, rows, now, reason, user_id)
        for row in rows:
            if row.action == "changed" and "status" in row.values:
                moved.setdefault(f"{row.before_status}→{row.values['status']}",
                                 []).append(row.receipt)

    plan = plan_import(dbsession, catalogue, programme, data, filename, mapping, progress,
                       on_chunk=write)
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
    writer.append(dbsession, actor, "import.apply", f"import:{record.id}",
                  filename=filename, sha256=plan.sha256, programme=programme.code,
                  kind=plan.kind, rows=rows, created=record.created,
                  changed=record.changed, unchanged=record.unchanged,
                  status_moves=plan.status_moves, moved=moved)
    return plan


def _stage_chunk(dbsession, stage, programme, rows, now, reason, user_id):
    new_rows = [row for row in rows if row.action == "new"]
    ids = allocate_ids(dbsession, len(new_rows)) if new_rows else []
    stage.write(programme, [{**_new_application(programme, row, now), "id": new_id}
                            for row, new_id in zip(new_rows, ids, strict=True)],
                [row for row in rows if row.action == "changed"], now, reason, user_id)


def _write_chunk(dbsession, programme, rows, now, reason, user_id):
    table = Application.__table__
    history = []
    new_rows = [row for row in rows if row.action == "new"]
    if new_rows:
        ids = allocate_ids(dbsession, len(new_rows))
        dbsession.execute(insert(table), [{**_new_application(programme, row, now), "id": new_id}
                                          for row, new_id in zip(new_rows, ids, strict=True)])
        history += [_history(new_id, None, row, now, reason, user_id)
                    for row, new_id in zip(new_rows, ids, strict=True)]
    changed = [row for row in rows if row.action == "changed"]
    for names, group in _by_columns(changed).items():
        statement = update(table).where(table.c.id == bindparam("_id")).values(
            {**{_COLUMN.get(n, n): bindparam(f"_{n}") for n in names},
             "version": table.c.version + 1, "updated_at": now})
        dbsession.execute(statement, [{"_id": row.application_id,
                                       **{f"_{n}": row.values[n] for n in names}}
                                      for row in group])
        history += [_history(row.application_id, row.before_status, row, now, reason, user_id)
                    for row in group if "status" in row.values]
    if history:
        dbsession.execute(insert(StatusChange.__table__), history)


def allocate_ids(dbsession, count: int) -> list[int]:
    """Ids for new applications, taken before the INSERT: a plain multi-row INSERT is much
    cheaper than one that returns every id. PostgreSQL hands out sequence values; SQLite
    has one writer at a time, so the next ids after the largest are free."""
    if dbsession.get_bind().dialect.name == "postgresql":
        return list(dbsession.execute(
            text("SELECT nextval(pg_get_serial_sequence('applications', 'id')) "
                 "FROM generate_series(1, :n)"), {"n": count}).scalars())
    start = dbsession.execute(select(func.coalesce(func.max(Application.id), 0))).scalar_one()
    return list(range(start + 1, start + count + 1))


def _by_columns(rows):
    groups = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row.values)), []).append(row)
    return groups


def _new_application(programme, row, now):
    values = row.values
    return {
        "programme_id": programme.id, "receipt_number": values["receipt_printed"],
        "receipt_number_normalised": row.receipt, "name": values.get("name", ""),
        "kana": values.get("kana", ""), "birth_date": values.get("birth_date"),
        "address": values.get("address", ""), "phone": values.get("phone", ""),
        "route": values.get("route") or "postal", "received_on": values["received_on"],
        "status_code": values["status"],
        "scheduled_payment_on": values.get("scheduled_payment_on"),
        "paid_on": values.get("paid_on"),
        "deficiency_reason": values.get("deficiency_reason", ""),
        "notes": values.get("notes", ""), "updated_at": now, "version": 1,
        "search_key": search_key(values.get("name", ""), values.get("kana", ""),
                                 values.get("phone", "")),
    }


def _history(application_id, before, row, now, reason, user_id):
    return {"application_id": application_id, "from_code": before,
            "to_code": row.values["status"], "changed_at": now, "user_id": user_id,
            "source": "import", "reason": reason,
            "scheduled_payment_on": row.values.get("scheduled_payment_on"),
            "paid_on": row.values.get("paid_on")}
