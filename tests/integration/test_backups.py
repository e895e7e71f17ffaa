"""``shinsei-intranet backup`` for real, on SQLite and PostgreSQL: a set made, checked and
restored over a database that moved on, the audit chain then held to every signed
checkpoint; a set changed or cut short refused before anything is touched."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from lab.intranet_ini import INI

PASSWORD = "a long enough password\n"


@pytest.fixture
def city(db_url, engine, tmp_path):
    """An intranet host in a folder: its ini, /etc/shinsei, signing key and checkpoint file."""
    etc = tmp_path / "etc-shinsei"
    (etc / "pusher").mkdir(parents=True)
    (etc / "pusher" / "known_hosts").write_text("198.51.100.2 ssh-ed25519 AAAAC3Nza1\n")
    (etc / "intranet.ini").write_text("as installed\n")
    key = etc / "signer" / "sign.key"
    key.parent.mkdir()
    subprocess.run([_bin("shinsei-transfer"), "keygen", "--signing-key", str(key),
                    "--lookup-key", str(etc / "lookup.key")], check=True, capture_output=True)
    tls = tmp_path / "tls" / "server.key"
    tls.parent.mkdir()
    tls.write_text("private key\n")
    tls.chmod(0o600)
    settings = (f"backup.directory = {tmp_path / 'backups'}\n"
                f"backup.config_directory = {etc}\n"
                f"backup.host_files = {tls}\n"
                "backup.database_user =\nbackup.web_service =\nbackup.verify_user =\n"
                f"audit.checkpoint_file = {tmp_path / 'checkpoints.jsonl'}\n"
                f"audit.checkpoint_keys = {key}.pub\n")
    config = tmp_path / "intranet.ini"
    config.write_text(INI.format(url=db_url.replace("%", "%%")).replace(
        "[loggers]", settings + "[loggers]"))

    class City:
        ini, sets, checkpoints = config, tmp_path / "backups", tmp_path / "checkpoints.jsonl"
        config_directory, host_file = etc, tls

        def cli(self, *args, stdin=None):
            return subprocess.run([_bin("shinsei-intranet"), "-c", str(config), *args],
                                  input=stdin, capture_output=True, text=True, timeout=300,
                                  env={**os.environ, "PYTHONWARNINGS": "ignore"})

        def ok(self, *args, stdin=None):
            result = self.cli(*args, stdin=stdin)
            assert result.returncode == 0, result.stdout + result.stderr
            return result

        def add_user(self, name, role="admin"):
            # The command line makes only the first administrator and security officer.
            self.ok("user", "add", name, "--role", role, "--password-stdin", stdin=PASSWORD)

        def has_user(self, name):
            with engine.connect() as connection:
                return connection.execute(text("SELECT 1 FROM users WHERE username = :name"),
                                          {"name": name}).first() is not None

        def checkpoint(self):
            self.ok("audit", "checkpoint", "--signing-key", str(key))

        def backup(self):
            return Path(self.ok("backup", "run").stdout.strip().splitlines()[-1])

    return City()


def _bin(name):
    return str(Path(sys.executable).parent / name)


def test_a_restored_set_brings_back_the_database_the_settings_and_every_checkpoint(city):
    city.add_user("suzuki")
    city.checkpoint()
    city.checkpoint()
    made = city.backup()
    assert json.loads(city.ok("backup", "status").stdout)["last_set"] == str(made)
    # The host moves on: a new account, a changed setting, a third signed checkpoint.
    city.add_user("sato", "security_officer")
    (city.config_directory / "intranet.ini").write_text("changed by hand\n")
    city.host_file.unlink()
    city.checkpoint()
    restored = city.ok("backup", "restore", str(made))
    assert city.host_file.read_text() == "private key\n"
    assert city.host_file.stat().st_mode & 0o777 == 0o600
    assert "署名付きチェックポイント 2 件すべてと一致します" in restored.stdout, restored.stdout
    assert "agrees with 2 signed checkpoints" in restored.stdout
    assert (city.config_directory / "intranet.ini").read_text() == "as installed\n"
    assert len(city.checkpoints.read_text().splitlines()) == 2
    # The third checkpoint is kept beside it, not lost.
    aside = list(city.checkpoints.parent.glob("checkpoints.jsonl.before-restore-*"))
    assert len(aside) == 1 and len(aside[0].read_text().splitlines()) == 3
    assert city.has_user("suzuki") and not city.has_user("sato")
    verify = city.ok("audit", "verify")
    assert "agrees with 2 signed checkpoints" in verify.stdout


def test_a_database_restore_behind_a_signed_checkpoint_is_reported_not_passed(city):
    city.checkpoint()
    made = city.backup()
    city.add_user("sato")
    city.checkpoint()      # signs records the set does not hold
    result = city.cli("backup", "restore", "--database-only", str(made))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "復元に失敗しました" in result.stderr and "BROKEN" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_a_set_changed_after_it_was_made_is_refused_before_anything_is_touched(city):
    city.checkpoint()
    made = city.backup()
    city.add_user("sato")
    tar = made / "etc-shinsei.tar"
    data = bytearray(tar.read_bytes())
    data[700] ^= 1
    tar.write_bytes(bytes(data))
    result = city.cli("backup", "restore", str(made))
    assert result.returncode == 1
    assert f"{tar}: SHA-256 が SHA256SUMS と違います" in result.stderr, result.stderr
    assert city.has_user("sato")


def test_a_dump_cut_short_is_refused_even_when_its_checksum_was_rewritten(city):
    city.checkpoint()
    made = city.backup()
    dump = next(made.glob("database.*"))
    dump.write_bytes(dump.read_bytes()[:dump.stat().st_size * 2 // 3])
    sums = made / "SHA256SUMS"
    lines = [line for line in sums.read_text().splitlines() if not line.endswith(dump.name)]
    digest = subprocess.run(["sha256sum", dump.name], cwd=made, capture_output=True, text=True,
                            check=True).stdout
    sums.write_text("\n".join([*lines, digest.strip()]) + "\n")
    result = city.cli("backup", "verify", str(made))
    assert result.returncode == 1 and dump.name in result.stderr, result.stderr
    assert "このセットは使えません" in result.stderr


def test_a_failed_run_is_what_monitoring_sees(city):
    city.checkpoint()
    city.backup()
    city.checkpoints.unlink()
    failed = city.cli("backup", "run")
    assert failed.returncode == 1
    assert f"バックアップに失敗しました: {city.checkpoints}" in failed.stderr
    status = city.cli("backup", "status")
    answer = json.loads(status.stdout)
    assert status.returncode == 1 and answer["status"] == "failed"
    assert str(city.checkpoints) in answer["reason"] and answer["last_set"]


def test_audit_verify_refused_by_the_database_says_so_without_a_traceback(postgres_cluster,
                                                                          tmp_path):
    # No user in the URL: the OS user is the role (peer authentication on an installed host),
    # and that role does not exist.
    config = tmp_path / "refused.ini"
    url = f"postgresql+psycopg://127.0.0.1:{postgres_cluster.port}/postgres"
    config.write_text(INI.format(url=url.replace("%", "%%")))
    result = subprocess.run([_bin("shinsei-intranet"), "-c", str(config), "audit", "verify"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "データベースに接続できません" in result.stderr
    if os.geteuid() == 0:
        assert "runuser -u shinsei-web -- shinsei-intranet" in result.stderr
