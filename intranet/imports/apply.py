"""Applying a planned import: every row or none (one transaction), each status change with
a history entry naming the file, the import recorded and audited."""

from sqlalchemy import bindparam, insert, update

from intranet.applications.models import Application, StatusChange
from intranet.audit import writer
from intranet.imports.errors import ImportRefused
from intranet.imports.models import ImportRecord

_CHUNK = 2000
_COLUMN = {"status": "status_code"}


def apply_import(dbsession, actor, user_id, programme, plan) -> ImportRecord:
    if plan.errors:
        raise ImportRefused("エラーのあるファイルは取り込めません（${count} 件）。",
                            count=len(plan.errors))
    now = writer.utcnow()
    reason = f"取込: {plan.filename}"
    history = []
    new_rows = [row for row in plan.rows if row.action == "new"]
    table = Application.__table__
    for start in range(0, len(new_rows), _CHUNK):
        chunk = new_rows[start:start + _CHUNK]
        ids = dict(dbsession.execute(
            insert(table).returning(table.c.receipt_number_normalised, table.c.id),
            [_new_application(programme, row, now) for row in chunk]).all())
        history += [_history(ids[row.receipt], None, row, now, reason, user_id)
                    for row in chunk]
    changed = [row for row in plan.rows if row.action == "changed"]
    for names, rows in _by_columns(changed).items():
        statement = update(table).where(table.c.id == bindparam("_id")).values(
            {**{_COLUMN.get(n, n): bindparam(f"_{n}") for n in names},
             "version": table.c.version + 1, "updated_at": now})
        dbsession.execute(statement, [{"_id": row.application_id,
                                       **{f"_{n}": row.values[n] for n in names}}
                                      for row in rows])
        history += [_history(row.application_id, row.before_status, row, now, reason, user_id)
                    for row in rows if "status" in row.values]
    if history:
        dbsession.execute(insert(StatusChange.__table__), history)
    record = ImportRecord(at=now, user_id=user_id, programme_id=programme.id,
                          filename=plan.filename[:255], sha256=plan.sha256, kind=plan.kind,
                          encoding=plan.encoding, rows=len(plan.rows), created=len(new_rows),
                          changed=len(changed), unchanged=plan.count("unchanged"))
    dbsession.add(record)
    dbsession.flush()
    writer.append(dbsession, actor, "import.apply", f"import:{record.id}",
                  filename=plan.filename, sha256=plan.sha256, programme=programme.code,
                  kind=plan.kind, rows=record.rows, created=record.created,
                  changed=record.changed, unchanged=record.unchanged)
    return record


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
    }


def _history(application_id, before, row, now, reason, user_id):
    return {"application_id": application_id, "from_code": before,
            "to_code": row.values["status"], "changed_at": now, "user_id": user_id,
            "source": "import", "reason": reason,
            "scheduled_payment_on": row.values.get("scheduled_payment_on"),
            "paid_on": row.values.get("paid_on")}
