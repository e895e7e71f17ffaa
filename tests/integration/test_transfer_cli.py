"""``shinsei-transfer keygen && build && verify && inspect`` against a real database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import transaction

from intranet.db import get_tm_session
from intranet.demo import seed
from lab.intranet_ini import INI
from tests.conftest import TEST_ACTOR

BIN = Path(sys.executable).parent


@pytest.fixture
def transfer(db_url, tmp_path, session_factory):
    with transaction.manager:
        seed(get_tm_session(session_factory, transaction.manager), TEST_ACTOR, 300, 5)
    config = tmp_path / "intranet.ini"
    config.write_text(INI.format(url=db_url.replace("%", "%%")).replace(
        "sqlalchemy.url", "transfer.origin = 142158:test\nsqlalchemy.url"))

    def run(*args):
        command = [str(BIN / "shinsei-transfer"), *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path,
                              env={**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=120)

    run.config = str(config)
    return run


def test_keygen_build_verify_inspect(transfer, tmp_path):
    assert transfer("keygen", "--signing-key", "sign.key", "--lookup-key", "lookup.key").returncode == 0
    built = transfer("build", "-c", transfer.config, "--signing-key", "sign.key",
                     "--lookup-key", "lookup.key", "--origin", "142158:prod", "--sequence", "7",
                     "--out", "snapshot.bin")
    assert built.returncode == 0, built.stderr
    assert "300 entries" in built.stdout or "entries" in built.stdout
    ok = transfer("verify", "snapshot.bin", "--trusted-keys", "sign.key.pub",
                  "--origin", "142158:prod", "--last-sequence", "6")
    assert ok.returncode == 0 and "OK: sequence 7" in ok.stdout

    rollback = transfer("verify", "snapshot.bin", "--trusted-keys", "sign.key.pub",
                        "--origin", "142158:prod", "--last-sequence", "7")
    assert rollback.returncode == 1 and "RollbackRefused" in rollback.stderr
    wrong_origin = transfer("verify", "snapshot.bin", "--trusted-keys", "sign.key.pub",
                            "--origin", "142158:test")
    assert wrong_origin.returncode == 1 and "WrongOrigin" in wrong_origin.stderr

    shown = transfer("inspect", "snapshot.bin")
    assert shown.returncode == 0 and "entries per status" in shown.stdout
    assert "payment_scheduled" in shown.stdout


def test_build_refuses_a_signing_key_others_can_read(transfer, tmp_path):
    transfer("keygen", "--signing-key", "sign.key", "--lookup-key", "lookup.key")
    (tmp_path / "sign.key").chmod(0o644)
    built = transfer("build", "-c", transfer.config, "--signing-key", "sign.key",
                     "--lookup-key", "lookup.key", "--out", "snapshot.bin")
    assert built.returncode == 1 and "readable by group or others" in built.stderr
    assert not (tmp_path / "snapshot.bin").exists()
