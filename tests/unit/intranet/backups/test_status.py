"""What monitoring reads: ok, failed (with the reason), stale (none yet, or too old)."""

from datetime import timedelta

import pytest

from intranet.backups import make, status
from intranet.backups.errors import BackupError
from tests.unit.intranet.backups.conftest import NOW


def test_no_backup_yet_is_stale(host):
    report = status.report(host, NOW)
    assert report["status"] == "stale" and report["last_set"] is None
    assert "バックアップがまだありません" in report["reason"]


def test_a_recent_set_is_ok_and_an_old_one_stale(host):
    made = make.run(host, NOW, lambda line: None)
    report = status.report(host, NOW + timedelta(hours=25))
    assert report["status"] == "ok" and report["last_set"] == str(made)
    assert report["at"].startswith("2026-12-06T02:30:00") and report["reason"] is None
    late = status.report(host, NOW + timedelta(hours=30))
    assert late["status"] == "stale" and "30 時間前" in late["reason"]


def test_a_failed_run_after_a_good_set_is_failed_and_still_names_the_good_set(host):
    made = make.run(host, NOW, lambda line: None)
    host.checkpoint_file.unlink()
    with pytest.raises(BackupError):
        make.run(host, NOW + timedelta(days=1), lambda line: None)
    report = status.report(host, NOW + timedelta(days=1))
    assert report["status"] == "failed" and report["last_set"] == str(made)
    assert str(host.checkpoint_file) in report["reason"]
    assert (host.directory / "last-run.json").stat().st_mode & 0o777 == 0o644
