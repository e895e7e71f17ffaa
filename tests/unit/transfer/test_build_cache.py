"""The builder's cache (transfer.build_cache): editing a sorted body in place gives the bytes
sorting afresh gives, and a cache file is read back only by the key and version that wrote
it, whole, unaltered and private."""

import os
import random

import pytest

from transfer import build_cache
from transfer.build_cache import Inconsistent, LastBuild, edit_body
from transfer.snapshot import ENTRY

SECRET = b"k" * 32


def entry(rng, key=None):
    return ENTRY.pack(key or rng.randbytes(16), rng.randrange(8), rng.randrange(9000), 0,
                      rng.randrange(4), 0, 0)


@pytest.mark.parametrize("seed", range(20))
def test_editing_in_place_is_sorting_afresh(seed):
    rng = random.Random(seed)
    entries = [entry(rng) for _ in range(rng.randrange(0, 400))]
    body = b"".join(sorted(entries))
    gone = rng.sample(entries, min(len(entries), rng.randrange(0, 30)))
    replaced = gone[:len(gone) // 2]              # a status changed: the same key, new bytes
    added = [entry(rng, old[:16]) for old in replaced] + [entry(rng) for _ in range(
        rng.randrange(0, 30))]
    kept = set(entries) - set(gone)
    assert edit_body(body, [old[:16] for old in gone], added) == b"".join(sorted([*kept, *added]))


def test_edits_that_do_not_fit_the_body_are_refused():
    rng = random.Random(1)
    entries = sorted(entry(rng) for _ in range(10))
    body = b"".join(entries)
    with pytest.raises(Inconsistent):
        edit_body(body, [rng.randbytes(16)], [])           # not there
    with pytest.raises(Inconsistent):
        edit_body(body, [], [entry(rng, entries[3][:16])])  # there already, not removed
    with pytest.raises(Inconsistent):
        edit_body(body, [entries[2][:16]] * 2, [])
    same = rng.randbytes(16)
    with pytest.raises(Inconsistent):
        edit_body(body, [], [entry(rng, same), entry(rng, same)])


def last_build():
    rng = random.Random(2)
    body = b"".join(sorted(entry(rng) for _ in range(50)))
    return LastBuild(7, "d" * 64, "p" * 64, body, 3,
                     {"applications": {"a": 50}, "paid": {"a": 4}, "letters": []})


def test_written_and_read_back_privately(tmp_path):
    build_cache.save(tmp_path, SECRET, last_build())
    assert build_cache.load(tmp_path, SECRET) == last_build()
    assert os.stat(tmp_path / "cache").st_mode & 0o777 == 0o700
    assert os.stat(tmp_path / "cache" / "last-build.bin").st_mode & 0o777 == 0o600


@pytest.mark.parametrize("spoil", [
    lambda data: data[:-1],
    lambda data: data[:len(build_cache.MAGIC) + 3],
    lambda data: b"x" + data[1:],
    lambda data: data[:-40] + bytes([data[-40] ^ 0x80]) + data[-39:],
    lambda data: data + ENTRY.size * b"\0",
], ids=["cut", "cut-in-the-length", "magic", "one-bit", "an-entry-more"])
def test_a_spoiled_file_is_not_read(tmp_path, spoil):
    build_cache.save(tmp_path, SECRET, last_build())
    path = tmp_path / "cache" / "last-build.bin"
    path.write_bytes(spoil(path.read_bytes()))
    assert build_cache.load(tmp_path, SECRET) is None


def test_another_lookup_key_or_version_does_not_read_it(tmp_path, monkeypatch):
    build_cache.save(tmp_path, SECRET, last_build())
    assert build_cache.load(tmp_path, b"other" * 8) is None
    monkeypatch.setattr(build_cache.version, "current", lambda: "0.0.1+gother")
    assert build_cache.load(tmp_path, SECRET) is None


def test_a_link_or_a_shared_file_is_not_read(tmp_path):
    build_cache.save(tmp_path, SECRET, last_build())
    path = tmp_path / "cache" / "last-build.bin"
    path.chmod(0o644)
    assert build_cache.load(tmp_path, SECRET) is None
    path.chmod(0o600)
    path.rename(tmp_path / "elsewhere.bin")
    path.symlink_to(tmp_path / "elsewhere.bin")
    assert build_cache.load(tmp_path, SECRET) is None


def test_a_killed_builders_temporary_file_is_removed_by_the_next_save(tmp_path, caplog):
    """A builder killed while writing leaves `.last-build.bin.<pid>.part` (each process
    writes its own, so no save overwrites another's): the next save removes those an hour
    older than itself, and leaves one another process may be writing now."""
    build_cache.save(tmp_path, SECRET, last_build())
    folder = tmp_path / "cache"
    killed, writing = folder / ".last-build.bin.4242.part", folder / ".last-build.bin.4343.part"
    for leftover in (killed, writing):
        leftover.write_bytes(b"half a table")
    an_hour_and_more_ago = os.stat(folder / "last-build.bin").st_mtime - 3601
    os.utime(killed, (an_hour_and_more_ago, an_hour_and_more_ago))
    with caplog.at_level("INFO", logger="transfer.build_cache"):
        build_cache.save(tmp_path, SECRET, last_build())
    assert sorted(p.name for p in folder.iterdir()) == [writing.name, "last-build.bin"]
    assert "left by a builder that did not finish" in caplog.text
    assert build_cache.load(tmp_path, SECRET) == last_build()
