"""The inbox reader: what waits, and what may be read."""

import os

import pytest

from public_mirror.inbox import NotARegularFile, Vanished, pending, read_regular
from transfer.errors import SnapshotTooLarge
from transfer.verify import Origin, TrustPolicy

POLICY = TrustPolicy(keys=[], origin=Origin("142158", "prod"), max_size=100)


def test_uploads_in_progress_are_not_waiting(tmp_path):
    for name in (".x.part", "x.part", "x.tmp", "done.bin"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in pending(tmp_path)] == ["done.bin"]


def test_oldest_first_by_the_entry_itself(tmp_path):
    (tmp_path / "b").write_bytes(b"")
    (tmp_path / "a").write_bytes(b"")
    os.utime(tmp_path / "b", (1, 1))
    (tmp_path / "link").symlink_to("/nonexistent")            # judged as a link, listed
    assert [p.name for p in pending(tmp_path)][:1] == ["b"] and len(pending(tmp_path)) == 3


def test_regular_files_within_the_cap_are_read(tmp_path):
    (tmp_path / "ok").write_bytes(b"x" * 100)
    assert read_regular(tmp_path / "ok", POLICY) == b"x" * 100
    (tmp_path / "big").write_bytes(b"x" * 101)
    with pytest.raises(SnapshotTooLarge):
        read_regular(tmp_path / "big", POLICY)


@pytest.mark.parametrize("make", [
    lambda p: p.symlink_to("/etc/hostname"),
    lambda p: os.mkfifo(p),
    lambda p: p.mkdir(),
])
def test_anything_else_is_refused_unfollowed(tmp_path, make):
    make(tmp_path / "odd")
    with pytest.raises(NotARegularFile):
        read_regular(tmp_path / "odd", POLICY)


def test_a_file_gone_before_it_is_read_is_nothing_to_judge(tmp_path):
    with pytest.raises(Vanished):
        read_regular(tmp_path / "gone", POLICY)
