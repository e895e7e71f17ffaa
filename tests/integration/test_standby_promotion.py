"""The intranet's database with a streaming standby, on two real PostgreSQL clusters set up
the way the installer sets up two intranet hosts (tools/shinsei_installer/replication.py):
TLS with the primary's certificate pinned, the replication role and the staff app's role
authenticated by SCRAM from their passfiles, a replication slot, synchronous commit.

The staff app works through the multi-host connection string; in the middle of its work the
primary goes away at once (immediate stop: no shutdown checkpoint, as a host losing power);
the standby is promoted by the runbook's command; the app's very next request is served
without a restart, nothing it confirmed is missing, the audit chain and its signed
checkpoints verify, and the next publication's sequence follows the last without a gap or
a fork. The old primary then comes back as the new standby by the runbook's base backup."""

import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import transaction
import webtest
from sqlalchemy import select

from intranet import cli, main, migrations
from intranet.applications.models import Application
from intranet.db import engine_of, get_engine, get_session_factory, get_tm_session
from intranet.publications import services as publications
from intranet.publications.job import PublishPlan, publish
from intranet.users.services import add_user
from lab.databases import PostgresCluster, postgres_bindir
from tests.conftest import PASSWORD, SESSION_SECRET, TEST_ACTOR, csrf_token, login
from tests.e2e import documented
from tests.factories import make_applications, make_programme
from transfer.keys import generate_lookup_key, generate_signing_key
from transfer.transports import OutboxDestination
from transfer.verify import Origin

sys.path.insert(0, str(Path(__file__).parents[2] / "tools"))
from shinsei_installer import database as roles
from shinsei_installer import replication
from shinsei_installer.host import Host

pytestmark = pytest.mark.postgresql
PEER = "127.0.0.1"      # on one machine the "other host" is loopback, TCP and TLS all the same
INI = "[app:main]\nuse = egg:shinsei-status#intranet\nsqlalchemy.url = {url}\n"


class Pair:
    """Two clusters and the installer's files for them, under one tree (``Host(root)``)."""

    def __init__(self):
        # Outside pytest's own folder, which the servers' account may not enter.
        self.tmp = Path(tempfile.mkdtemp(prefix="shinsei-standby-"))
        self.host = Host(self.tmp / "root")
        self.folder = self.host.path(replication.FOLDER)
        self.folder.mkdir(parents=True)
        self.primary: PostgresCluster = None
        self.standby: PostgresCluster = None

    def installer_files(self, account: str | None):
        """The database certificate (the installer's own script) and each connecting role's
        passfile, owned by the account the servers run as (postgres reads its key)."""
        subprocess.run([sys.executable, "-c", replication.CERT_KEYGEN,
                        str(self.folder / "server.crt"), str(self.folder / "server.key")],
                       check=True)
        for role in replication.CONNECTING:
            path = self.host.path(replication.passfile(role))
            path.write_bytes(replication.new_password(role))
            path.chmod(0o600)
        if account:
            entry = pwd.getpwnam(account)
            for path in [self.tmp, self.host.root, *self.host.root.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def tls(self) -> str:
        return (f"-c ssl=on -c ssl_cert_file={self.folder}/server.crt "
                f"-c ssl_key_file={self.folder}/server.key -c ssl_min_protocol_version=TLSv1.2 "
                "-c synchronous_commit=on")

    def psql(self, cluster):
        """The installer's ``_psql`` for this cluster: one statement (or a few), as text."""
        def run(_host, sql, database="postgres"):
            rows = cluster.sql(sql, database)
            return "\n".join(str(row[0]) for row in rows).strip()
        return run

    def web_settings(self) -> dict:
        """What the installer writes for the staff app (replication.database_url), with the
        local leg on TCP too; the password found as installed hosts find it, in the passfile
        named after the OS user (this test's: a copy of the staff app's)."""
        user = pwd.getpwuid(os.geteuid()).pw_name
        shutil.copy(self.host.path(replication.passfile(roles.WEB)), self.folder / f"{user}.pgpass")
        return {"sqlalchemy.url": (
                    f"postgresql+psycopg://{roles.WEB}@/{roles.DATABASE}?host={PEER},{PEER}"
                    f"&port={self.primary.port},{self.standby.port}"
                    f"&target_session_attrs=read-write&sslmode=verify-ca"
                    f"&sslrootcert={self.folder}/server.crt"),
                "shinsei.database_passfiles": str(self.folder)}

    def socket_url(self, user: str) -> str:
        """The builder's and recorder's: both hosts' sockets, whichever accepts writes."""
        return (f"postgresql+psycopg://{user}@/{roles.DATABASE}?host={self.primary.root},"
                f"{self.standby.root}&port={self.primary.port},{self.standby.port}"
                "&target_session_attrs=read-write")


def hba_first(cluster: PostgresCluster, lines: list[str]) -> None:
    hba = cluster.data / "pg_hba.conf"
    hba.write_text("\n".join(lines) + "\n" + hba.read_text())
    cluster.sql("SELECT pg_reload_conf()")


def wait_for(what, predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"still not {what} after {timeout:.0f} s")


def replication_state(cluster):
    return cluster.sql("SELECT application_name, state, sync_state FROM pg_stat_replication")


@pytest.fixture
def pair():
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries not found: run `make test` (it installs them)")
    pair = Pair()
    pair.primary = PostgresCluster(bindir)
    pair.standby = PostgresCluster(bindir)
    pair.installer_files(pair.primary.run_as)
    pair.primary.options = pair.standby.options = pair.tls()
    pair.primary.start()
    try:
        # The installer's pg_hba.conf lines for the other host (here: loopback), first.
        hba_first(pair.primary, replication.hba_lines({"STANDBY_HOST": PEER}))
        install_database(pair)
        pair.standby.standby_of(replication.conninfo(PEER, str(pair.primary.port),
                                                     str(pair.folder)), "-S", replication.SLOT)
        wait_for("streaming", lambda: replication_state(pair.primary)
                 == [(replication.APPLICATION, "streaming", "async")])
        # STANDBY_MODE=sync, once the standby is there (before, every commit would wait).
        pair.primary.sql(f"ALTER SYSTEM SET synchronous_standby_names = "
                         f"'{replication.APPLICATION}'")
        pair.primary.sql("SELECT pg_reload_conf()")
        wait_for("synchronous", lambda: replication_state(pair.primary)
                 == [(replication.APPLICATION, "streaming", "sync")])
        yield pair
    finally:
        for cluster in (pair.primary, pair.standby):
            if (cluster.data / "postmaster.pid").exists():
                cluster.halt()
            shutil.rmtree(cluster.root, ignore_errors=True)
        shutil.rmtree(pair.tmp, ignore_errors=True)


def install_database(pair: Pair) -> None:
    """Roles, database, schema and grants as install.sh makes them; then the replication
    role, the passwords and the slot by the installer's own step (set_passwords)."""
    cluster, psql = pair.primary, pair.psql(pair.primary)
    cluster.sql(roles.roles_sql())
    cluster.sql(roles.create_database_sql())
    owner = get_engine({"sqlalchemy.url": cluster.socket_url(roles.DATABASE)
                        + "&options=-c%20role%3Dshinsei_owner"})
    migrations.initialise(owner, get_session_factory(owner), TEST_ACTOR)
    owner.dispose()
    cluster.sql(roles.grants_sql(), roles.DATABASE)
    assert replication.password_differences(pair.host, psql) != []
    replication.set_passwords(pair.host, psql)
    assert replication.password_differences(pair.host, psql) == []   # a second run: nothing


def change(app, application_id, status):
    page = app.get(f"/applications/{application_id}")
    version = re.search(r'name="version" value="(\d+)"', page.text).group(1)
    data = {"csrf_token": csrf_token(page), "version": version, "status": status}
    app.post(f"/applications/{application_id}/status", data, status=200)
    return app.post(f"/applications/{application_id}/status", {**data, "confirm": "1"},
                    status=303)


def publish_once(pair: Pair, tmp_path: Path, note: str) -> None:
    web = get_engine(pair.web_settings())
    try:
        with transaction.manager:
            dbsession = get_tm_session(get_session_factory(web), transaction.manager)
            requester = add_user(dbsession, TEST_ACTOR, f"req-{note}", "r", "staff", PASSWORD)
            approver = add_user(dbsession, TEST_ACTOR, f"app-{note}", "a", "supervisor",
                                PASSWORD)
            publication = publications.request_publication(dbsession, TEST_ACTOR, requester,
                                                           note, True)
            publications.decide(dbsession, TEST_ACTOR, approver, publication, True, True,
                                digest=publication.content_digest)
    finally:
        web.dispose()
    builder = get_engine({"sqlalchemy.url": pair.socket_url(roles.TRANSFER)})
    (tmp_path / "outbox").mkdir(exist_ok=True)
    try:
        plan = PublishPlan([pair.signing], pair.lookup, Origin("131016", "prod"),
                           [OutboxDestination(tmp_path / "outbox")], timedelta(hours=72),
                           TEST_ACTOR, checkpoint_file=tmp_path / "checkpoints.jsonl")
        _, deliveries = publish(get_session_factory(builder), plan, scheduled=True)
        assert [d.delivered for d in deliveries] == [True]
    finally:
        builder.dispose()


def delivered(tmp_path: Path) -> list[int]:
    """The sequence numbers of the snapshots in the outbox (what a public host received)."""
    return sorted(int(re.fullmatch(r"snapshot-(\d+)\.bin", path.name)[1])
                  for path in (tmp_path / "outbox").glob("snapshot-*.bin"))


def test_the_replication_connection_is_tls_from_the_standby_with_its_password_only(pair):
    """What pg_hba.conf and the role allow, tried from the standby's address: without TLS,
    with a wrong password, or to a database, the replication role is refused."""
    good = replication.conninfo(PEER, str(pair.primary.port), str(pair.folder))
    with psycopg.connect(good + " replication=true", autocommit=True) as conn:
        assert conn.execute("IDENTIFY_SYSTEM").fetchone()[0]
    refused = {
        "without TLS": good.replace("sslmode=verify-ca", "sslmode=disable") + " replication=true",
        "a wrong password": good.replace(f"passfile={pair.folder}/shinsei_replication.pgpass",
                                         "password=guess") + " replication=true",
        "a database": good + " dbname=shinsei",
        "another database": good + " dbname=postgres",
    }
    for what, conninfo in refused.items():
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(conninfo, connect_timeout=10).close()
            pytest.fail(f"the replication role got in with {what}")
    # A certificate other than the pinned one is not trusted.
    other = pair.tmp / "other"
    other.mkdir()
    subprocess.run([sys.executable, "-c", replication.CERT_KEYGEN, str(other / "server.crt"),
                    str(other / "server.key")], check=True)
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(good.replace(f"sslrootcert={pair.folder}/server.crt",
                                     f"sslrootcert={other}/server.crt") + " replication=true")
    # The role holds nothing but REPLICATION and LOGIN.
    flags = pair.primary.sql("SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, "
                             "rolreplication, rolcanlogin FROM pg_roles WHERE rolname = "
                             "'shinsei_replication'")
    assert flags == [(False, False, False, False, True, True)]


def test_a_promotion_in_the_middle_of_staff_work_loses_nothing(pair, tmp_path, monkeypatch):
    monkeypatch.setenv("PGPASSFILE", "")     # unset for the app; put back as it was after
    session = get_session_factory(get_engine({"sqlalchemy.url": pair.socket_url("shinsei")}))
    engine = session.kw["bind"]
    programme = make_programme(session)
    ids = make_applications(session, programme, 12)
    with transaction.manager:
        add_user(get_tm_session(session, transaction.manager), TEST_ACTOR, "staff", "職員",
                 "staff", PASSWORD)
    engine.dispose()
    pair.signing = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")
    pair.lookup = generate_lookup_key(tmp_path / "lookup.key")
    publish_once(pair, tmp_path, "before")
    before = delivered(tmp_path)
    assert len(before) == 1

    app = main({}, **{**pair.web_settings(), "sqlalchemy.pool_pre_ping": "true",
                      "imports.spool_dir": str(tmp_path / "spool"),
                      "session.secret": SESSION_SECRET, "session.secure_cookie": "false",
                      "shinsei.municipality_name": "テスト市"})
    staff = webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})
    try:
        login(staff, "staff")
        confirmed = {}
        for application in ids[:8]:              # staff at work: each change confirmed (303)
            change(staff, application, "reviewing")
            confirmed[application] = "reviewing"

        pair.primary.halt()                      # the primary's host loses power
        failed_at = time.monotonic()
        promote = documented.blocks("runbook")["standby-promote"]
        assert "SELECT pg_promote()" in promote
        pair.standby.sql("SELECT pg_promote()")  # the runbook's command, on the standby

        # The same app, not restarted: its next request finds the new primary.
        page = staff.get(f"/applications/{ids[0]}", status=200)
        first_page = time.monotonic() - failed_at
        assert "審査中" in page.text or "reviewing" in page.text
        for application in ids[8:]:
            change(staff, application, "reviewing")
            confirmed[application] = "reviewing"
    finally:
        engine_of(app.registry).dispose()

    new_primary = get_session_factory(get_engine({"sqlalchemy.url":
                                                  pair.standby.socket_url(roles.DATABASE)}))
    with new_primary() as dbsession:
        held = dict(dbsession.execute(select(Application.id, Application.status_code)
                                      .where(Application.id.in_(ids))).all())
    assert held == confirmed, "a change confirmed before the failure is missing"
    new_primary.kw["bind"].dispose()

    publish_once(pair, tmp_path, "after")
    sequences = [row[0] for row in pair.standby.sql(
        "SELECT sequence FROM publications WHERE sequence IS NOT NULL ORDER BY id",
        roles.DATABASE)]
    # The new primary knows the publication the public hosts received before the failure
    # (no fork: it is not numbered again) and numbers the next one after it (no gap of an
    # unknown publication between them): what was delivered is what is recorded.
    assert sequences[0] == before[0] and sequences[1] > sequences[0], sequences
    assert delivered(tmp_path) == sequences

    config = tmp_path / "verify.ini"
    config.write_text(INI.format(url=pair.socket_url("shinsei").replace("%", "%%")))
    assert cli.main(["-c", str(config), "audit", "verify", "--workers", "1",
                     "--checkpoints", str(tmp_path / "checkpoints.jsonl"),
                     "--trusted-key", str(tmp_path / "sign.key.pub")]) == 0
    print(f"promotion: from the primary's failure to the first staff page {first_page:.2f} s")

    # The old primary comes back as the new standby: the runbook's base backup, with the
    # installer's connection (a slot made on the new primary), its old data kept aside.
    rejoin = documented.blocks("runbook")["standby-rejoin"]
    assert f'-d "{replication.conninfo("<NEW_PRIMARY>")}"' in rejoin
    assert f"-R -C -S {replication.SLOT} -X stream -c fast" in rejoin
    pair.primary.data.rename(pair.primary.root / "data.old-primary")
    pair.primary.standby_of(replication.conninfo(PEER, str(pair.standby.port), str(pair.folder)),
                            "-C", "-S", replication.SLOT)
    wait_for("streaming back", lambda: replication_state(pair.standby)
             == [(replication.APPLICATION, "streaming", "async")])
    assert pair.primary.sql("SELECT pg_is_in_recovery()") == [(True,)]
