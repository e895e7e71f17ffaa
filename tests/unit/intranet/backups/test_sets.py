"""A set is checked file by file: a change, a missing, extra or empty file, or a loosened
mode is named before anything is believed."""

import os

import pytest

from intranet.backups import make, sets
from intranet.backups.errors import BackupError
from tests.unit.intranet.backups.conftest import NOW


@pytest.fixture
def made(host):
    return make.run(host, NOW, lambda line: None)


def test_a_changed_byte_is_named(made):
    path = made / "etc-shinsei.tar"
    data = bytearray(path.read_bytes())
    data[600] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(BackupError, match=rf"{path}: SHA-256 が SHA256SUMS と違います"):
        sets.verify(made)


def test_a_missing_file_is_named(made):
    (made / "audit-checkpoints.jsonl").unlink()
    with pytest.raises(BackupError, match=r"audit-checkpoints.jsonl: ありません"):
        sets.verify(made)


def test_a_file_slipped_in_is_named(made):
    (made / "extra.sql").write_bytes(b"DROP TABLE applications;")
    (made / "extra.sql").chmod(0o600)
    with pytest.raises(BackupError, match=r"extra.sql: SHA256SUMS に載っていないファイルです"):
        sets.verify(made)


def test_an_emptied_file_is_named_even_with_its_checksum_updated(made):
    (made / "manifest.json").write_bytes(b"")
    sets_file = made / "SHA256SUMS"
    os.chmod(sets_file, 0o600)
    sets_file.unlink()
    sets.write_sums(made)
    with pytest.raises(BackupError, match=r"manifest.json: 空（0 バイト）です"):
        sets.verify(made)


def test_a_truncated_database_copy_is_refused_even_with_its_checksum_updated(made):
    path = made / "database.sqlite3"
    path.write_bytes(path.read_bytes()[:4096 * 2])
    (made / "SHA256SUMS").unlink()
    sets.write_sums(made)
    with pytest.raises(BackupError, match=r"database.sqlite3"):
        sets.verify(made)


def test_a_set_readable_by_others_is_refused(made):
    (made / "database.sqlite3").chmod(0o644)
    with pytest.raises(BackupError, match=r"0600 ではありません（.* 0644）"):
        sets.verify(made)
    (made / "database.sqlite3").chmod(0o600)
    made.chmod(0o755)
    with pytest.raises(BackupError, match=r"0700 ではありません"):
        sets.verify(made)


def test_a_set_without_its_checksums_was_never_finished(made):
    (made / "SHA256SUMS").unlink()
    with pytest.raises(BackupError, match=r"SHA256SUMS: ありません"):
        sets.verify(made)


def test_not_a_set(tmp_path):
    with pytest.raises(BackupError, match=r"バックアップのセット（ディレクトリ）がありません"):
        sets.verify(tmp_path / "nothing")
