"""The database's part of a set: dumped, checked and restored, per engine.

PostgreSQL: ``pg_dump -Fc`` run as the OS user peer authentication lets read every table
(``postgres`` on an installed host: pg_hba's other lines name only the apps' own roles), its
output written straight into the set's 0600 file that root opened, so that user never needs
to write in the backup directory. The check lists the archive (``pg_restore --list``) and
then reads it to the last block (a dump cut short still lists). A restore is ``pg_restore
--clean --if-exists`` in one transaction: all of it or nothing.

SQLite: the online backup API into the set, journal mode DELETE so the copy is one file;
checked with ``PRAGMA integrity_check``; restored with the same API into the live file.
"""

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

from intranet.backups import processes
from intranet.backups.errors import BackupError

FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}


def engine_of(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in FILES:
        raise BackupError(f"sqlalchemy.url: {backend} のデータベースはバックアップできません"
                          "（postgresql か sqlite）")
    return backend


def dump(url: str, run_as: str, target: Path) -> None:
    """The database at ``url`` into ``target`` (created here, 0600)."""
    if engine_of(url) == "postgresql":
        _pg_dump(url, run_as, target)
    else:
        _sqlite_dump(_sqlite_path(url), target)
    if target.stat().st_size == 0:
        raise BackupError(f"{target.name}: ダンプが 0 バイトです")


def check(engine: str, path: Path) -> None:
    """The dump in ``path`` reads back whole and holds this app's schema."""
    if engine == "postgresql":
        _pg_check(path)
    elif engine == "sqlite":
        _sqlite_check(path)
    else:
        raise BackupError(f"{path.name}: 知らないデータベースの種類です（{engine}）")


def restore(url: str, run_as: str, path: Path) -> None:
    if engine_of(url) == "postgresql":
        conninfo, env = _conninfo(url)
        with open(path, "rb") as source:     # root's 0600 file, handed over as stdin
            processes.run([processes.program("pg_restore"), "--clean", "--if-exists",
                           "--single-transaction", "--dbname", conninfo],
                          f"{path.name} をデータベースへ戻せません", user=run_as, env=env,
                          stdin=source)
        return
    live = _sqlite_path(url)
    try:
        with _sqlite_read_only(path) as source, closing(sqlite3.connect(live)) as target:
            source.backup(target)
    except sqlite3.Error as error:
        raise BackupError(f"{path.name} を {live} へ戻せません（{error}）") from None


# --- PostgreSQL ---------------------------------------------------------------------------

def _conninfo(url: str) -> tuple[str, dict]:
    """libpq's connection string for the ini's URL, the password (if any) kept out of the
    command line."""
    from psycopg.conninfo import make_conninfo

    parsed = make_url(url)
    _, options = parsed.get_dialect()().create_connect_args(parsed)
    password = options.pop("password", None)
    env = {"PGAPPNAME": "shinsei-backup", **({"PGPASSWORD": password} if password else {})}
    return make_conninfo(**{key: str(value) for key, value in options.items()}), env


def _pg_dump(url: str, run_as: str, target: Path) -> None:
    conninfo, env = _conninfo(url)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        # A regular file as stdout: pg_dump seeks back and writes the table of contents
        # with each block's offset, as with --file.
        processes.run([processes.program("pg_dump"), "-Fc", "--dbname", conninfo],
                      f"{target.name}: pg_dump", user=run_as, env=env, stdout=descriptor)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _pg_check(path: Path) -> None:
    restore = processes.program("pg_restore")
    listing = processes.run([restore, "--list", str(path)],
                            f"{path.name} を pg_restore --list で読めません").stdout.decode()
    if "TABLE DATA" not in listing or " alembic_version " not in listing:
        raise BackupError(f"{path.name}: 表のデータ（alembic_version など）がありません"
                          "（このシステムのデータベースのダンプではありません）")
    # The listing comes from the header alone; this reads every block to the end.
    processes.run([restore, "--file", os.devnull, str(path)],
                  f"{path.name} を最後まで読めません（途中で切れています）")


# --- SQLite -------------------------------------------------------------------------------

def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("sqlalchemy.url: ファイルのない SQLite はバックアップできません")
    return Path(database)


def _sqlite_read_only(path: Path):
    """The file read-only, closed on leaving (sqlite3's own context manager never closes)."""
    # immutable: nothing (no -wal, no -shm, no lock file) is created beside it.
    return closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True))


def _sqlite_dump(source_path: Path, target: Path) -> None:
    if not source_path.is_file():
        raise BackupError(f"{source_path}: データベースのファイルがありません")
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        with closing(sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)) \
                as source, closing(sqlite3.connect(target)) as copy:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as error:
        raise BackupError(f"{target.name}: {source_path} を写せません（{error}）") from None


def _sqlite_check(path: Path) -> None:
    try:
        with _sqlite_read_only(path) as copy:
            verdict = copy.execute("PRAGMA integrity_check").fetchone()[0]
            copy.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error as error:
        raise BackupError(f"{path.name} を SQLite で読めません（{error}）") from None
    if verdict != "ok":
        raise BackupError(f"{path.name}: SQLite の整合性検査で問題が見つかりました（{verdict}）")
