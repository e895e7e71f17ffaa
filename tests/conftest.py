"""Fixtures shared by every layer of the suite.

Every test that touches the database runs twice: on SQLite (the embedded default) and on
PostgreSQL (the production engine), each in a fresh database.
"""

import os
import re

import pytest
import transaction
import webtest
from hypothesis import settings

from intranet import main, migrations
from intranet.audit.writer import Actor, utcnow
from intranet.auth import passwords
from intranet.auth.models import ROLES, User
from intranet.db import engine_of, get_engine, get_session_factory, get_tm_session
from lab.clock import clear_of_midnight
from lab.databases import (
    PostgresCluster,
    SqliteTemplate,
    fresh_postgres_database,
    postgres_bindir,
)
from lab.mirror_fixtures import PublicHost

PASSWORD = "correct horse battery staple"
SESSION_SECRET = "test-session-secret-" + "x" * 32
TEST_ACTOR = Actor(name="test", role="cli", host="localhost", os_user="test")
# Property tests judge values, not time: Hypothesis's default 200 ms per example fails a test
# (DeadlineExceeded, or "Unreliable test timings" when the replay is quick) whenever the
# 2-core machine stalls one example, e.g. beside a booted host's start.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")
BACKENDS = [b for b in os.environ.get("SHINSEI_TEST_DATABASES", "sqlite,postgresql").split(",") if b]


@pytest.fixture(autouse=True)
def _clear_of_midnight():
    """No test straddles a midnight (Japan's or UTC's): one that starts in the last minute
    of a day waits until the next has begun. Run K crossed Japan's midnight at 00:00 JST:
    records opened at 00:00:05 were counted on the day after the one the test had read
    at its start."""
    clear_of_midnight(60)


def _migrate(url):
    engine = get_engine({"sqlalchemy.url": url})
    migrations.initialise(engine, get_session_factory(engine), TEST_ACTOR)
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template():
    template = SqliteTemplate()
    _migrate(template.url())
    yield template
    template.stop()


@pytest.fixture(scope="session")
def postgres_cluster():
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL server binaries not found: run `make test` (it installs them)")
    cluster = PostgresCluster(bindir).start()
    cluster.admin("CREATE DATABASE shinsei_template")
    _migrate(cluster.url("shinsei_template"))
    yield cluster
    cluster.stop()


@pytest.fixture(params=BACKENDS)
def db_url(request):
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_template").fresh()
        return
    cluster = request.getfixturevalue("postgres_cluster")
    name, url = fresh_postgres_database(cluster)
    yield url
    cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def engine(db_url):
    engine = get_engine({"sqlalchemy.url": db_url})
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine):
    return get_session_factory(engine)


@pytest.fixture
def tm():
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    yield manager
    if manager.isDoomed() or manager.get().status == "Active":
        manager.abort()


@pytest.fixture
def dbsession(session_factory, tm):
    return get_tm_session(session_factory, tm)


@pytest.fixture(scope="session")
def password_hash():
    # Hashing is slow by design: once for the whole run.
    return passwords.hash_password(PASSWORD)


@pytest.fixture
def accounts(session_factory, password_hash):
    """One account per role, committed: username == role."""
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        for role in ROLES:
            dbsession.add(User(username=role, display_name=f"{role} user", role=role,
                               password_hash=password_hash, created_at=utcnow()))
    return ROLES


@pytest.fixture
def app_settings(db_url, tmp_path):
    return {
        "sqlalchemy.url": db_url,
        # Each test's own uploads: the default (the system's temp folder) is shared by every
        # test worker, and one test's expiry would remove another's upload.
        "imports.spool_dir": str(tmp_path / "spool"),
        "session.secret": SESSION_SECRET,
        "session.secure_cookie": "false",
        "shinsei.municipality_name": "テスト市",
    }


@pytest.fixture
def wsgi_app(app_settings, engine):
    app = main({}, **app_settings)
    yield app
    engine_of(app.registry).dispose()


@pytest.fixture
def app_with(app_settings):
    """A test client on the app built with ``app_settings`` plus overrides; its database
    connections are closed at teardown even when the test fails (a pool left to the garbage
    collector reports its connections in whichever later test happens to run)."""
    built = []

    def build(**overrides):
        app = main({}, **{**app_settings, **overrides})
        built.append(app)
        return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})

    yield build
    for app in built:
        engine_of(app.registry).dispose()


@pytest.fixture
def testapp(wsgi_app, accounts):
    return webtest.TestApp(wsgi_app, extra_environ={"REMOTE_ADDR": "192.0.2.10"})


def csrf_token(response) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', response.text)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(testapp, username, password=PASSWORD, status=303):
    page = testapp.get("/login")
    return testapp.post("/login", {"username": username, "password": password,
                                   "csrf_token": csrf_token(page)}, status=status)


@pytest.fixture
def as_role(testapp):
    """Log the test client in as ``role`` and return it."""

    def _as(role):
        login(testapp, role)
        return testapp

    return _as


def main_form(page):
    """The page's last form: the one in <main> (the header holds language and sign-out)."""
    return page.forms[max(key for key in page.forms if isinstance(key, int))]


@pytest.fixture
def public_host(tmp_path):
    """A public host in a temporary directory (``lab.mirror_fixtures``)."""
    return PublicHost(tmp_path)


@pytest.fixture
def mirror(public_host):
    """The public host's residents' app, answering from a published snapshot."""
    public_host.publish()
    return public_host.app()
