"""The inbox reader: what waits, and what may be read."""

import logging
import os
import time

import pytest

from public_mirror.inbox import (
    ABANDONED_AFTER,
    NotARegularFile,
    Vanished,
    pending,
    read_regular,
    sweep_abandoned,
)
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


def aged(path, seconds, data=b"half"):
    """A file last written `seconds` ago."""
    path.write_bytes(data)
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def test_an_upload_abandoned_for_over_an_hour_is_removed_with_a_log_line(tmp_path, caplog):
    aged(tmp_path / ".snapshot-7.bin.part", ABANDONED_AFTER + 120, b"x" * 1000)
    with caplog.at_level(logging.WARNING, logger="public_mirror.inbox"):
        removed = sweep_abandoned(tmp_path)
    assert [(gone.name, gone.size, gone.idle_minutes) for gone in removed] == \
        [(".snapshot-7.bin.part", 1000, 62)]
    assert not (tmp_path / ".snapshot-7.bin.part").exists()
    assert "removed an abandoned upload .snapshot-7.bin.part: unfinished, untouched for 62 min " \
           "(1000 bytes)" in caplog.text


def test_an_upload_in_progress_is_never_touched(tmp_path):
    fresh = aged(tmp_path / ".snapshot-8.bin.part", 0)
    nearly = aged(tmp_path / ".snapshot-9.bin.part", ABANDONED_AFTER - 60)
    assert sweep_abandoned(tmp_path) == []
    assert fresh.read_bytes() == nearly.read_bytes() == b"half"


@pytest.mark.parametrize("name", [
    "snapshot-7.bin",          # a complete delivery: the receiver's to judge
    "snapshot-7.bin.part",     # not a dot-name
    ".refused-snapshot-7.bin", # a refusal set aside when quarantine was full
    ".snapshot-7.bin.tmp",     # not the pusher's temporary name
])
def test_nothing_but_an_unfinished_upload_is_ever_swept(tmp_path, name):
    kept = aged(tmp_path / name, 30 * 24 * 3600)
    assert sweep_abandoned(tmp_path) == []
    assert kept.read_bytes() == b"half"


def test_an_old_dot_part_that_is_no_regular_file_is_left_alone(tmp_path):
    (tmp_path / ".dir.part").mkdir()
    (tmp_path / ".link.part").symlink_to(aged(tmp_path / "target", 0))
    for entry in (tmp_path / ".dir.part", tmp_path / ".link.part"):
        then = time.time() - 2 * ABANDONED_AFTER
        os.utime(entry, (then, then), follow_symlinks=False)
    assert sweep_abandoned(tmp_path) == []
    assert (tmp_path / ".dir.part").is_dir() and (tmp_path / ".link.part").is_symlink()
    assert (tmp_path / "target").read_bytes() == b"half"
