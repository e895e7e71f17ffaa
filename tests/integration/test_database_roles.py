"""The installer's PostgreSQL roles on a real server: each program can do its work and no
more. The staff app cannot edit or delete audit records, nor move the retention anchor;
only the retention run deletes them; the transfer job publishes with its own role."""

import sys
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import transaction
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from intranet import migrations
from intranet.audit import services as audit_services
from intranet.audit.retention import prune
from intranet.db import get_engine, get_session_factory, get_tm_session
from intranet.imports.apply import apply_import
from intranet.programmes.models import Programme
from intranet.publications import services as publications
from intranet.publications.job import PublishPlan, publish
from intranet.statuses.services import load_catalogue
from intranet.users.services import add_user
from lab.import_files import PEOPLE, encoded
from tests.conftest import PASSWORD, TEST_ACTOR
from tests.factories import make_applications, make_programme
from transfer.keys import generate_lookup_key, generate_signing_key
from transfer.transports import OutboxDestination
from transfer.verify import Origin

sys.path.insert(0, str(Path(__file__).parents[2] / "tools"))
from shinsei_installer import database as roles

pytestmark = pytest.mark.postgresql
NAME = "shinsei_roles"


@pytest.fixture(scope="module")
def installed(postgres_cluster):
    """Roles, database and grants exactly as install.sh makes them; migrations as the owner."""
    cluster = postgres_cluster
    cluster.admin(f"DROP DATABASE IF EXISTS {NAME}")
    cluster.admin(roles.roles_sql())
    cluster.admin(roles.create_database_sql(NAME))
    owner = get_engine({"sqlalchemy.url": cluster.url(NAME) + "?options=-c%20role%3Dshinsei_owner"})
    migrations.initialise(owner, get_session_factory(owner), TEST_ACTOR)
    owner.dispose()
    with psycopg.connect(f"host=127.0.0.1 port={cluster.port} user=shinsei dbname={NAME}",
                         autocommit=True) as conn:
        conn.execute(roles.grants_sql(NAME))
    engines = {}
    yield lambda role: engines.setdefault(role, get_engine(
        {"sqlalchemy.url": cluster.url(NAME).replace("//shinsei@", f"//{role}@")}))
    for engine in engines.values():
        engine.dispose()
    cluster.admin(f"DROP DATABASE {NAME} WITH (FORCE)")


def as_role(installed, role, sql):
    with installed(role).begin() as connection:
        return connection.execute(text(sql))


def test_privileges_are_what_the_installer_checks(installed):
    with installed(roles.WEB).connect() as connection:
        tables = connection.execute(text(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND relkind = 'r'")).scalars().all()
        actual = set(connection.execute(text(roles.privileges_query())).scalars().all())
    # Every table the migrations make has its grants, and nothing more is granted.
    assert roles.grant_differences(actual, tables) == []


def test_web_role_works_and_cannot_rewrite_the_audit_trail(installed):
    factory = get_session_factory(installed(roles.WEB))
    with transaction.manager:
        add_user(get_tm_session(factory, transaction.manager), TEST_ACTOR, "staff", "staff",
                 "staff", PASSWORD)
    for attack in ("UPDATE audit_records SET actor = 'someone else'",
                   "DELETE FROM audit_records",
                   "TRUNCATE audit_records",
                   "UPDATE audit_head SET base_seq = 0, base_hash = repeat('0', 64)",
                   "INSERT INTO audit_prune_permits (through_seq) VALUES (1000000)",
                   "CREATE TABLE sneaky (id int)"):
        with pytest.raises(ProgrammingError, match="permission denied"):
            as_role(installed, roles.WEB, attack)
    with transaction.manager:
        assert audit_services.verify(get_tm_session(factory, transaction.manager)).ok


def test_web_role_imports_through_its_temporary_table(installed):
    """The import's COPY into a temporary table works under the installer's grants (REVOKE
    ALL ON DATABASE FROM PUBLIC takes TEMP away unless the staff app's role gets it back)."""
    factory = get_session_factory(installed(roles.WEB))
    programme_id = make_programme(factory, code="roles-import")
    with transaction.manager:
        dbsession = get_tm_session(factory, transaction.manager)
        plan = apply_import(dbsession, TEST_ACTOR, None, dbsession.get(Programme, programme_id),
                            load_catalogue(dbsession), encoded(PEOPLE), "roles.csv")
    assert dict(plan.counts) == {"new": 3, "changed": 0, "unchanged": 0}
    for role in (roles.TRANSFER, roles.PRUNE):
        with pytest.raises(ProgrammingError, match="permission denied"):
            as_role(installed, role, "CREATE TEMPORARY TABLE t (x int)")


def test_transfer_role_publishes(installed, tmp_path):
    web = get_session_factory(installed(roles.WEB))
    make_applications(web, make_programme(web), 5)
    with transaction.manager:        # the staff app: frozen, approved by a second person
        dbsession = get_tm_session(web, transaction.manager)
        requester = add_user(dbsession, TEST_ACTOR, "requester", "r", "staff", PASSWORD)
        approver = add_user(dbsession, TEST_ACTOR, "approver", "a", "supervisor", PASSWORD)
        publication = publications.request_publication(dbsession, TEST_ACTOR, requester,
                                                       "roles", True)
        publications.decide(dbsession, TEST_ACTOR, approver, publication, True, True,
                            digest=publication.content_digest)
    signing = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")
    plan = PublishPlan([signing], generate_lookup_key(tmp_path / "lookup.key"),
                       Origin("131016", "prod"), [OutboxDestination(tmp_path)],
                       timedelta(hours=72), TEST_ACTOR)
    _, deliveries = publish(get_session_factory(installed(roles.TRANSFER)), plan, scheduled=True)
    assert [d.delivered for d in deliveries] == [True]
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_role(installed, roles.TRANSFER, "DELETE FROM audit_records")
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_role(installed, roles.TRANSFER, "UPDATE applications SET status_code = 'x'")
    # The job replaces a public host's daily counts after each delivery (seen failing on
    # booted hosts: the role could only read them); the staff app only reads them.
    as_role(installed, roles.TRANSFER, "INSERT INTO usage_counts SELECT 'public-1', id, "
            "CURRENT_DATE, 3, 2, 1, 0, CURRENT_TIMESTAMP FROM programmes LIMIT 1")
    as_role(installed, roles.TRANSFER, "DELETE FROM usage_counts WHERE host = 'public-1'")
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_role(installed, roles.WEB, "DELETE FROM usage_counts")


def test_only_the_prune_role_removes_expired_records(installed, tmp_path):
    signing = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")
    with transaction.manager:       # the transfer job signs the head: prune may cut there
        checkpoint = audit_services.take_checkpoint(get_tm_session(
            get_session_factory(installed(roles.TRANSFER)), transaction.manager),
            TEST_ACTOR, signing, None)
    factory = get_session_factory(installed(roles.PRUNE))
    with transaction.manager:
        removed = prune(get_tm_session(factory, transaction.manager), TEST_ACTOR, -1,
                        tmp_path / "archive.jsonl", [checkpoint])
    assert removed > 0
    with transaction.manager:
        assert audit_services.verify(get_tm_session(factory, transaction.manager)).ok
    with pytest.raises(ProgrammingError, match="permission denied"):
        as_role(installed, roles.PRUNE, "UPDATE applications SET status_code = 'x'")


def test_a_table_a_later_migration_adds_needs_no_installer_change(installed, postgres_cluster):
    """Another branch's new table: the owner's default privileges give it the ordinary rule at
    once; a new audit_* table is append-only after the grant pass, as --check expects."""
    with installed("shinsei").begin() as connection:
        connection.execute(text("SET ROLE shinsei_owner"))
        connection.execute(text("CREATE TABLE search_keys (id serial PRIMARY KEY, k text)"))
        connection.execute(text("CREATE TABLE audit_exports (id serial PRIMARY KEY, k text)"))
    as_role(installed, roles.WEB, "INSERT INTO search_keys (k) VALUES ('a')")
    as_role(installed, roles.WEB, "UPDATE search_keys SET k = 'b'")
    as_role(installed, roles.WEB, "DELETE FROM search_keys")
    with psycopg.connect(f"host=127.0.0.1 port={postgres_cluster.port} user=shinsei "
                         f"dbname={NAME}", autocommit=True) as conn:
        conn.execute(roles.grants_sql(NAME))
    as_role(installed, roles.WEB, "INSERT INTO audit_exports (k) VALUES ('a')")
    for attack in ("UPDATE audit_exports SET k = 'b'", "DELETE FROM audit_exports"):
        with pytest.raises(ProgrammingError, match="permission denied"):
            as_role(installed, roles.WEB, attack)
    test_privileges_are_what_the_installer_checks(installed)
