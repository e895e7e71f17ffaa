"""Audit records are append-only in the database itself, not just in the app's code.

A trigger refuses every UPDATE and every DELETE of ``audit_records`` (and TRUNCATE on
PostgreSQL), whoever runs it — the table's owner included. The one way out is retention:
``audit prune`` first writes a permit (``audit_prune_permits``: delete through seq N) and
removes it again in the same transaction, so no permit is ever visible to anyone else.
On PostgreSQL the web app's role is not granted INSERT on the permits table, nor DELETE
on the records (see docs/security-review.md, "Database roles"): only the pruner role can
take that path. On SQLite the file's owner can do anything; the trigger there keeps the
app and careless hands out, and the signed checkpoints catch the rest.
"""

from sqlalchemy import text

# Every refusal's message starts with this (tests and operators look for it).
REFUSED = "audit records are append-only"

_POSTGRES = [
    """CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (
      SELECT 1 FROM audit_prune_permits WHERE OLD.seq <= through_seq) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit records are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$""",
    """CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
FOR EACH ROW EXECUTE FUNCTION audit_records_append_only()""",
    """CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records
FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()""",
]
_POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS audit_records_no_truncate ON audit_records",
    "DROP TRIGGER IF EXISTS audit_records_append_only ON audit_records",
    "DROP FUNCTION IF EXISTS audit_records_append_only()",
]

_SQLITE = [
    """CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only (UPDATE refused)'); END""",
    """CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
WHEN NOT EXISTS (SELECT 1 FROM audit_prune_permits WHERE OLD.seq <= through_seq)
BEGIN SELECT RAISE(ABORT, 'audit records are append-only (DELETE refused)'); END""",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_records_no_update",
    "DROP TRIGGER IF EXISTS audit_records_no_delete",
]


def _statements(connection, postgres, sqlite):
    return postgres if connection.dialect.name == "postgresql" else sqlite


def create(connection) -> None:
    for statement in _statements(connection, _POSTGRES, _SQLITE):
        connection.execute(text(statement))


def drop(connection) -> None:
    for statement in _statements(connection, _POSTGRES_DROP, _SQLITE_DROP):
        connection.execute(text(statement))
