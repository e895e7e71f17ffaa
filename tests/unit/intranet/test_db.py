"""The embedded SQLite database holds applicants' data: its files are the owner's alone."""

import os
import stat

from sqlalchemy import text

from intranet.db import get_engine


def test_a_new_sqlite_database_and_its_wal_are_0600_whatever_the_umask(tmp_path):
    # The attack: the demo's files were 0644, readable by every account on the machine.
    database = tmp_path / "intranet.sqlite"
    previous = os.umask(0o022)
    try:
        engine = get_engine({"sqlalchemy.url": f"sqlite:///{database}"})
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
        files = [database, *tmp_path.glob("intranet.sqlite-*")]
        assert any(path.name.endswith("-wal") for path in files)
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        engine.dispose()
    finally:
        os.umask(previous)


def test_an_existing_database_keeps_its_mode(tmp_path):
    database = tmp_path / "kept.sqlite"
    database.touch(mode=0o640)
    database.chmod(0o640)
    get_engine({"sqlalchemy.url": f"sqlite:///{database}"}).dispose()
    assert stat.S_IMODE(database.stat().st_mode) == 0o640
