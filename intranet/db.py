"""Engine, session factory and the one session per request joined to pyramid_tm.

Follows the Pyramid SQLAlchemy starter: views and services never commit; the transaction
manager does, at the end of the request. CLI commands use the same factory with an
explicit ``transaction.manager``.
"""

import contextlib
import os
import pwd
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import transaction
import zope.sqlalchemy
from sqlalchemy import Engine, engine_from_config, event, select
from sqlalchemy.orm import Session, configure_mappers, sessionmaker

from intranet import ini
from intranet import settings as settings_loader

_FACTORY_KEY, _ENGINE_KEY = "dbsession_factory", "db_engine"


def session_factory_of(registry: Any) -> sessionmaker[Session]:
    """The app's session factory (for work outside the request's transaction)."""
    return cast(sessionmaker[Session], registry[_FACTORY_KEY])


def engine_of(registry: Any) -> Engine:
    """The app's engine (to dispose of it when an app is thrown away, as tests do)."""
    return cast(Engine, registry[_ENGINE_KEY])


def get_engine(settings, prefix="sqlalchemy."):
    _point_at_passfile(settings.get("shinsei.database_passfiles", ""))
    engine = engine_from_config(settings, prefix)
    if engine.dialect.name == "sqlite":
        _create_private(engine.url.database)
        _harden_sqlite(engine)
        _lock_for_update_on_sqlite(engine)
    return engine


def _point_at_passfile(folder: str) -> None:
    """With a standby, the connection string names the other intranet host too, and each OS
    user's password for it is ``<folder>/<user>.pgpass`` (install.sh, 0600, that user's):
    libpq is pointed at it (unless PGPASSFILE says otherwise) for the apps, the commands an
    administrator runs as their user, and the processes those start. Nothing without one."""
    if not folder or os.environ.get("PGPASSFILE"):
        return
    path = Path(folder) / f"{pwd.getpwuid(os.geteuid()).pw_name}.pgpass"
    if path.is_file():
        os.environ["PGPASSFILE"] = str(path)


def _create_private(database: str | None) -> None:
    """A new SQLite file holds applicants' data: made 0600 before SQLite opens it (its WAL
    and shared-memory files take the same mode). SQLite itself would follow the umask
    (0644 for the demo's files)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    # It exists (its mode is its owner's), or SQLite's own error will say why it cannot.
    with contextlib.suppress(OSError):
        os.close(os.open(database, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _harden_sqlite(engine):
    """SQLite as the embedded default: enforce foreign keys, wait on locks, WAL for readers."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _lock_for_update_on_sqlite(engine):
    """``SELECT … FOR UPDATE`` means on SQLite what it means on PostgreSQL: wait for the
    other writer, then read what it committed.

    SQLite drops ``FOR UPDATE``, so two approvers both read 「承認待ち」, both erased, and the
    second failed later (a 500) or with "database is locked" — a read snapshot cannot become
    a write once another writer has committed. Python's sqlite3 runs reads outside a
    transaction until the first write, so a locking read that starts the transaction with
    ``BEGIN IMMEDIATE`` takes the write lock first (waiting ``busy_timeout``) and then reads
    the latest rows; the second approver is told 「すでに処理済み」 as on PostgreSQL. A
    transaction that has written already holds the write lock."""

    @event.listens_for(engine, "before_execute")
    def _take_the_write_lock(connection, statement, *_args):
        if getattr(statement, "_for_update_arg", None) is None:
            return
        dbapi_connection = connection.connection.dbapi_connection
        if not dbapi_connection.in_transaction:
            dbapi_connection.execute("BEGIN IMMEDIATE")


def locked(dbsession: Session, model: Any, row_id: int) -> Any:
    """The row read again under its lock (``FOR UPDATE``; the write lock on SQLite), whatever
    the session loaded before: what a second person decides on is what was committed last."""
    return dbsession.execute(select(model).where(model.id == row_id)
                             .with_for_update(of=model)
                             .execution_options(populate_existing=True)).scalar_one_or_none()


def get_session_factory(engine):
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_tm_session(session_factory, transaction_manager, request=None):
    """A session whose commit/abort follows ``transaction_manager``.

    In a request: ``request.dbsession``. In a script::

        with transaction.manager as tm:
            dbsession = get_tm_session(factory, tm)
    """
    dbsession = session_factory(info={"request": request})
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


def includeme(config):
    settings = config.get_settings()
    settings["tm.manager_hook"] = "pyramid_tm.explicit_manager"
    config.include("pyramid_tm")
    # Each domain's models import the models they point at, so whatever is imported by
    # now maps completely; the full metadata (Alembic, tests) is intranet.models.
    configure_mappers()

    engine = get_engine(settings)
    session_factory = get_session_factory(engine)
    config.registry[_FACTORY_KEY] = session_factory
    config.registry[_ENGINE_KEY] = engine

    def dbsession(request):
        return get_tm_session(session_factory, request.tm, request=request)

    config.add_request_method(dbsession, reify=True)


@contextmanager
def open_database(config_uri: str) -> Iterator[tuple[sessionmaker[Session], dict[str, Any]]]:
    """(session factory, settings) for the intranet database named by an ini (jobs, CLIs)."""
    settings = settings_loader.load(ini.app_settings(config_uri), web=False)
    engine = get_engine(settings)
    try:
        yield get_session_factory(engine), settings
    finally:
        engine.dispose()


def streamed_rows(request, query, to_row, scalars=True):
    """Rows read in batches by a session of their own: the response streams after the
    request's transaction has ended, and memory stays flat however many rows there are."""
    factory = session_factory_of(request.registry)

    def generate():
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            dbsession = get_tm_session(factory, manager)
            result = dbsession.execute(query.execution_options(yield_per=2000))
            for item in (result.scalars() if scalars else result):
                yield to_row(item)

    return generate()

