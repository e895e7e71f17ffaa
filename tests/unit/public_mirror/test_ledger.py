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
