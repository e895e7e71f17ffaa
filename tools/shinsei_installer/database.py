"""PostgreSQL for the intranet: one database, one owner nobody logs in as, and one role per
OS user (peer authentication), each with only what its program does.

- ``shinsei_owner`` (NOLOGIN) owns the schema; migrations run as it (the installer, as the
  ``postgres`` superuser, connects with ``role=shinsei_owner``).
- ``shinsei-web`` (the staff app): reads and writes the work tables; on the audit trail it
  may only add records (INSERT) and move the chain head (UPDATE of seq and hash) — never
  UPDATE or DELETE a record, never move the retention anchor.
- ``shinsei-transfer`` (the transfer job): reads everything it publishes, records
  publications, deliveries and what was published, and adds audit records.
- ``shinsei-prune`` (the monthly retention run): the only role that may DELETE audit
  records, and move the chain's anchor.
"""

DATABASE = "shinsei"
OWNER = "shinsei_owner"
WEB, TRANSFER, PRUNE = "shinsei-web", "shinsei-transfer", "shinsei-prune"
ROLES = (WEB, TRANSFER, PRUNE)
ALL = ("SELECT", "INSERT", "UPDATE", "DELETE")

# table -> role -> table-level privileges; columns -> role -> UPDATE-able columns.
TABLE_GRANTS = {
    "applications": {WEB: ALL, TRANSFER: ("SELECT",)},
    "status_changes": {WEB: ALL, TRANSFER: ("SELECT",)},
    "users": {WEB: ALL, TRANSFER: ("SELECT",)},
    "imports": {WEB: ALL, TRANSFER: ("SELECT",)},
    "programmes": {WEB: ALL, TRANSFER: ("SELECT",)},
    "statuses": {WEB: ALL, TRANSFER: ("SELECT",)},
    "status_wordings": {WEB: ALL, TRANSFER: ("SELECT",)},
    "status_transitions": {WEB: ALL, TRANSFER: ("SELECT",)},
    # A scheduled run records its own publication (no request from staff).
    "publications": {WEB: ALL, TRANSFER: ("SELECT", "INSERT", "UPDATE")},
    "deliveries": {WEB: ("SELECT",), TRANSFER: ("SELECT", "INSERT")},
    "published_statuses": {WEB: ("SELECT",), TRANSFER: ("SELECT", "INSERT", "DELETE")},
    "audit_records": {WEB: ("SELECT", "INSERT"), TRANSFER: ("SELECT", "INSERT"),
                      PRUNE: ("SELECT", "INSERT", "DELETE")},
    "audit_head": {WEB: ("SELECT",), TRANSFER: ("SELECT",), PRUNE: ("SELECT", "UPDATE")},
    "alembic_version": {WEB: ("SELECT",), TRANSFER: ("SELECT",), PRUNE: ("SELECT",)},
}
COLUMN_GRANTS = {"audit_head": {WEB: ("seq", "hash"), TRANSFER: ("seq", "hash")}}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def roles_sql() -> str:
    """Roles, idempotently (CREATE ROLE has no IF NOT EXISTS)."""
    lines = ["DO $$ BEGIN"]
    for role, login in ((OWNER, "NOLOGIN"), *((r, "LOGIN") for r in ROLES)):
        lines.append(f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
                     f"CREATE ROLE {quote(role)} {login}; END IF;")
    lines.append("END $$;")
    return "\n".join(lines)


def create_database_sql(database: str = DATABASE) -> str:
    return (f"CREATE DATABASE {database} OWNER {OWNER} ENCODING 'UTF8' "
            f"LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;")


def grants_sql(database: str = DATABASE) -> str:
    """Every privilege from nothing: revoke all from our roles, then grant the table above.
    Run after each migration (new tables get their grants)."""
    roles = ", ".join(quote(r) for r in ROLES)
    lines = [f"REVOKE ALL ON DATABASE {database} FROM PUBLIC;",
             f"GRANT CONNECT ON DATABASE {database} TO {roles};",
             "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
             f"GRANT USAGE ON SCHEMA public TO {roles};",
             f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {roles};",
             f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {roles};",
             f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quote(WEB)}, "
             f"{quote(TRANSFER)};"]
    for table, grants in TABLE_GRANTS.items():
        for role, privileges in grants.items():
            lines.append(f"GRANT {', '.join(privileges)} ON {table} TO {quote(role)};")
    for table, grants in COLUMN_GRANTS.items():
        for role, columns in grants.items():
            lines.append(f"GRANT UPDATE ({', '.join(columns)}) ON {table} TO {quote(role)};")
    return "\n".join(lines)


def privileges_query() -> str:
    """role, table, privilege — one row for each table-level privilege our roles hold."""
    cases = " UNION ALL ".join(
        f"SELECT '{role}' AS role, c.relname, p FROM pg_class c, unnest(ARRAY['SELECT','INSERT',"
        f"'UPDATE','DELETE','TRUNCATE']) p WHERE c.relnamespace = 'public'::regnamespace AND "
        f"c.relkind = 'r' AND has_table_privilege('{role}', c.oid, p)"
        for role in ROLES)
    return f"SELECT role || ' ' || relname || ' ' || p FROM ({cases}) t ORDER BY 1;"


def expected_privileges(tables: list[str]) -> set[str]:
    out = set()
    for table in tables:
        for role, privileges in TABLE_GRANTS.get(table, {}).items():
            out |= {f"{role} {table} {p}" for p in privileges}
    return out


def grant_differences(actual: set[str], tables: list[str]) -> list[str]:
    expected = expected_privileges(tables)
    unknown = [t for t in tables if t not in TABLE_GRANTS]
    return ([f"データベース: 権限を与える {line}" for line in sorted(expected - actual)]
            + [f"データベース: 権限を外す {line}" for line in sorted(actual - expected)]
            + [f"データベース: 表 {t} の権限がこの版の installer にありません" for t in unknown])
