"""Issue 12's breaks of the receiver, each performed against the real ``shinsei-mirror``
command on real files, and shown defeated: the live snapshot keeps serving through every
refused one, and nothing a stranger (or a full disk) does changes what residents see."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from public_mirror import activation_log
from public_mirror.ledger import receiver_lock
from public_mirror.settings import MirrorPaths
from tests.integration.mirror_host import (
    COMMAND,
    active_sequence,
    mirror_cli,
    no_traceback,
    outcomes,
    wait_until,
)
from transfer.keys import SigningKey

RECOVER = "shinsei-mirror -c <ini> recover"


def receive(host, *args, **overrides):
    return no_traceback(mirror_cli(host, "receive", *args, **overrides))


def paths(host) -> MirrorPaths:
    return MirrorPaths(host.root / "inbox", host.root / "quarantine", host.root / "state")


def inbox(host) -> list[str]:
    return sorted(os.listdir(host.root / "inbox"))


def _write_public_key(key: SigningKey, path: Path) -> None:
    path.write_bytes(key.public_key.public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo))


# --- break 2 --------------------------------------------------------------------------

def test_break_02_watcher_stops_trusting_a_removed_key_and_a_fast_forward_cannot_brick(public_host):
    trusted = public_host.root / "trusted"
    trusted.mkdir()
    stolen, current = public_host.signing_key, SigningKey(Ed25519PrivateKey.generate())
    _write_public_key(stolen, trusted / "stolen.pub")
    _write_public_key(current, trusted / "current.pub")
    public_host.settings["mirror.trusted_keys"] = str(trusted)
    ini = public_host.write_ini()
    watcher = subprocess.Popen([COMMAND, "-c", str(ini), "receive", "--watch", "--interval", "0.1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        public_host.drop(public_host.snapshot(key=current), "first.bin")
        wait_until(lambda: inbox(public_host) == [])
        (trusted / "stolen.pub").unlink()                      # the key is retired
        public_host.drop(public_host.snapshot(key=stolen), "stolen.bin")
        wait_until(lambda: inbox(public_host) == [])
        public_host.drop(public_host.snapshot(key=current, sequence=9_000_000_000_000_000_000),
                         "far-ahead.bin")
        wait_until(lambda: inbox(public_host) == [])
        public_host.drop(public_host.snapshot(key=current), "next.bin")
        wait_until(lambda: inbox(public_host) == [])
    finally:
        watcher.send_signal(signal.SIGTERM)                    # ends between turns
        _out, err = watcher.communicate(timeout=10)
    assert watcher.returncode == 0
    records = list(activation_log.records(public_host.root / "state" / "activation.log"))
    assert [r["outcome"] for r in records] == ["accepted", "rejected", "rejected", "accepted"]
    assert "SignatureRejected" in records[1]["reason"]
    assert "ImplausibleSnapshot" in records[2]["reason"] and "far ahead" in records[2]["reason"]
    assert active_sequence(public_host) == public_host.sequence      # the legitimate one
    assert "Traceback" not in err


def test_break_02_a_snapshot_dated_in_the_future_is_refused(public_host):
    from datetime import UTC, datetime, timedelta

    public_host.publish()
    public_host.drop(public_host.snapshot(created=datetime.now(UTC).replace(microsecond=0)
                                          + timedelta(days=2)))
    result = receive(public_host)
    assert result.returncode == 1 and "ImplausibleSnapshot" in result.stderr
    assert "in the future" in result.stderr


# --- break 3 --------------------------------------------------------------------------

def test_break_03_a_second_receiver_waits_or_says_why(public_host):
    public_host.publish()
    public_host.drop(public_host.snapshot())
    with receiver_lock(paths(public_host)):
        busy = receive(public_host, "--wait", "0.3")
    assert busy.returncode == 75 and "another receiver" in busy.stderr
    assert inbox(public_host) == ["snapshot.bin"]              # untouched while it waited
    assert receive(public_host).returncode == 0 and inbox(public_host) == []


def test_break_03_two_receivers_at_once_never_roll_back(public_host):
    public_host.publish()
    base = public_host.sequence
    for round_number in range(3):
        # Older and newer snapshots waiting together, taken by four receivers at once.
        datas = [public_host.snapshot() for _ in range(4)]
        for n, data in enumerate(reversed(datas)):
            public_host.drop(data, f"r{round_number}-{n}.bin")
        ini = public_host.write_ini()
        receivers = [subprocess.Popen([COMMAND, "-c", str(ini), "receive"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for _ in range(4)]
        for receiver in receivers:
            _out, err = receiver.communicate(timeout=60)
            assert "Traceback" not in err
        assert active_sequence(public_host) == public_host.sequence
    accepted = [r["sequence"] for r in
                activation_log.records(public_host.root / "state" / "activation.log")
                if r["outcome"] == "accepted"]
    assert accepted == sorted(set(accepted)) and accepted[-1] == base + 12
    assert json.loads((public_host.root / "state" / "last-sequence").read_text())["sequence"] \
        == base + 12


# --- break 4 --------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["delete", "-5", "garbage", "small"])
def test_break_04_a_damaged_last_sequence_stops_receiving(public_host, damage):
    old = public_host.snapshot()                     # 101
    public_host.publish()                            # 102 accepted and active
    state_file = public_host.root / "state" / "last-sequence"
    if damage == "delete":
        state_file.unlink()
    elif damage == "small":
        record = json.loads(state_file.read_text())
        state_file.write_text(json.dumps({**record, "sequence": 1}))
    else:
        state_file.write_text(damage + "\n")
    public_host.drop(old, "old.bin")
    stopped = receive(public_host)
    assert stopped.returncode == 2
    assert "last-sequence" in stopped.stderr and RECOVER in stopped.stderr
    assert inbox(public_host) == ["old.bin"] and active_sequence(public_host) == 102
    status = no_traceback(mirror_cli(public_host, "status"))
    assert status.returncode == 1 and "STATE PROBLEM" in status.stdout

    recovered = no_traceback(mirror_cli(public_host, "recover"))
    assert recovered.returncode == 0 and "sequence 102" in recovered.stdout
    assert outcomes(public_host)[-1] == "recovered"
    refused = receive(public_host)                   # the old file is still refused ...
    assert "RollbackRefused" in refused.stderr and active_sequence(public_host) == 102
    public_host.publish()                            # ... and the next one is accepted
    assert active_sequence(public_host) == public_host.sequence


def test_break_04_a_garbage_state_never_crashes_status_or_receive(public_host):
    public_host.publish()
    (public_host.root / "state" / "last-sequence").write_bytes(b"\xff\xfe\x00garbage")
    assert receive(public_host).returncode == 0           # nothing waiting: nothing read
    public_host.drop(public_host.snapshot())
    assert receive(public_host).returncode == 2
    assert no_traceback(mirror_cli(public_host, "status")).returncode == 1


# --- break 5 --------------------------------------------------------------------------

def _cut_last_line(log: Path) -> None:
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])


def _drop_last_record(log: Path) -> None:
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-1]))


def _rechain_without_first(log: Path) -> None:
    """What someone who knows the format can do: drop a record and chain the rest again."""
    records = list(activation_log.records(log))[1:]
    log.unlink()
    for record in records:
        fields = {k: v for k, v in record.items() if k not in ("n", "at", "prev", "hash", "outcome")}
        activation_log.append(log, record["outcome"], **fields)


@pytest.mark.parametrize("damage", [_cut_last_line, _drop_last_record, _rechain_without_first,
                                    Path.unlink])
def test_break_05_a_damaged_activation_log_stops_receiving(public_host, damage):
    public_host.publish()
    public_host.publish()
    log = public_host.root / "state" / "activation.log"
    damage(log)
    public_host.drop(public_host.snapshot(), "newer.bin")
    stopped = receive(public_host)
    assert stopped.returncode == 2
    assert "activation.log" in stopped.stderr and RECOVER in stopped.stderr
    assert inbox(public_host) == ["newer.bin"]                       # not activated
    assert active_sequence(public_host) == public_host.sequence - 1
    status = no_traceback(mirror_cli(public_host, "status"))
    assert status.returncode == 1 and "STATE PROBLEM" in status.stdout
    assert "intact" not in status.stdout and "activation log: " in status.stdout
    assert "BROKEN" in status.stdout


def test_break_05_the_log_entry_is_written_before_the_switch(public_host):
    """A log that cannot take the record stops the switch; after recovery, every active
    snapshot has its record."""
    public_host.publish()
    log = public_host.root / "state" / "activation.log"
    _cut_last_line(log)
    public_host.drop(public_host.snapshot(), "waiting.bin")
    assert receive(public_host).returncode == 2
    assert active_sequence(public_host) == public_host.sequence - 1
    recovered = no_traceback(mirror_cli(public_host, "recover"))
    assert "cut back" in recovered.stdout
    assert list(log.parent.glob("activation.log.*.damaged"))        # the original is kept
    public_host.publish()
    records = list(activation_log.records(log))
    assert [r["outcome"] for r in records] == ["recovered", "accepted", "accepted"]
    assert records[-1]["sequence"] == active_sequence(public_host)
    assert activation_log.verify_log(log)[0]


# --- break 6 --------------------------------------------------------------------------

DISK_FULL_SCRIPT = textwrap.dedent("""
    import hashlib, json, os, subprocess, sys
    state, command, ini, free_pages = sys.argv[1:5]
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", state], check=True)
    def receive():
        done = subprocess.run([command, "-c", ini, "receive"], capture_output=True, text=True)
        return {"rc": done.returncode, "out": done.stdout, "err": done.stderr}
    def active():
        return hashlib.sha256(open(os.path.join(state, "active.snapshot"), "rb").read()).hexdigest()
    first = receive()                                    # seq 101 onto the fresh state
    serving = active()
    os.rename(os.path.join(state, "..", "inbox-later", "next.bin"),
              os.path.join(state, "..", "inbox", "next.bin"))
    filler = os.path.join(state, "filler")
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT)   # fill the disk, less a few pages
    try:
        while True:
            os.write(handle, b"x" * 4096)
    except OSError:
        pass
    os.close(handle)
    size = os.path.getsize(filler)
    os.truncate(filler, max(0, size - int(free_pages) * 4096))
    full = receive()
    full["old_still_active"] = active() == serving
    os.unlink(filler)                                    # space freed
    again = receive()
    print(json.dumps({"first": first, "full": full, "again": again,
                      "log": open(os.path.join(state, "activation.log")).read()}))
""")


@pytest.mark.parametrize("free_pages", [0, 1, 2, 3])
def test_break_06_disk_full_on_the_state_directory_loses_nothing(public_host, free_pages):
    """The state directory on a 1 MB tmpfs (in a private mount namespace) filled up to a few
    pages: whichever step runs out of space, the old snapshot keeps serving and, once space
    is freed, the same file is accepted — not refused as a rollback."""
    (public_host.root / "state").mkdir()
    (public_host.root / "inbox-later").mkdir()
    public_host.drop(public_host.snapshot(padding=2000), "first.bin")          # 42 kB each
    (public_host.root / "inbox-later" / "next.bin").write_bytes(public_host.snapshot(padding=2000))
    ini = public_host.write_ini()
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable, "-c",
                           DISK_FULL_SCRIPT, str(public_host.root / "state"), COMMAND, str(ini),
                           str(free_pages)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["first"]["rc"] == 0
    for step in ("full", "again"):
        assert "Traceback" not in result[step]["err"], result[step]["err"]
    assert "RollbackRefused" not in result["again"]["err"]
    assert result["again"]["rc"] == 0, result["again"]
    accepted = [json.loads(line)["sequence"] for line in result["log"].splitlines()
                if json.loads(line)["outcome"] == "accepted"]
    assert accepted == [public_host.sequence - 1, public_host.sequence]
    assert result["full"]["rc"] == 1 and result["full"]["old_still_active"]
    assert "not received" in result["full"]["err"] and "stays in the inbox" in result["full"]["err"]


def test_break_06_the_bytes_already_active_are_a_no_op(public_host):
    data = public_host.snapshot()
    public_host.drop(data, "once.bin")
    receive(public_host)
    public_host.drop(data, "twice.bin")
    again = receive(public_host)
    assert again.returncode == 0 and "already active" in again.stdout
    assert outcomes(public_host) == ["accepted"] and inbox(public_host) == []


# --- break 7 --------------------------------------------------------------------------

def test_break_07_quarantine_on_another_file_system(public_host):
    shm = Path("/dev/shm")  # noqa: S108 - a tmpfs: another file system than the test's
    assert os.stat(shm).st_dev != os.stat(public_host.root).st_dev, "needs two file systems"
    quarantine = shm / f"shinsei-quarantine-{os.getpid()}-{public_host.root.name}"
    public_host.settings["mirror.quarantine"] = str(quarantine)
    try:
        public_host.publish()
        public_host.drop(b"not a snapshot at all", "bad.bin")
        public_host.drop(public_host.snapshot(), "zz-newer.bin")
        os.utime(public_host.root / "inbox" / "zz-newer.bin", (2e9, 2e9))  # after bad.bin
        result = receive(public_host)
        assert "rejected bad.bin" in result.stderr and "accepted zz-newer.bin" in result.stdout
        assert inbox(public_host) == []
        kept = sorted(p.name for p in quarantine.iterdir())
        assert any(name.endswith("bad.bin") for name in kept)
        assert (quarantine / next(n for n in kept if n.endswith("bad.bin"))).read_bytes() \
            == b"not a snapshot at all"
        assert active_sequence(public_host) == public_host.sequence
    finally:
        subprocess.run(["rm", "-rf", str(quarantine)], check=False)


# --- break 8 --------------------------------------------------------------------------

def test_break_08_any_name_the_upload_account_can_create(public_host):
    public_host.publish()
    inbox_dir = public_host.root / "inbox"
    long_name = "a" * 245 + ".bin"                                        # 249 characters
    (inbox_dir / long_name).write_bytes(b"garbage")
    (inbox_dir / "evil\x1b[2J\x07name.bin").write_bytes(b"garbage")
    (inbox_dir / os.fsdecode(b"bytes-\xff\xfe.bin")).write_bytes(b"garbage")
    (inbox_dir / ("長い名前" * 20 + ".bin")).write_bytes(b"garbage")   # 243 bytes of UTF-8
    result = receive(public_host)
    assert result.returncode == 1
    assert "\x1b" not in result.stdout + result.stderr and "\\x1b" in result.stderr
    assert "\\xff\\xfe" in result.stderr
    assert inbox(public_host) == [] and outcomes(public_host).count("rejected") == 4
    for name in os.listdir(public_host.root / "quarantine"):
        assert len(os.fsencode(name)) <= 255
    public_host.publish()
    assert active_sequence(public_host) == public_host.sequence


def test_break_08_links_pipes_and_directories_are_refused_without_being_followed(public_host):
    public_host.publish()
    inbox_dir = public_host.root / "inbox"
    elsewhere = public_host.root / "elsewhere.bin"
    elsewhere.write_bytes(public_host.snapshot())                        # valid, newer
    (inbox_dir / "link.bin").symlink_to(elsewhere)
    (inbox_dir / "shadow.bin").symlink_to("/etc/shadow")
    os.mkfifo(inbox_dir / "pipe.bin")
    (inbox_dir / "folder.bin").mkdir()
    result = receive(public_host, timeout=30)                            # a pipe never blocks it
    assert result.returncode == 1
    refusals = [line for line in result.stderr.splitlines() if line.startswith("rejected")]
    assert len(refusals) == 4 and all("NotARegularFile" in line for line in refusals)
    assert active_sequence(public_host) == public_host.sequence - 1     # the link's target was not taken
    assert elsewhere.exists() and inbox(public_host) == []
    assert Path("/etc/shadow").exists()


def test_a_huge_sparse_file_is_refused_by_its_size_without_being_read(public_host):
    public_host.publish()
    (public_host.root / "inbox" / "huge.bin").touch()
    os.truncate(public_host.root / "inbox" / "huge.bin", 1 << 40)       # 1 TB, sparse
    result = receive(public_host, **{"mirror.max_snapshot_bytes": "1000000"})
    assert "SnapshotTooLarge" in result.stderr and inbox(public_host) == []


def test_a_missing_configuration_is_a_message_not_a_traceback(tmp_path):
    result = subprocess.run([COMMAND, "-c", str(tmp_path / "nowhere.ini"), "status"],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nowhere.ini" in result.stderr and "-c" in result.stderr


def test_a_header_nested_past_pythons_limit_is_refused_not_a_crash(public_host):
    import struct

    from transfer.snapshot import MAGIC

    public_host.publish()
    header = b"[" * 200_000 + b"]" * 200_000
    public_host.drop(MAGIC + struct.pack(">I", len(header)) + header + struct.pack(">I", 2) + b"{}",
                     "nested.bin")
    public_host.drop(public_host.snapshot(), "zz-next.bin")
    os.utime(public_host.root / "inbox" / "zz-next.bin", (2e9, 2e9))
    result = receive(public_host)
    assert "rejected nested.bin: MalformedSnapshot" in result.stderr
    assert "accepted zz-next.bin" in result.stdout and inbox(public_host) == []


def test_a_refusal_quoting_the_files_own_fields_is_escaped_and_short(public_host):
    public_host.publish()
    public_host.drop(public_host.snapshot(header={"created_at": "\x1b[2J" + "9" * 100_000}))
    result = receive(public_host)
    assert "MalformedSnapshot" in result.stderr and "\x1b" not in result.stderr
    [record] = [r for r in activation_log.records(public_host.root / "state" / "activation.log")
                if r["outcome"] == "rejected"]
    assert len(record["reason"]) <= 500
