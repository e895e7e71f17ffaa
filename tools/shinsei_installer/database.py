"""PostgreSQL for the intranet: one database, one owner nobody logs in as, and one role per
OS user (peer authentication), each with only what its program does.

- ``shinsei_owner`` (NOLOGIN) owns the schema; migrations run as it (the installer, as the
  ``postgres`` superuser, connects with ``role=shinsei_owner``).
- ``shinsei-web`` (the staff app): reads and writes every ordinary table, including tables
  later migrations add (default privileges, then the grant pass after each migration); on the audit trail it
  may only add records (INSERT) and move the chain head (UPDATE of seq and hash) — never
  UPDATE or DELETE a record, never move the retention anchor.
- ``shinsei-builder`` (the publication's builder and recorder): reads everything it publishes, records
  publications, deliveries and what was published, and adds audit records.
- ``shinsei-prune`` (the monthly retention run): the only role that may DELETE audit
  records, and move the chain's anchor.
"""

DATABASE = "shinsei"
OWNER = "shinsei_owner"
# TRANSFER is the publication's builder/recorder; its signer and pusher have no role at all.
WEB, TRANSFER, PRUNE = "shinsei-web", "shinsei-builder", "shinsei-prune"
ROLES = (WEB, TRANSFER, PRUNE)
ALL = ("SELECT", "INSERT", "UPDATE", "DELETE")

DML = ("SELECT", "INSERT", "UPDATE", "DELETE")
ALL = DML
# Every ordinary table, including those later migrations add (no installer change needed):
# the staff app reads and writes it, the transfer job reads it, the pruner never sees it.
ORDINARY = {WEB: DML, TRANSFER: ("SELECT",)}
# The exceptions, by name. The audit trail: add and read, never rewrite (the trigger refuses
# UPDATE/DELETE as well); only the pruner deletes, through its own permit table.
APPEND = ("SELECT", "INSERT")
EXCEPTIONS = {
    "audit_records": {WEB: APPEND, TRANSFER: APPEND, PRUNE: ("SELECT", "INSERT", "DELETE")},
    "audit_head": {WEB: ("SELECT",), TRANSFER: ("SELECT",), PRUNE: ("SELECT", "UPDATE")},
    "audit_prune_permits": {PRUNE: ("SELECT", "INSERT", "DELETE")},
    # Personal values beside the chain (receipt numbers, reasons): added with their record,
    # cut by a disposal the staff app carries out, never rewritten.
    "audit_personal": {WEB: ("SELECT", "INSERT", "DELETE"), TRANSFER: APPEND},
    # Noted by a trigger as records are added (intranet/audit/clock.py): whoever may add a
    # record adds its note.
    "audit_clock_steps": {WEB: APPEND, TRANSFER: APPEND, PRUNE: APPEND},
    # The relief figure's openings per day (intranet/usage/openings.py), counted by triggers
    # as records are added and pruned: an upsert, run as whoever adds or prunes a record.
    "audit_view_days": {role: ("SELECT", "INSERT", "UPDATE") for role in ROLES},
    "alembic_version": {WEB: ("SELECT",), TRANSFER: ("SELECT",), PRUNE: ("SELECT",)},
    # What the transfer job writes: a scheduled run records its own publication, its
    # deliveries, and drops the frozen rows of finished ones (but the last delivered).
    "publications": {WEB: DML, TRANSFER: ("SELECT", "INSERT", "UPDATE")},
    "publication_rows": {WEB: DML, TRANSFER: ("SELECT", "INSERT", "DELETE")},
    "deliveries": {WEB: ("SELECT",), TRANSFER: ("SELECT", "INSERT")},
    # The public hosts' daily counts, fetched by the job: a newer fetch replaces a day's.
    "usage_counts": {WEB: ("SELECT",), TRANSFER: ("SELECT", "INSERT", "DELETE")},
}
# An audit table this version does not know yet is treated as append-only, never as ordinary.
UNKNOWN_AUDIT = {WEB: APPEND, TRANSFER: APPEND, PRUNE: ("SELECT",)}
COLUMN_GRANTS = {"audit_head": {WEB: ("seq", "hash"), TRANSFER: ("seq", "hash")}}


def table_grants(table: str) -> dict[str, tuple[str, ...]]:
    """role -> table-level privileges for one table (the one rule install and --check share)."""
    if table in EXCEPTIONS:
        return EXCEPTIONS[table]
    return UNKNOWN_AUDIT if table.startswith("audit_") else ORDINARY


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
    """Every privilege from nothing: revoke all from our roles, then grant by table_grants.
    Run after each migration (it also fixes the exceptions on tables that migration added)."""
    roles = ", ".join(quote(r) for r in ROLES)
    lines = [f"REVOKE ALL ON DATABASE {database} FROM PUBLIC;",
             f"GRANT CONNECT ON DATABASE {database} TO {roles};",
             # The import writes each chunk through a temporary table (COPY, then one
             # set-based statement): the staff app alone needs TEMP, which PUBLIC loses above.
             f"GRANT TEMPORARY ON DATABASE {database} TO {quote(WEB)};",
             "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
             f"GRANT USAGE ON SCHEMA public TO {roles};",
             f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {roles};",
             f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {roles};",
             f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quote(WEB)}, "
             f"{quote(TRANSFER)};"]
    # Tables that exist now: the ordinary rule for all, then each exception from nothing.
    lines.append(f"GRANT {', '.join(DML)} ON ALL TABLES IN SCHEMA public TO {quote(WEB)};")
    lines.append(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {quote(TRANSFER)};")
    lines.append(_exceptions_sql(roles))
    # Tables a later migration creates (as the owner) get the ordinary rule at once; the
    # grant pass after every migration then applies the exceptions to them.
    for role, privileges in ORDINARY.items():
        lines.append(f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public "
                     f"GRANT {', '.join(privileges)} ON TABLES TO {quote(role)};")
    lines.append(f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public "
                 f"GRANT USAGE, SELECT ON SEQUENCES TO {quote(WEB)}, {quote(TRANSFER)};")
    for table, grants in COLUMN_GRANTS.items():
        for role, columns in grants.items():
            lines.append(f"GRANT UPDATE ({', '.join(columns)}) ON {table} TO {quote(role)};")
    # The pruner has no sequences but the one for the permits it inserts.
    lines.append("DO $$ DECLARE s text := pg_get_serial_sequence('audit_prune_permits', 'id'); "
                 f"BEGIN IF s IS NOT NULL THEN EXECUTE 'GRANT USAGE ON SEQUENCE ' || s || "
                 f"' TO {quote(PRUNE)}'; END IF; END $$;")
    return "\n".join(lines)


def _exceptions_sql(roles: str) -> str:
    """A DO block: every exception table, and every audit_* table present, from nothing."""
    listed = ", ".join(f"'{t}'" for t in EXCEPTIONS)
    cases = " ".join(
        f"IF t = '{table}' THEN {' '.join(_grant(table, role, p) for role, p in grants.items())}"
        f" END IF;" for table, grants in EXCEPTIONS.items())
    unknown = " ".join(_grant("' || quote_ident(t) || '", role, p, dynamic=True)
                       for role, p in UNKNOWN_AUDIT.items())
    return ("DO $$ DECLARE t text; BEGIN FOR t IN SELECT relname FROM pg_class WHERE "
            "relnamespace = 'public'::regnamespace AND relkind = 'r' AND (relname IN "
            f"({listed}) OR relname LIKE 'audit\\_%') LOOP "
            f"EXECUTE 'REVOKE ALL ON ' || quote_ident(t) || ' FROM {roles}'; "
            f"{cases} IF t NOT IN ({listed}) THEN {unknown} END IF; END LOOP; END $$;")


def _grant(table, role, privileges, dynamic=False):
    target = table if dynamic else quote(table).replace("'", "''")
    return f"EXECUTE 'GRANT {', '.join(privileges)} ON {target} TO {quote(role)}';"


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
        for role, privileges in table_grants(table).items():
            out |= {f"{role} {table} {p}" for p in privileges}
    return out


def grant_differences(actual: set[str], tables: list[str]) -> list[str]:
    expected = expected_privileges(tables)
    return ([f"データベース: 権限を与える {line}" for line in sorted(expected - actual)]
            + [f"データベース: 権限を外す {line}" for line in sorted(actual - expected)])
