"""The active snapshot as a worker sees it: looked at every RECHECK seconds, not per request,
and a swap still seen at the next look; the expiry parsed once and judged as before."""

import os
import time
from datetime import UTC, datetime, timedelta

from lab.clock import HandClock
from public_mirror.settings import load
from public_mirror.store import RECHECK, ActiveSnapshot, is_expired
from transfer.snapshot import parse_time


def active(public_host, **kw):
    settings = load(dict(public_host.settings))
    return ActiveSnapshot(settings["mirror.paths"].active, settings["mirror.trust"], **kw)


def test_the_file_is_looked_at_once_per_recheck_and_a_swap_is_seen_at_the_next_look(
        public_host, monkeypatch):
    public_host.publish()
    clock = HandClock()
    snapshots = active(public_host, clock=clock)
    first = snapshots.current()
    assert first.sequence == public_host.sequence
    # A new snapshot activated (another size: two files written within one tick of the file
    # system's clock can otherwise share inode number, size and mtime).
    public_host.publish(padding=1)
    looks = []
    real = os.stat

    def stat(path, *args, **kw):
        if path == snapshots.path:
            looks.append(path)
        return real(path, *args, **kw)

    monkeypatch.setattr(os, "stat", stat)
    clock.now += RECHECK / 2
    assert snapshots.current() is first and not looks   # not looked at yet
    clock.now += RECHECK / 2 + 1e-6
    swapped = snapshots.current()
    assert swapped.sequence == public_host.sequence == first.sequence + 1 and len(looks) == 1
    for _ in range(50):                              # within the next interval: no more looks
        assert snapshots.current() is swapped
    assert len(looks) == 1


def test_a_swap_is_seen_within_the_recheck_time_on_the_real_clock(public_host):
    public_host.publish()
    snapshots = active(public_host)
    before = snapshots.current().sequence
    public_host.publish(padding=1)
    time.sleep(RECHECK * 1.5)
    assert snapshots.current().sequence == before + 1


def test_with_no_snapshot_every_request_looks(public_host):
    clock = HandClock()
    snapshots = active(public_host, clock=clock)
    assert snapshots.current() is None
    public_host.publish()                            # the first one: answered at once
    assert snapshots.current().sequence == public_host.sequence


def test_a_removed_active_file_is_noticed_at_the_next_look(public_host):
    public_host.publish()
    clock = HandClock()
    snapshots = active(public_host, clock=clock)
    assert snapshots.current() is not None
    load(dict(public_host.settings))["mirror.paths"].active.unlink()
    clock.now += RECHECK
    assert snapshots.current() is None


def test_expiry_is_judged_exactly_as_parsing_the_header_each_time(public_host):
    public_host.publish(valid=timedelta(hours=1))
    snapshot = active(public_host).current()
    expires = parse_time(snapshot.header["expires_at"])
    for now in (expires - timedelta(microseconds=1), expires, expires + timedelta(seconds=1),
                datetime.now(UTC)):
        assert is_expired(snapshot, now) == (expires <= now)
    assert not is_expired(snapshot)


# --- held to the receiver's ledger (issue 25 item 6) ----------------------------------

def held(public_host, **kw):
    settings = load(dict(public_host.settings))
    paths = settings["mirror.paths"]
    return ActiveSnapshot(paths.active, settings["mirror.trust"], ledger=paths.last_sequence,
                          **kw), paths


def test_an_activation_under_way_keeps_the_old_snapshot_answering(public_host):
    """The receiver writes the state file before the active file (a large one takes
    seconds; a full disk may stop it there): the file in place before keeps answering."""
    import hashlib

    from public_mirror.ledger import ACTIVATING, AGREES, Ledger

    public_host.publish()
    clock = HandClock()
    snapshots, paths = held(public_host, clock=clock)
    assert snapshots.current().sequence == public_host.sequence
    newer = public_host.snapshot(padding=1)
    receiver = Ledger(paths)
    receiver.finish = lambda *args: None                  # stopped between state and active
    sha = hashlib.sha256(newer).hexdigest()
    receiver.accept(newer, sha, public_host.sequence, file="newer.bin")
    clock.now += RECHECK
    assert snapshots.current().sequence == public_host.sequence - 1
    assert snapshots.verdict == ACTIVATING and "not finished" in snapshots.disagreement
    Ledger.finish(receiver, newer, sha, public_host.sequence)   # the activation completes
    clock.now += RECHECK
    assert snapshots.current().sequence == public_host.sequence
    assert snapshots.verdict == AGREES


def test_an_active_file_with_no_ledger_answers_nothing(public_host):
    from public_mirror.ledger import MISMATCH

    public_host.publish()
    clock = HandClock()
    snapshots, paths = held(public_host, clock=clock)
    assert snapshots.current() is not None
    paths.last_sequence.unlink()
    clock.now += RECHECK
    assert snapshots.current() is None and snapshots.verdict == MISMATCH
    assert "is missing" in snapshots.disagreement
    paths.last_sequence.write_text("not json")
    clock.now += RECHECK
    assert snapshots.current() is None and "cannot be read" in snapshots.disagreement
    assert snapshots.loaded.sequence == public_host.sequence   # still loaded, not served
