"""The backup drill: a backup taken before a disposal, restored, still holds the data;
``shinsei-intranet disposal reapply`` erases it again from the disposal record, and the
audit chain still verifies. On SQLite and PostgreSQL."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy.engine import make_url

from lab.databases import postgres_bindir
from lab.intranet_ini import INI
from tests.functional.test_disposal import (  # noqa: F401  (spool, second_supervisor: fixtures)
    as_user,
    database_bytes,
    people_needles,
    populate_and_dispose,
    second_supervisor,
    spool,
)
from tests.privacy import found_in


def backup(db_url, tmp_path) -> str:
    """A full copy of the database as it is now; returns the URL of a restored copy."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        copy = tmp_path / "restored.sqlite"
        with sqlite3.connect(url.database) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        return f"sqlite:///{copy}"
    bindir = postgres_bindir()
    dump = tmp_path / "backup.dump"
    common = ["-h", url.host, "-p", str(url.port), "-U", url.username]
    subprocess.run([str(bindir / "pg_dump"), *common, "-Fc", "-f", str(dump), url.database],
                   check=True, capture_output=True)
    restored = f"{url.database}_restored"
    subprocess.run([str(bindir / "createdb"), *common, restored], check=True, capture_output=True)
    subprocess.run([str(bindir / "pg_restore"), *common, "--no-owner", "-d", restored, str(dump)],
                   check=True, capture_output=True)
    return url.set(database=restored).render_as_string(hide_password=False)


def shinsei_intranet(url, tmp_path, *args, input=None):
    config = tmp_path / "restored.ini"
    config.write_text(INI.format(url=url.replace("%", "%%")).replace(
        "[loggers]", f"imports.spool_dir = {tmp_path / 'restored-spool'}\n[loggers]"))
    command = [str(Path(sys.executable).parent / "shinsei-intranet"), "-c", str(config), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, input=input,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_a_restored_backup_is_disposed_of_again_from_the_record(
        spool, testapp, session_factory, second_supervisor, db_url, tmp_path):  # noqa: F811
    restored = []
    _programme, disposal_id = populate_and_dispose(
        testapp, session_factory, spool, second_supervisor,
        before_approval=lambda: restored.append(backup(db_url, tmp_path)))
    needles = people_needles()
    record = tmp_path / "disposal.json"
    record.write_bytes(as_user(testapp, "supervisor").get(f"/disposals/{disposal_id}.json").body)
    # The restored backup predates the disposal: the applicants are all there.
    assert len(found_in(database_bytes(restored[0], tmp_path), needles)) >= 15
    # A file that is not a record is refused with a reason, and nothing changes.
    (tmp_path / "bad.json").write_text("{}")
    refused = shinsei_intranet(restored[0], tmp_path, "disposal", "reapply",
                               str(tmp_path / "bad.json"))
    assert refused.returncode == 2 and "廃棄記録のファイルではありません" in refused.stderr
    # The runbook's way (the staff app's OS user cannot open root's file): on standard input.
    done = shinsei_intranet(restored[0], tmp_path, "disposal", "reapply", "-",
                            input=record.read_text(encoding="utf-8"))
    assert done.returncode == 0, done.stderr
    assert "3 applications erased" in done.stdout
    assert found_in(database_bytes(restored[0], tmp_path), needles) == []
    verified = shinsei_intranet(restored[0], tmp_path, "audit", "verify")
    assert verified.returncode == 0 and "audit chain OK" in verified.stdout
