"""A small intranet host in a folder: an SQLite database with this app's schema version, an
/etc/shinsei with a pinned known_hosts, a checkpoint file; and a fake pg_dump on PATH for
the PostgreSQL paths a unit test can reach without a server."""

import sqlite3
import stat
from contextlib import closing
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from intranet.backups.settings import BackupSettings

NOW = datetime(2026, 12, 6, 2, 30, 0)
CHECKPOINT = b'{"count": 3, "head_hash": "ab", "at": "2026-12-05T01:00:00.000000Z"}\n'


@pytest.fixture
def host(tmp_path) -> BackupSettings:
    database = tmp_path / "intranet.sqlite"
    with closing(sqlite3.connect(database)) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('0012')")
        connection.execute("CREATE TABLE applications (id INTEGER PRIMARY KEY, receipt TEXT)")
        connection.executemany("INSERT INTO applications (receipt) VALUES (?)",
                               [(f"1000-{n:04d}",) for n in range(500)])
        connection.commit()
    config = tmp_path / "etc-shinsei"
    (config / "pusher").mkdir(parents=True)
    (config / "intranet.ini").write_text("[app:main]\n")
    (config / "pusher" / "known_hosts").write_text(
        "198.51.100.2 ssh-ed25519 AAAAC3Nza1\n198.51.100.3 ssh-ed25519 AAAAC3Nza2\n")
    (config / "session-secret").write_text("secret\n")
    (config / "session-secret").chmod(0o600)
    checkpoints = tmp_path / "checkpoints.jsonl"
    checkpoints.write_bytes(CHECKPOINT * 2)
    return BackupSettings(directory=tmp_path / "backups", retention_days=35, max_age_hours=26,
                          database_url=f"sqlite:///{database}", database_user="",
                          config_directory=config, host_files=(),
                          checkpoint_file=checkpoints,
                          web_service="", verify_user="")


@pytest.fixture
def fake_pg_dump(tmp_path, monkeypatch, host):
    """``fake_pg_dump(script)``: PATH's pg_dump is that shell script, and the host's
    database a PostgreSQL one."""
    folder = tmp_path / "bin"
    folder.mkdir()

    def install(script: str) -> BackupSettings:
        program = folder / "pg_dump"
        program.write_text(f"#!/bin/sh\n{script}\n")
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
        monkeypatch.setenv("PATH", f"{folder}:{Path('/usr/bin')}:{Path('/bin')}")
        return replace(host, database_url="postgresql+psycopg:///shinsei?host=/run/postgresql")

    return install


def entries(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())
