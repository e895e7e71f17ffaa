"""Receiving: verify, activate atomically, quarantine with a reason, never roll back."""

import argparse
import json
import os
import time
from datetime import timedelta

from lab.clock import on_a_hand_clock
from public_mirror import activation_log
from public_mirror.ledger import read_state
from public_mirror.store import RECHECK
from transfer.keys import SigningKey


def test_accepted_snapshot_becomes_active(public_host):
    outcomes = public_host.publish()
    assert [o.accepted for o in outcomes] == [True]
    state = public_host.root / "state"
    assert (state / "active.snapshot").exists()
    assert read_state(state / "last-sequence").sequence == public_host.sequence
    assert not list((public_host.root / "inbox").iterdir())


def test_tampered_snapshot_is_quarantined_and_the_live_one_keeps_answering(public_host):
    public_host.publish()
    app = public_host.app()
    tampered = bytearray(public_host.snapshot())
    tampered[-3] ^= 0xFF
    public_host.drop(bytes(tampered), "tampered.bin")
    [outcome] = public_host.receive()
    assert not outcome.accepted and "BodyMismatch" in outcome.reason
    quarantined = sorted((public_host.root / "quarantine").iterdir())
    assert any(p.name.endswith("tampered.bin") for p in quarantined)
    reason = next(p for p in quarantined if p.name.endswith(".reason")).read_text()
    assert "BodyMismatch" in reason
    page = app.post("/lookup", {"programme": "p2020", "receipt_number": "00000002"})
    assert "振込予定です" in page.text


def test_rollback_is_refused_even_after_a_restart(public_host):
    old = public_host.snapshot()           # sequence 101
    public_host.publish()                  # sequence 102 accepted
    # A restart is a fresh process: only the persisted sequence remembers 102.
    public_host.drop(old, "old.bin")
    [outcome] = public_host.receive()
    assert not outcome.accepted and "RollbackRefused" in outcome.reason


def test_unsigned_by_a_trusted_key_is_refused(public_host):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public_host.drop(public_host.snapshot(key=SigningKey(Ed25519PrivateKey.generate())))
    [outcome] = public_host.receive()
    assert not outcome.accepted and "SignatureRejected" in outcome.reason


def test_expired_file_is_refused(public_host):
    from datetime import UTC, datetime

    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)
    public_host.drop(public_host.snapshot(created=old))
    [outcome] = public_host.receive()
    assert not outcome.accepted and "SnapshotExpired" in outcome.reason


def test_oversized_file_is_refused_by_its_size(public_host):
    public_host.settings["mirror.max_snapshot_bytes"] = "1000"
    public_host.drop(b"\x00" * 5000)
    [outcome] = public_host.receive()
    assert not outcome.accepted and "SnapshotTooLarge" in outcome.reason


def test_files_still_uploading_are_left_alone(public_host):
    (public_host.root / "inbox" / ".snapshot.bin.part").write_bytes(b"half")
    (public_host.root / "inbox" / "snapshot.bin.tmp").write_bytes(b"half")
    assert public_host.receive() == []


def test_every_run_sweeps_abandoned_uploads_even_with_nothing_to_receive(public_host):
    """A cut-off upload would hold the inbox's disk for ever: each run (the inbox watch or the
    sweep timer) removes the ones left over an hour, never one being written."""
    inbox = public_host.root / "inbox"
    (inbox / ".snapshot-1.bin.part").write_bytes(b"cut off")
    (inbox / ".snapshot-2.bin.part").write_bytes(b"being written")
    two_hours_ago = time.time() - 7200
    os.utime(inbox / ".snapshot-1.bin.part", (two_hours_ago, two_hours_ago))
    assert public_host.receive() == []
    assert sorted(p.name for p in inbox.iterdir()) == [".snapshot-2.bin.part"]
    assert [o.accepted for o in public_host.publish()] == [True]
    assert sorted(p.name for p in inbox.iterdir()) == [".snapshot-2.bin.part"]


def test_activation_log_is_chained_and_detects_edits(public_host):
    public_host.publish()
    public_host.drop(b"garbage", "bad.bin")
    public_host.receive()
    log = public_host.root / "state" / "activation.log"
    outcomes = [r["outcome"] for r in activation_log.records(log)]
    assert outcomes == ["accepted", "rejected"]
    assert activation_log.verify_log(log)[0]
    lines = log.read_text().splitlines()
    record = json.loads(lines[0])
    record["sequence"] = 999
    log.write_text(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n" + lines[1] + "\n")
    intact, _count, reason = activation_log.verify_log(log)
    assert not intact and "record 1" in reason


def test_running_workers_pick_up_a_new_snapshot_without_restart(public_host):
    public_host.publish()
    app = public_host.app()
    clock = on_a_hand_clock(app.app.services.snapshots)
    first = app.get("/healthz").json["sequence"]
    public_host.publish()
    assert app.get("/healthz").json["sequence"] == first      # not looked at again yet
    clock.advance(RECHECK)                  # a worker looks at the active file this often
    assert app.get("/healthz").json["sequence"] == first + 1


def test_a_key_dropped_into_the_trusted_directory_works_without_a_restart(public_host):
    import shutil

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    trusted = public_host.root / "trusted"
    trusted.mkdir()
    shutil.copy(public_host.root / "keys" / "sign.key.pub", trusted / "old.pub")
    public_host.settings["mirror.trusted_keys"] = str(trusted)
    public_host.publish()
    app = public_host.app()
    clock = on_a_hand_clock(app.app.services.snapshots)
    first = app.get("/healthz").json["sequence"]
    new_key = SigningKey(Ed25519PrivateKey.generate())
    from cryptography.hazmat.primitives import serialization

    (trusted / "new.pub").write_bytes(new_key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (trusted / "old.pub").unlink()
    assert public_host.publish(key=new_key)[0].accepted
    clock.advance(RECHECK)
    assert app.get("/healthz").json["sequence"] == first + 1   # the running app took it
    assert not public_host.publish()[0].accepted               # the retired key is refused


def test_the_activation_log_witnesses_the_intranets_audit_checkpoint(public_host, capsys):
    from public_mirror.cli import status_command
    from public_mirror.settings import load

    checkpoint = {"count": 1234, "head_hash": "ab" * 32, "at": "2026-11-26T01:00:00.000000Z",
                  "key_id": "0123456789abcdef", "signature": "c2lnbmF0dXJl"}
    public_host.publish(header={"audit_checkpoint": checkpoint,
                                      "content_digest": "cd" * 32})
    [accepted] = [r for r in activation_log.records(public_host.root / "state" / "activation.log")
                  if r["outcome"] == "accepted"]
    assert accepted["audit_checkpoint"] == checkpoint
    assert accepted["content_digest"] == "cd" * 32
    status_command(load(dict(public_host.settings)), None)
    assert "audit checkpoint: 1234 records, head " + "ab" * 32 in capsys.readouterr().out
    # `status --checkpoints`: every checkpoint witnessed, once, as the intranet's file holds
    # them (`audit verify --mirror-checkpoints` reads it: tests/integration/test_audit_truncation).
    public_host.publish(header={"audit_checkpoint": checkpoint})
    later = {**checkpoint, "count": 1300}
    public_host.publish(header={"audit_checkpoint": later})
    assert status_command(load(dict(public_host.settings)),
                          argparse.Namespace(checkpoints=True)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [checkpoint, later]
