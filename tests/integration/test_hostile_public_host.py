"""The pusher against a public host that has been taken over (tests/integration/hostile_host.py).

In every case the pusher fails closed within its timeouts, says why in its report
(results/result.json, which the recorder puts in the audit), and nothing but the signed file
— under its temporary and final names — ever reaches the host.
"""

import json
import os
import time
from types import SimpleNamespace

import paramiko
import pytest

from lab.mirror_fixtures import PublicHost
from tests.integration import hostile_host as hostile
from transfer import spool
from transfer.push import push_signed
from transfer.sftp import MAX_SFTP_REPLY, SftpDestination
from transfer.verify import Origin, TrustPolicy

# Short, so a test that would hang shows it; the pusher's defaults are 15 s and 600 s.
TIMEOUT, DEADLINE = 2.0, 6.0


@pytest.fixture
def pusher(tmp_path):
    (tmp_path / "signer").mkdir()
    signer = PublicHost(tmp_path / "signer")
    data = signer.snapshot()
    root = tmp_path / "spool"
    spool.prepare(root)
    name = spool.snapshot_name(signer.sequence)
    (root / spool.SIGNED / name).write_bytes(data)
    key_path, key = hostile.new_client_key(tmp_path / "id_ed25519")
    return SimpleNamespace(root=root, data=data, name=name, key_path=key_path, key=key,
                           policy=TrustPolicy([signer.signing_key.public_key],
                                              Origin("142158", "prod")))


@pytest.fixture
def host_factory(tmp_path, pusher):
    made = []

    def make(behaviour):
        folder = tmp_path / f"host-{len(made)}"
        folder.mkdir()
        made.append(hostile.HostileHost(folder, pusher.key, behaviour))
        return made[-1]

    yield make
    for host in made:
        host.close()


def push(pusher, host, tmp_path, known=None):
    destination = SftpDestination(
        "127.0.0.1", host.port, "shinsei-upload", pusher.key_path,
        known or host.known_hosts(tmp_path / "known_hosts"), "/inbox", timeout=TIMEOUT,
        retries=1, backoff=0.1, deadline=DEADLINE)
    started = time.monotonic()
    result = push_signed(pusher.root, [destination], pusher.policy)
    return result, time.monotonic() - started


def reported(pusher):
    """What the pusher left for the recorder (and so for the audit)."""
    return json.loads((pusher.root / spool.RESULTS / spool.RESULT).read_text())


def only_the_signed_file_left(pusher, host):
    """Every byte the host received is the signed file's, under our two names only."""
    allowed = {f"/inbox/.{pusher.name}.part", f"/inbox/{pusher.name}"}
    assert set(host.record.written) <= allowed, host.record.written.keys()
    for written in host.record.written.values():
        assert pusher.data.startswith(bytes(written))
    assert not [e for e in host.record.events if e.startswith(("read:", "list:", "exec:"))]


def test_an_honest_host_receives_the_signed_file_and_nothing_else(pusher, host_factory,
                                                                   tmp_path):
    host = host_factory(hostile.HONEST)
    result, _ = push(pusher, host, tmp_path)
    assert [d["delivered"] for d in result["deliveries"]] == [True], result
    assert host.record.files == {f"/inbox/{pusher.name}": pusher.data}
    only_the_signed_file_left(pusher, host)
    # Write, check its size, rename: no listing, no download, nothing else.
    kinds = {event.split(":")[0] for event in host.record.events}
    assert kinds <= {"tcp-accepted", "auth", "channel", "subsystem", "open", "close", "stat",
                     "remove", "rename"}, host.record.events


def test_a_host_with_another_key_is_refused_before_anything_is_sent(pusher, host_factory,
                                                                     tmp_path):
    host = host_factory(hostile.HONEST)
    impostor = paramiko.Ed25519Key.from_private_key_file(
        str(hostile.new_client_key(tmp_path / "other")[0]))
    result, _ = push(pusher, host, tmp_path, known=host.known_hosts(tmp_path / "pinned", impostor))
    [delivery] = result["deliveries"]
    assert not delivery["delivered"] and "host key changed" in delivery["reason"]
    assert delivery["host_key_fingerprint"].startswith("SHA256:") and delivery["attempts"] == 1
    # Not even the account name was sent: no authentication, no channel, no byte of the file.
    assert not [e for e in host.record.events if e.startswith(("auth", "channel", "open"))]
    assert host.record.written == {}
    assert reported(pusher)["deliveries"][0]["reason"] == delivery["reason"]


def test_a_host_that_claims_a_write_it_never_made_is_caught_by_the_size_check(
        pusher, host_factory, tmp_path):
    host = host_factory(hostile.LYING)
    result, _ = push(pusher, host, tmp_path)
    [delivery] = result["deliveries"]
    assert not delivery["delivered"]
    assert f"size mismatch in put!  0 != {len(pusher.data)}" in delivery["reason"], delivery
    # Never renamed into place: the host's receiver has nothing under a final name.
    assert f"/inbox/{pusher.name}" not in host.record.files
    assert not [e for e in host.record.events if e.startswith("rename")]
    only_the_signed_file_left(pusher, host)


@pytest.mark.parametrize("behaviour", [hostile.STALL_BANNER, hostile.STALL_SFTP,
                                       hostile.TRICKLE])
def test_a_host_that_stalls_forever_is_given_up_within_the_timeouts(pusher, host_factory,
                                                                     tmp_path, behaviour):
    host = host_factory(behaviour)
    result, elapsed = push(pusher, host, tmp_path)
    [delivery] = result["deliveries"]
    assert not delivery["delivered"] and delivery["reason"], delivery
    # Two attempts, each ended by its timeout or its deadline, with the backoff between:
    # a bound on failing closed, not a speed figure.
    assert elapsed < 2 * (DEADLINE + 2 * TIMEOUT) + 5, (elapsed, delivery)
    assert reported(pusher)["deliveries"][0]["delivered"] is False
    only_the_signed_file_left(pusher, host)


@pytest.mark.parametrize(("behaviour", "reason"), [
    (hostile.HUGE_SFTP, f"SFTP packet of {0x00FFFFF0} bytes (at most {MAX_SFTP_REPLY}"),
    # (paramiko asks for the declared length plus the cipher's tag or MAC)
    (hostile.HUGE_SSH, f"SSH packet of {0x7FFFFFF0 // 1000}"),
    (hostile.GARBAGE_SFTP, "SFTP packet of"),
])
def test_oversized_or_malformed_packets_end_the_connection(pusher, host_factory, tmp_path,
                                                           behaviour, reason):
    host = host_factory(behaviour)
    result, elapsed = push(pusher, host, tmp_path)
    [delivery] = result["deliveries"]
    assert not delivery["delivered"] and reason in delivery["reason"], delivery
    assert "at most" in delivery["reason"]
    assert delivery["attempts"] == 1        # a hostile answer is not tried again
    assert elapsed < DEADLINE + 2 * TIMEOUT + 5
    assert host.record.written == {}


def test_a_host_that_offers_files_and_opens_channels_back_gets_nothing(pusher, host_factory,
                                                                       tmp_path):
    host = host_factory(hostile.OFFERS_FILES)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    result, _ = push(pusher, host, tmp_path)
    assert result["deliveries"][0]["delivered"], result
    time.sleep(1)     # the host's attempts to open channels towards the pusher have ended
    assert sorted(host.record.refused_back_channels) == ["forwarded-tcpip", "session", "x11"]
    # The bait was neither listed nor read, and nothing new appeared on the pusher's side
    # except its own report.
    assert host.record.files["/inbox/take-me.bin"] == b"bait " * 100
    only_the_signed_file_left(pusher, host)
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    new = set(after) - set(before) - {p.relative_to(tmp_path) for p in (tmp_path / "known_hosts",)}
    assert new == {(pusher.root / spool.RESULTS / spool.RESULT).relative_to(tmp_path)}, new


def test_a_file_that_does_not_verify_is_never_sent(pusher, host_factory, tmp_path):
    host = host_factory(hostile.HONEST)
    signed = pusher.root / spool.SIGNED / pusher.name
    forged = bytearray(pusher.data)
    forged[-1] ^= 1                         # one bit of the body changed after signing
    signed.write_bytes(bytes(forged))
    result, _ = push(pusher, host, tmp_path)
    assert result["verified"] is False and "BodyMismatch" in result["reason"], result
    assert result["deliveries"] == [] and host.record.events == []   # not even a connection
    assert reported(pusher) == result


def test_a_link_in_the_signed_folder_is_not_followed(pusher, host_factory, tmp_path):
    """Someone who can write signed/ points the next snapshot at a file only the pusher can
    read (its client key): it is refused without being opened."""
    host = host_factory(hostile.HONEST)
    link = pusher.root / spool.SIGNED / spool.snapshot_name(10 ** 12)
    os.symlink(pusher.key_path, link)
    result, _ = push(pusher, host, tmp_path)
    # Passed over (a planted name never blocks the genuine file), and named in the report.
    assert result["verified"] is True and "リンクは辿りません" in result["reason"], result
    only_the_signed_file_left(pusher, host)


def test_a_file_planted_in_signed_with_a_higher_sequence_does_not_block_the_genuine_one(
        pusher, host_factory, tmp_path):
    """Issue 25: whoever can write signed/ puts garbage under a higher number; the pusher used
    to believe the name, refuse the garbage, and never send the genuine snapshot again (its
    report then held the planted sequence, so even removing the file did not help)."""
    host = host_factory(hostile.HONEST)
    planted = pusher.root / spool.SIGNED / spool.snapshot_name(10 ** 15)
    planted.write_bytes(b"SHNS" + os.urandom(200))
    result, _ = push(pusher, host, tmp_path)
    assert result["verified"] is True and result["sequence"] != 10 ** 15, result
    assert [d["delivered"] for d in result["deliveries"]] == [True]
    assert planted.name in result["reason"] and "passed over" in result["reason"]
    only_the_signed_file_left(pusher, host)


def test_a_genuine_older_snapshot_renamed_higher_is_passed_over(pusher, host_factory, tmp_path):
    """A signed file is only believed about its sequence when its header says the same."""
    host = host_factory(hostile.HONEST)
    renamed = pusher.root / spool.SIGNED / spool.snapshot_name(10 ** 15)
    renamed.write_bytes(pusher.data)
    result, _ = push(pusher, host, tmp_path)
    assert result["verified"] is True and result["sequence"] != 10 ** 15, result
    assert "its header says sequence" in result["reason"]
    only_the_signed_file_left(pusher, host)


def test_a_refused_planted_report_does_not_block_later_genuine_files(pusher, host_factory,
                                                                    tmp_path):
    """A spool holding only the planted file reports it refused; the genuine file signed
    after it (a lower number) is still pushed: an unverified report sent nothing."""
    host = host_factory(hostile.HONEST)
    genuine = pusher.root / spool.SIGNED / pusher.name
    genuine.rename(tmp_path / "kept")
    planted = pusher.root / spool.SIGNED / spool.snapshot_name(10 ** 15)
    planted.write_bytes(b"garbage")
    refused, _ = push(pusher, host, tmp_path)
    assert refused["verified"] is False and refused["sequence"] == 10 ** 15
    (tmp_path / "kept").rename(genuine)
    result, _ = push(pusher, host, tmp_path)
    assert result["verified"] is True and [d["delivered"] for d in result["deliveries"]] == [True]
