"""The relief, measured, through a real OpenSSH sshd: after the upload, in the same session,
the pusher fetches the public host's usage counts (a folder the upload account may read and
nothing more); the recorder stores them, or refuses a hostile file with its reason while the
delivery itself stands."""

import json
import os
import pwd
from pathlib import Path

import paramiko
import pytest
from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.publications.job import publish
from intranet.usage.figures import relief_days
from intranet.usage.models import UsageCount
from lab.sshd import UPLOAD_USER, Sshd
from public_mirror.usage import UsageCounter
from tests.factories import make_applications, make_programme
from tests.integration.test_publish import approved_request, keys, plan  # noqa: F401
from transfer.sftp import SftpDestination
from transfer.usage_counts import MAX_SIZE, today_in_japan

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not Path("/usr/sbin/sshd").exists(),
                                reason="needs root and openssh-server (make test installs it)")


@pytest.fixture
def host():
    """A public host's sshd with the usage folder as the installer makes it: the residents'
    page owns it (root here), the upload account's group may read it (2750, files 0640)."""
    server = Sshd().start()
    usage = server.chroot / "usage"
    usage.mkdir()
    os.chown(usage, 0, pwd.getpwnam(UPLOAD_USER).pw_gid)
    usage.chmod(0o2750)
    server.usage_file = usage / "usage-counts.json"
    yield server
    server.stop()


def residents_looked_up(host, tmp_path, found=5, not_found=2, limited=1):
    """The residents' page counting answers as it does, and writing the report."""
    counter = UsageCounter(tmp_path / "state-usage", report=host.usage_file)
    for n in range(found + not_found):
        counter.count(n < found, "received" if n < found else None, programme="tokubetsu-2020")
    for _ in range(limited):
        counter.count_limited("tokubetsu-2020")
    old_umask = os.umask(0o027)        # the web unit's UMask
    try:
        counter.flush()
    finally:
        os.umask(old_umask)
    os.chown(host.usage_file, 0, pwd.getpwnam(UPLOAD_USER).pw_gid)   # setgid, as on the host


def destination(host, tmp_path):
    return SftpDestination("127.0.0.1", host.port, UPLOAD_USER, host.client_key,
                           host.known_hosts(tmp_path / "known_hosts"), "/inbox", timeout=5)


def stored(session_factory):
    with session_factory() as dbsession:
        return [(r.day, r.lookups, r.found, r.not_found, r.limited)
                for r in dbsession.execute(select(UsageCount)).scalars()]


def refusals(session_factory):
    with session_factory() as dbsession:
        return [json.loads(r.details)["reason"] for r in dbsession.execute(
            select(AuditRecord).where(AuditRecord.action == "transfer.usage_refused")).scalars()]


def test_the_pusher_fetches_the_counts_and_the_recorder_stores_them(
        session_factory, accounts, keys, tmp_path, host):  # noqa: F811
    make_applications(session_factory, make_programme(session_factory), 3)
    residents_looked_up(host, tmp_path)
    day = today_in_japan()       # conftest keeps the test clear of midnight
    approved_request(session_factory)
    _ids, [delivery] = publish(session_factory, plan(keys, [destination(host, tmp_path)]))
    assert delivery.delivered, delivery.reason
    assert stored(session_factory) == [(day, 7, 5, 2, 1)]
    with session_factory() as dbsession:
        [today] = relief_days(dbsession, day, days=1)
    assert (today.lookups, today.limited) == (7, 1)
    assert refusals(session_factory) == []
    # More lookups, the next delivery: the day is replaced, not added to.
    residents_looked_up(host, tmp_path / "later", found=10, not_found=0, limited=0)
    approved_request(session_factory, "again")
    publish(session_factory, plan(keys, [destination(host, tmp_path)]))
    assert stored(session_factory) == [(day, 10, 10, 0, 0)]


def test_the_upload_account_reads_the_counts_and_nothing_more(tmp_path, host):
    residents_looked_up(host, tmp_path)
    before = host.usage_file.read_bytes()
    client = paramiko.SSHClient()
    client.load_host_keys(str(host.known_hosts(tmp_path / "known_hosts")))
    client.connect("127.0.0.1", host.port, username=UPLOAD_USER,
                   key_filename=str(host.client_key), look_for_keys=False, allow_agent=False)
    try:
        sftp = client.open_sftp()
        assert sftp.open("/usage/usage-counts.json").read() == before
        for attempt in (lambda: sftp.open("/usage/usage-counts.json", "wb"),
                        lambda: sftp.remove("/usage/usage-counts.json"),
                        lambda: sftp.posix_rename("/usage/usage-counts.json", "/usage/x"),
                        lambda: sftp.open("/usage/other.json", "wb"),
                        lambda: sftp.posix_rename("/inbox/../usage/usage-counts.json",
                                                  "/inbox/taken.json")):
            with pytest.raises(OSError):
                attempt()
    finally:
        client.close()
    assert host.usage_file.read_bytes() == before


def test_a_hostile_file_is_refused_with_its_reason_and_the_delivery_stands(
        session_factory, accounts, keys, tmp_path, host):  # noqa: F811
    make_applications(session_factory, make_programme(session_factory), 3)
    hostile = {"format": "shinsei-usage-counts", "version": 1, "counts": [
        {"day": today_in_japan().isoformat(), "programme": "1000-0001", "lookups": 1, "found": 1,
         "not_found": 0, "limited": 0}]}
    host.usage_file.write_text(json.dumps(hostile))
    approved_request(session_factory)
    _ids, [delivery] = publish(session_factory, plan(keys, [destination(host, tmp_path)]))
    assert delivery.delivered
    assert stored(session_factory) == []
    [reason] = refusals(session_factory)
    assert "受付番号と読める文字列" in reason and "1000-0001" not in reason


def test_the_fetch_returns_the_bytes_unread_and_a_huge_or_missing_file_is_not_fetched(
        tmp_path, host):
    residents_looked_up(host, tmp_path)
    result = destination(host, tmp_path).deliver("snapshot-0.bin", b"data")
    assert result.delivered and result.usage == host.usage_file.read_bytes()
    host.usage_file.write_bytes(b" " * (MAX_SIZE + 1))
    result = destination(host, tmp_path).deliver("snapshot-1.bin", b"data")
    assert result.delivered and result.usage is None
    assert f"is {MAX_SIZE + 1} bytes" in result.usage_reason
    host.usage_file.unlink()
    result = destination(host, tmp_path).deliver("snapshot-2.bin", b"data")
    assert result.delivered and result.usage is None and "not fetched" in result.usage_reason

