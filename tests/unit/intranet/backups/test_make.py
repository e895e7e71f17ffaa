"""Making a set, and every way it can go wrong: each failure is one sentence naming the file
and why, leaves no set that looks complete, removes no old set and is what `backup status`
reports next."""

import errno
import json
import os
import stat
import subprocess
import tarfile
from dataclasses import replace
from datetime import timedelta

import pytest

from intranet.backups import make, sets, status
from intranet.backups.errors import BackupError
from tests.unit.intranet.backups.conftest import CHECKPOINT, NOW, entries


def test_a_set_is_private_checked_and_holds_every_part(host):
    said = []
    made = make.run(host, NOW, said.append)
    assert made == host.directory / "2026-12-06T023000" and said[-1] == str(made)
    assert entries(made) == ["SHA256SUMS", "audit-checkpoints.jsonl", "database.sqlite3",
                             "etc-shinsei.tar", "manifest.json"]
    assert stat.S_IMODE(made.stat().st_mode) == 0o700 and made.stat().st_uid == os.geteuid()
    for path in made.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_size > 0
    # The operator can check it with coreutils alone.
    subprocess.run(["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=made, check=True)
    manifest = json.loads((made / "manifest.json").read_text())
    assert manifest["checkpoints"]["count"] == 2
    assert manifest["config"]["known_hosts"] == {"pusher/known_hosts": 2}
    assert (made / "audit-checkpoints.jsonl").read_bytes() == CHECKPOINT * 2
    with tarfile.open(made / "etc-shinsei.tar") as archive:
        secret = archive.getmember("./session-secret")
        assert stat.S_IMODE(secret.mode) == 0o600 and secret.uname
        assert "./pusher/known_hosts" in archive.getnames()
    assert any("公開ホストの鍵: pusher/known_hosts 2 行" in line for line in said)
    assert status.report(host, NOW + timedelta(hours=1))["status"] == "ok"


def test_a_pg_dump_that_writes_nothing_fails_and_leaves_no_set(fake_pg_dump):
    # The runbook's old failure: pg_dump rejected, yet a 0-byte file kept as a backup.
    options = fake_pg_dump("exit 0")
    with pytest.raises(BackupError, match=r"database\.pgdump.*0 バイト"):
        make.run(options, NOW, print)
    assert entries(options.directory) == [".lock", "last-run.json"]
    report = status.report(options, NOW)
    assert report["status"] == "failed" and "0 バイト" in report["reason"]


def test_a_pg_dump_refused_by_the_server_says_what_the_server_said(fake_pg_dump):
    options = fake_pg_dump('echo \'pg_dump: error: connection to server failed: FATAL:  '
                           'pg_hba.conf rejects connection for host "[local]", user "root"\' >&2'
                           "\nexit 1")
    with pytest.raises(BackupError) as refused:
        make.run(options, NOW, print)
    assert "pg_dump が失敗しました（終了コード 1）" in str(refused.value)
    assert 'user "root"' in str(refused.value)
    assert entries(options.directory) == [".lock", "last-run.json"]


def test_a_dump_that_is_not_a_dump_is_refused(fake_pg_dump):
    options = fake_pg_dump("head -c 5000 /dev/urandom")
    with pytest.raises(BackupError, match=r"database\.pgdump を pg_restore --list で読めません"):
        make.run(options, NOW, print)
    assert not sets.complete(options.directory)


def test_the_database_user_is_the_one_pg_dump_runs_as(fake_pg_dump):
    options = replace(fake_pg_dump("exit 0"), database_user="no-such-account-here")
    with pytest.raises(BackupError, match=r"OS ユーザー no-such-account-here がこのホストにいません"):
        make.run(options, NOW, print)


def test_a_missing_checkpoint_file_fails_naming_it(host):
    host.checkpoint_file.unlink()
    with pytest.raises(BackupError, match=rf"{host.checkpoint_file}: 署名付きチェックポイント"):
        make.run(host, NOW, print)
    assert not sets.complete(host.directory)


def test_an_empty_checkpoint_file_is_said_and_no_empty_file_is_kept(host):
    host.checkpoint_file.write_bytes(b"")
    made = make.run(host, NOW, print)
    assert "audit-checkpoints.jsonl" not in entries(made)
    manifest = sets.verify(made)
    assert manifest["checkpoints"]["count"] == 0 and manifest["checkpoints"]["file"] is None


def test_a_checkpoint_line_being_written_waits_for_the_next_set(host):
    host.checkpoint_file.write_bytes(CHECKPOINT + CHECKPOINT[:20])
    made = make.run(host, NOW, print)
    assert (made / "audit-checkpoints.jsonl").read_bytes() == CHECKPOINT
    assert sets.verify(made)["checkpoints"]["count"] == 1


@pytest.mark.parametrize(("error", "said"), [
    (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
     "etc-shinsei.tar を作れません（ディスクの空きがありません）"),
    (PermissionError(errno.EACCES, os.strerror(errno.EACCES), "/etc/shinsei/signer/sign.key"),
     "etc-shinsei.tar を作れません（/etc/shinsei/signer/sign.key: 権限がありません）"),
])
def test_a_write_or_read_that_fails_names_the_file_and_leaves_nothing_half_written(
        host, monkeypatch, error, said):
    original = tarfile.TarFile.addfile

    def failing(self, tarinfo, fileobj=None):
        if tarinfo.name == "./session-secret":
            raise error
        return original(self, tarinfo, fileobj)

    monkeypatch.setattr(tarfile.TarFile, "addfile", failing)
    with pytest.raises(BackupError) as refused:
        make.run(host, NOW, print)
    assert str(refused.value) == said
    assert entries(host.directory) == [".lock", "last-run.json"]
    assert status.report(host, NOW)["reason"] == said


def test_a_missing_database_file_fails(host):
    options = replace(host, database_url=f"sqlite:///{host.directory.parent / 'none.sqlite'}")
    with pytest.raises(BackupError, match=r"none.sqlite: データベースのファイルがありません"):
        make.run(options, NOW, print)


def test_an_interrupted_run_is_cleared_by_the_next(host):
    leftover = host.directory / ".incomplete-2026-12-05T023000"
    leftover.mkdir(parents=True)
    (leftover / "database.sqlite3").write_bytes(b"half")
    make.run(host, NOW, print)
    assert entries(host.directory) == [".lock", "2026-12-06T023000", "last-run.json"]


def test_two_runs_in_one_second_make_two_sets(host):
    first, second = make.run(host, NOW, print), make.run(host, NOW, print)
    assert (first.name, second.name) == ("2026-12-06T023000", "2026-12-06T023000-2")


def test_a_good_run_removes_sets_past_retention_and_a_failed_run_removes_none(host):
    for days in (40, 36, 20):
        make.run(host, NOW - timedelta(days=days), print)
    host.checkpoint_file.unlink()
    with pytest.raises(BackupError):
        make.run(host, NOW, print)
    assert len(sets.complete(host.directory)) == 3
    host.checkpoint_file.write_bytes(CHECKPOINT)
    said = []
    made = make.run(host, NOW, said.append)
    assert [path.name for path in sets.complete(host.directory)] == [
        (NOW - timedelta(days=20)).strftime(sets.NAME_FORMAT), made.name]
    assert sum("保存期間（35 日）を過ぎたセットを消しました" in line for line in said) == 2
    assert said[-1] == str(made)


def test_only_old_sets_and_a_failing_run_keep_every_set(host):
    for days in (90, 60):
        make.run(host, NOW - timedelta(days=days), print)
    host.checkpoint_file.unlink()
    with pytest.raises(BackupError):
        make.run(host, NOW, print)
    assert len(sets.complete(host.directory)) == 2
    assert status.report(host, NOW)["status"] == "failed"


def test_one_run_at_a_time(host):
    import fcntl

    host.directory.mkdir()
    with open(host.directory / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(BackupError, match=r"別のバックアップが実行中です"):
            make.run(host, NOW, print)


def test_the_files_a_fresh_host_needs_first_are_carried_with_their_paths(host, tmp_path):
    key = tmp_path / "ssl" / "server.key"
    key.parent.mkdir()
    key.write_text("key\n")
    made = make.run(replace(host, host_files=(key,)), NOW, print)
    with tarfile.open(made / "host-files.tar") as archive:
        assert archive.getnames() == [str(key).lstrip("/")]
    assert sets.verify(made)["host_files"]["paths"] == [str(key)]
    key.unlink()
    with pytest.raises(BackupError, match=rf"{key}: ファイルがありません（backup.host_files）"):
        make.run(replace(host, host_files=(key,)), NOW, print)


def _signer_appends_during_dump(monkeypatch, host, times):
    """The signer appends a checkpoint while the database is dumped, ``times`` times."""
    dump, appended = make.database.dump, []

    def dump_while_signing(*args):
        dump(*args)
        if len(appended) < times:
            appended.append(1)
            with host.checkpoint_file.open("ab") as file:
                file.write(CHECKPOINT)
    monkeypatch.setattr(make.database, "dump", dump_while_signing)


def test_a_checkpoint_signed_during_the_dump_makes_the_set_again_with_it(host, monkeypatch):
    # Otherwise the dump could note a checkpoint the set's file lacks, and the restored
    # chain would read as truncated.
    _signer_appends_during_dump(monkeypatch, host, times=1)
    made = make.run(host, NOW, print)
    assert (made / "audit-checkpoints.jsonl").read_bytes() == CHECKPOINT * 3
    assert json.loads((made / "manifest.json").read_text())["checkpoints"]["count"] == 3


def test_a_signer_that_never_stops_fails_the_run_and_says_when_to_retry(host, monkeypatch):
    _signer_appends_during_dump(monkeypatch, host, times=make.ATTEMPTS)
    with pytest.raises(BackupError, match=r"書き足され続けました.*公開の処理が終わってから"):
        make.run(host, NOW, print)
    assert entries(host.directory) == [".lock", "last-run.json"]
