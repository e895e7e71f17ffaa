"""The receiver's three records checked against each other, and the recovery."""

import json

import pytest

from public_mirror import activation_log
from public_mirror.ledger import FRESH, Ledger, StateError, read_state
from public_mirror.recovery import recover
from public_mirror.settings import MirrorPaths


@pytest.fixture
def paths(tmp_path):
    paths = MirrorPaths(tmp_path / "inbox", tmp_path / "quarantine", tmp_path / "state")
    paths.state.mkdir()
    return paths


def test_a_fresh_host_starts_from_nothing(paths):
    ledger = Ledger(paths)
    assert ledger.state == FRESH and ledger.highest is None


def test_accept_writes_log_then_state_then_active(paths):
    ledger = Ledger(paths)
    ledger.accept(b"SHSNAP-not-parsed-here", "a" * 64, 7, file="x.bin")
    assert json.loads(paths.last_sequence.read_text())["sequence"] == 7
    assert [r["outcome"] for r in activation_log.records(paths.activation_log)] == ["accepted"]
    assert paths.active.read_bytes() == b"SHSNAP-not-parsed-here"


@pytest.mark.parametrize("text", ["-5\n", "7\n", "{}", "garbage", '{"sequence": true, '
                                  '"sha256": null, "log_records": 0, "log_head": "' + "0" * 64 + '"}'])
def test_a_state_file_no_receiver_wrote_is_refused(paths, text):
    paths.last_sequence.write_text(text)
    with pytest.raises(StateError, match="last-sequence"):
        read_state(paths.last_sequence)


def test_a_record_left_between_log_and_state_is_folded_in(paths):
    Ledger(paths).reject(file="a", reason="r")
    activation_log.append(paths.activation_log, "accepted", sequence=9, sha256="b" * 64)
    ledger = Ledger(paths)      # as after a crash between the log and the state file
    assert ledger.state.sequence == 9 and ledger.unfinished_sha == "b" * 64
    assert read_state(paths.last_sequence).log_records == 2


def test_two_records_unknown_to_the_state_are_a_disagreement(paths):
    Ledger(paths).reject(file="a", reason="r")
    activation_log.append(paths.activation_log, "rejected", file="b", reason="r")
    activation_log.append(paths.activation_log, "rejected", file="c", reason="r")
    with pytest.raises(StateError, match="does not know of"):
        Ledger(paths)


def test_the_message_names_the_recovery_command(paths):
    Ledger(paths).reject(file="a", reason="r")
    paths.last_sequence.unlink()
    with pytest.raises(StateError) as stopped:
        Ledger(paths)
    assert "shinsei-mirror -c <ini> recover" in str(stopped.value)


def test_recover_keeps_the_highest_and_logs_itself(paths):
    ledger = Ledger(paths)
    ledger.accept(b"not a snapshot", "c" * 64, 12, file="x")
    paths.active.unlink()          # an active file that is not a snapshot would be set aside
    paths.last_sequence.write_text("-5")
    state, found = recover(paths, "operator")
    assert state.sequence == 12 and any("last-sequence" in line for line in found)
    last = list(activation_log.records(paths.activation_log))[-1]
    assert last["outcome"] == "recovered" and last["operator"] == "operator"
    assert Ledger(paths).highest == 12


def test_recover_to_a_lower_sequence_sets_a_new_baseline(paths):
    Ledger(paths).accept(b"x", "d" * 64, 9_000_000_000, file="stolen key")
    paths.active.unlink()
    state, _found = recover(paths, "operator", sequence=100)
    assert state.sequence == 100 and Ledger(paths).highest == 100


def test_a_state_replaced_while_a_worker_judges_is_read_as_one_version(paths, monkeypatch):
    """A worker judges the file activated a moment ago while the receiver's next activation
    replaces the state file. Its time and its content must come from one version: the time
    of the state that recorded this file with the content of the next would place this file
    after its own record (MISMATCH: a resident told 更新中 in the middle of a publication)."""
    import hashlib
    import os

    from public_mirror import ledger as ledger_module

    receiver = Ledger(paths)
    second = b"SHSNAP-second"
    receiver.accept(b"SHSNAP-first", hashlib.sha256(b"SHSNAP-first").hexdigest(), 1, file="1.bin")
    receiver.accept(second, hashlib.sha256(second).hexdigest(), 2, file="2.bin")
    placed = os.stat(paths.active).st_ctime_ns
    # The state was written a moment before the file was put in place (the clock's tick can
    # hide that on a fast machine: made plain here).
    os.utime(paths.last_sequence, ns=(placed - 10**9, placed - 10**9))
    receiver.finish = lambda *args: None          # the next activation: its state only
    real_stat, real_fstat, begun = os.stat, os.fstat, []

    def next_activation_begins():
        if not begun:
            begun.append(True)
            receiver.accept(b"SHSNAP-third", hashlib.sha256(b"SHSNAP-third").hexdigest(), 3,
                            file="3.bin")

    def stat(path, *args, **kwargs):
        found = real_stat(path, *args, **kwargs)
        if str(path) == str(paths.last_sequence):
            next_activation_begins()
        return found

    def fstat(descriptor):
        found = real_fstat(descriptor)
        next_activation_begins()
        return found

    monkeypatch.setattr(ledger_module.os, "stat", stat)
    monkeypatch.setattr(ledger_module.os, "fstat", fstat)
    verdict, why = ledger_module.judge_active(2, hashlib.sha256(second).hexdigest(), placed,
                                              paths.last_sequence)
    monkeypatch.undo()
    assert begun and verdict != ledger_module.MISMATCH, why
