"""Pushing to a real OpenSSH sshd (chrooted, upload-only), and every fault performed for real."""

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import paramiko
import pytest

from lab.sshd import UPLOAD_USER, Sshd
from transfer.sftp import PinnedHostKeysOnly, SftpDestination, UnknownHostKey, push_transport
from transfer.transports import OutboxDestination, deliver_all

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not Path("/usr/sbin/sshd").exists(),
                                reason="needs root and openssh-server (make test installs it)")
DATA = b"snapshot bytes " * 1000


@pytest.fixture
def sshd():
    server = Sshd().start()
    yield server
    server.stop()


def destination(sshd, tmp_path, **kw):
    known = kw.pop("known", None) or sshd.known_hosts(tmp_path / "pinned_known_hosts")
    return SftpDestination("127.0.0.1", sshd.port, UPLOAD_USER, kw.pop("key", sshd.client_key),
                           known, "/inbox", timeout=5, backoff=0.1, **kw)


def sessions_of(listener: int) -> list[int]:
    """The upload account's session processes under this sshd listener (its descendants
    whose command line names the account), read from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            pid, rest = stat.read_text().split(" (", 1)
            parents[int(pid)] = int(rest.rsplit(") ", 1)[1].split()[1])
    found, under = [], {listener}
    for _ in range(4):                      # listener → monitor → the account's process
        under = {pid for pid, parent in parents.items() if parent in under}
        found += [pid for pid in under if _names_the_account(pid)]
    return found


def _names_the_account(pid: int) -> bool:
    with contextlib.suppress(OSError):
        return f"sshd: {UPLOAD_USER}".encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    return False


def test_push_lands_under_its_final_name(sshd, tmp_path):
    result = destination(sshd, tmp_path).deliver("snapshot-1.bin", DATA)
    assert result.delivered, result.reason
    assert (sshd.inbox / "snapshot-1.bin").read_bytes() == DATA
    assert [p.name for p in sshd.inbox.iterdir()] == ["snapshot-1.bin"]
    assert result.host_key_fingerprint.startswith("SHA256:")


def test_changed_host_key_is_refused_before_anything_is_sent(sshd, tmp_path):
    impostor = paramiko.Ed25519Key.from_private_key_file(str(sshd.client_key))
    known = sshd.known_hosts(tmp_path / "known_hosts", key=impostor)
    result = destination(sshd, tmp_path, known=known).deliver("snapshot-1.bin", DATA)
    assert not result.delivered and "host key changed" in result.reason
    assert result.attempts == 1 and result.host_key_fingerprint.startswith("SHA256:")
    assert list(sshd.inbox.iterdir()) == []


def test_unknown_host_is_refused(sshd, tmp_path):
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    result = destination(sshd, tmp_path, known=empty).deliver("snapshot-1.bin", DATA)
    assert not result.delivered and "not pinned" in result.reason
    assert list(sshd.inbox.iterdir()) == []


def test_wrong_client_key_is_refused(sshd, tmp_path):
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    result = destination(sshd, tmp_path, key=other).deliver("snapshot-1.bin", DATA)
    assert not result.delivered and "authentication refused" in result.reason
    assert result.attempts == 1


def test_connection_cut_mid_upload_leaves_no_file_and_the_retry_succeeds(sshd, tmp_path):
    big = os.urandom(64 * 1024 * 1024)
    cut = threading.Event()

    def cut_the_first_session():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not cut.is_set():
            parts = list(sshd.inbox.glob(".*.part"))
            if parts and parts[0].stat().st_size > 0:
                # The session's own sshd processes, not the listener — and only this
                # server's: other tests' sessions (a parallel worker's) are left alone.
                for pid in sessions_of(sshd.process.pid):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                assert not (sshd.inbox / "big.bin").exists()
                cut.set()
            time.sleep(0.005)

    watcher = threading.Thread(target=cut_the_first_session)
    watcher.start()
    result = destination(sshd, tmp_path, retries=2).deliver("big.bin", big)
    watcher.join()
    assert cut.is_set(), "the upload finished before it could be cut"
    assert result.delivered and result.attempts >= 2
    assert (sshd.inbox / "big.bin").read_bytes() == big
    assert not list(sshd.inbox.glob(".*.part"))  # the interrupted run's leftover was cleaned


def test_unwritable_destination_is_a_clear_failure(sshd, tmp_path):
    sshd.inbox.chmod(0o555)
    result = destination(sshd, tmp_path, retries=0).deliver("snapshot-1.bin", DATA)
    assert not result.delivered and "Permission denied" in result.reason
    assert list(sshd.inbox.iterdir()) == []


def test_fan_out_with_one_host_down(sshd, tmp_path):
    from lab.databases import free_port

    down = SftpDestination("127.0.0.1", free_port(), UPLOAD_USER, sshd.client_key,
                           sshd.known_hosts(tmp_path / "kh2"), "/inbox", timeout=2,
                           retries=1, backoff=0.05)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    results = deliver_all([destination(sshd, tmp_path), down, OutboxDestination(outbox)],
                          "snapshot-1.bin", DATA)
    assert [r.delivered for r in results] == [True, False, True]
    assert "Connection refused" in results[1].reason or "Errno" in results[1].reason
    assert (outbox / "snapshot-1.bin").read_bytes() == DATA


@pytest.fixture
def upload_session(sshd):
    client = paramiko.SSHClient()
    client.get_host_keys().add(f"[127.0.0.1]:{sshd.port}", "ssh-ed25519", sshd.host_key)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect("127.0.0.1", sshd.port, username=UPLOAD_USER, key_filename=str(sshd.client_key),
                   look_for_keys=False, allow_agent=False, timeout=5)
    yield client
    client.close()


def test_upload_account_gets_no_shell_and_runs_no_command(upload_session):
    _stdin, stdout, _stderr = upload_session.exec_command("id; cat /etc/passwd", timeout=5)
    output = stdout.read()
    assert b"uid=" not in output and b"root:" not in output
    channel = upload_session.get_transport().open_session()
    with pytest.raises(paramiko.SSHException):
        channel.get_pty()


def test_upload_account_cannot_forward_ports(upload_session, sshd):
    with pytest.raises(paramiko.ChannelException):
        upload_session.get_transport().open_channel(
            "direct-tcpip", ("127.0.0.1", sshd.port), ("127.0.0.1", 0), timeout=5)


def test_upload_account_sees_only_its_inbox(upload_session):
    sftp = upload_session.open_sftp()
    assert sftp.listdir("/") == ["inbox"]
    with pytest.raises(OSError):
        sftp.open("/etc/passwd")
    with pytest.raises(OSError):
        sftp.open("/outside.bin", "w").write(b"x")


def test_session_uses_aes_gcm_and_no_nagle_and_still_pins_the_host_key(sshd, tmp_path):
    """The faster session settings (docs/performance.md) keep the pinned-key contract."""
    known = sshd.known_hosts(tmp_path / "known_hosts")
    client = paramiko.SSHClient()
    client.load_host_keys(str(known))
    client.set_missing_host_key_policy(PinnedHostKeysOnly())
    try:
        client.connect("127.0.0.1", sshd.port, username=UPLOAD_USER,
                       key_filename=str(sshd.client_key), look_for_keys=False, allow_agent=False,
                       timeout=5, transport_factory=push_transport)
        transport = client.get_transport()
        assert transport.remote_cipher == transport.local_cipher == "aes128-gcm@openssh.com"
        assert transport.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        client.close()
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    stranger = paramiko.SSHClient()
    stranger.load_host_keys(str(empty))
    stranger.set_missing_host_key_policy(PinnedHostKeysOnly())
    with pytest.raises(UnknownHostKey):
        stranger.connect("127.0.0.1", sshd.port, username=UPLOAD_USER,
                         key_filename=str(sshd.client_key), look_for_keys=False,
                         allow_agent=False, timeout=5, transport_factory=push_transport)
    stranger.close()
