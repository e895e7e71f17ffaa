"""Catch-up: a public host that missed a publication receives the same signed file on the next
plain run of the transfer job — no new request, no new approval — recorded as a re-delivery
of that publication; a host holding a newer sequence is never sent an older one.

The steps run as the units run them (four processes, each with its own configuration) to
two real sshd upload accounts, one of them stopped and started again; the public hosts'
receivers read what arrived, as deployed.
"""

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intranet.audit.models import AuditRecord
from intranet.publications import builder, changes, recorder
from intranet.publications.job import PublishPlan, publish
from intranet.publications.models import Delivery, Publication
from public_mirror.receive import receive_once
from public_mirror.settings import load
from tests.conftest import login
from tests.factories import make_applications, make_programme
from tests.integration.test_publish import JOB, approved_request
from tests.integration.test_publish_steps import Steps, ok
from tests.visible_text import visible_text
from transfer import signer, spool
from transfer.keys import load_lookup_key
from transfer.push import push_signed
from transfer.transports import Delivery as Delivery_
from transfer.transports import OutboxDestination
from transfer.verify import Origin, TrustPolicy

needs_sshd = pytest.mark.skipif(
    os.geteuid() != 0 or not Path("/usr/sbin/sshd").exists(),
    reason="needs root and openssh-server (make test installs it)")


@pytest.fixture
def steps(db_url, tmp_path, session_factory, accounts):
    make_applications(session_factory, make_programme(session_factory), 5)
    return Steps(db_url, tmp_path)


class PublicHost:
    """An upload account (a real sshd) and the receiver that reads its inbox."""

    def __init__(self, sshd, root: Path, keys: Path):
        self.sshd, self.root = sshd, root
        self.settings = {
            "mirror.inbox": str(sshd.inbox), "mirror.quarantine": str(root / "quarantine"),
            "mirror.state": str(root / "state"), "mirror.trusted_keys": str(keys / "sign.key.pub"),
            "mirror.lookup_key": str(keys / "lookup.key"), "mirror.origin": "142158:prod",
            "site.municipality_name": "テスト市", "site.contact": "0120-000-000",
            "site.municipality_name.en": "Test City", "site.municipality_name.ja-easy": "テスト市",
            "site.contact.en": "0120-000-000", "site.contact.ja-easy": "0120-000-000"}

    @property
    def destination(self):
        return f"sftp://shinsei-upload@127.0.0.1:{self.sshd.port}/inbox"

    def receive(self):
        loaded = load(dict(self.settings))
        return receive_once(loaded["mirror.paths"], loaded["mirror.trust"])

    def inbox(self):
        return sorted(p.name for p in self.sshd.inbox.iterdir())


@pytest.fixture
def city(steps, tmp_path):
    """Two public hosts behind one pusher (one client key, both host keys pinned)."""
    from lab.sshd import UPLOAD_USER, Sshd

    servers = []
    try:
        for _ in range(2):
            servers.append(Sshd().start())
        first, second = servers
        shutil.copy(first.root / "client_key.pub", second.root / "authorized_keys" / UPLOAD_USER)
        known = tmp_path / "known_hosts"
        known.write_text("".join(s.known_hosts(tmp_path / f"kh{n}").read_text()
                                 for n, s in enumerate(servers)))
        hosts = [PublicHost(s, tmp_path / f"public-{n + 1}", steps.root / "keys")
                 for n, s in enumerate(servers)]
        steps.pusher = steps.step_ini("pusher", **{
            "transfer.public_keys": steps.root / "keys" / "sign.key.pub",
            "transfer.destinations": "\n    ".join(["", *(h.destination for h in hosts)]),
            "transfer.known_hosts": known, "transfer.client_key": first.client_key,
            "transfer.timeout": 3, "transfer.retries": 0, "transfer.deadline": 30})
        # The recorder believes reports for its configured destinations only: the same two.
        steps.intranet.write_text(steps.intranet.read_text().replace(
            f"transfer.destinations = outbox:{steps.inbox}",
            "transfer.destinations =" + "".join(f"\n    {h.destination}" for h in hosts)))
        yield hosts
    finally:
        for server in servers:
            if server.process and server.process.poll() is not None:
                server.resume()            # stopped by the test: stop() expects it running
            server.stop()


def run_job(job: Steps):
    """One plain run, as ``systemctl start shinsei-transfer.service`` runs it."""
    return {"build": ok(job.build()), "sign": ok(job.sign()),
            "push": job.push(), "record": job.record()}


def rows(session_factory):
    with session_factory() as dbsession:
        return [(d.destination, d.delivered, d.redelivery, d.publication_id, d.report)
                for d in dbsession.execute(select(Delivery).order_by(Delivery.id)).scalars()]


def transfer_actions(session_factory):
    with session_factory() as dbsession:
        return dbsession.execute(select(AuditRecord.action, AuditRecord.target).where(
            AuditRecord.action.like("transfer.%")).order_by(AuditRecord.seq)).all()


@needs_sshd
def test_a_host_down_at_approval_gets_the_same_publication_on_the_next_plain_run(
        steps, city, session_factory):
    up, down = city
    publication_id = approved_request(session_factory)
    down.sshd.pause()
    first = run_job(steps)
    # The stopped host fails alone, and the run says so.
    assert first["push"].returncode == 1 and first["record"].returncode == 1
    assert f"{up.destination}: delivered" in first["record"].stdout
    assert f"{down.destination}: FAILED" in first["record"].stdout
    [accepted] = up.receive()
    assert accepted.accepted, accepted.reason
    sent = (steps.spool / spool.SIGNED / f"snapshot-{accepted.sequence}.bin").read_bytes()

    down.sshd.resume()
    second = run_job(steps)           # no new request, no new approval
    assert f"current publication {publication_id}" in second["build"]
    assert "kept for hosts that missed it (not re-signed)" in second["sign"]
    assert second["push"].returncode == 0, second["push"].stderr
    assert "sent again (same file)" in second["push"].stdout
    assert second["record"].returncode == 0, second["record"].stdout + second["record"].stderr
    # The same bytes, the same sequence, to the host that missed it only.
    assert down.inbox() == [f"snapshot-{accepted.sequence}.bin"]
    assert (down.sshd.inbox / f"snapshot-{accepted.sequence}.bin").read_bytes() == sent
    assert up.inbox() == []                       # received and not sent again
    [caught_up] = down.receive()
    assert caught_up.accepted and caught_up.sequence == accepted.sequence, caught_up.reason
    recorded = rows(session_factory)
    assert [(d, ok_, again) for d, ok_, again, _, _ in recorded] == [
        (up.destination, True, False), (down.destination, False, False),
        (down.destination, True, True)]
    assert {r[3] for r in recorded} == {publication_id}
    assert transfer_actions(session_factory) == [
        ("transfer.delivery", up.destination), ("transfer.delivery", down.destination),
        ("transfer.redelivery", down.destination)]
    with session_factory() as dbsession:
        assert dbsession.get(Publication, publication_id).state == "published"
        again = dbsession.execute(select(AuditRecord).where(
            AuditRecord.action == "transfer.redelivery")).scalar_one()
        details = json.loads(again.details)
        assert details["sequence"] == accepted.sequence and details["result"] == "delivered"
        assert details["publications"] == [publication_id]

    # Both hosts current: the next run sends nothing and records nothing.
    third = run_job(steps)
    assert "nothing new to push" in ok(third["push"])
    assert third["record"].returncode == 0
    assert down.inbox() == [] and up.inbox() == []
    assert rows(session_factory) == recorded


@needs_sshd
def test_a_run_while_the_host_is_still_down_fails_for_it_alone_and_says_so(
        steps, city, session_factory, testapp):
    up, down = city
    approved_request(session_factory)
    down.sshd.pause()
    run_job(steps)
    up.receive()
    again = run_job(steps)                      # still down
    assert again["push"].returncode == 1
    assert f"{down.destination}: FAILED" in again["push"].stdout
    assert up.destination not in again["push"].stdout       # the current host is left alone
    assert again["record"].returncode == 1
    assert up.inbox() == []
    assert [(d, ok_, again_) for d, ok_, again_, _, _ in rows(session_factory)][-1] == (
        down.destination, False, True)
    login(testapp, "supervisor")
    shown = visible_text(testapp.get("/publications").text, skip_classes={"technical"})
    assert "再送できませんでした。" in shown and "公開サーバーに接続できませんでした" in shown
    assert "同じ内容を自動で送り直します" in shown
    down.sshd.resume()
    ok(run_job(steps)["record"])
    login(testapp, "security_officer")
    log = visible_text(testapp.get("/transfers").text, skip_classes={"technical"})
    assert "再送済" in log and "同じ公開の再送（前回届いていなかった公開先へ）" in log
    # The failures are followed by the delivery: nothing is left to do about them.
    assert "この失敗への対応は不要です。" in log


@needs_sshd
def test_an_older_snapshot_sent_anyway_is_refused_by_the_public_host(steps, city,
                                                                     session_factory):
    """The public host's own rule, should the intranet's ever fail: the newer stays active."""
    up, _down = city
    approved_request(session_factory)
    run_job(steps)
    [first] = up.receive()
    older = (steps.spool / spool.SIGNED / f"snapshot-{first.sequence}.bin").read_bytes()
    approved_request(session_factory, note="2回目")
    run_job(steps)
    [second] = up.receive()
    assert second.accepted and second.sequence > first.sequence
    (up.sshd.inbox / f"snapshot-{first.sequence}.bin").write_bytes(older)
    [refused] = up.receive()
    assert not refused.accepted and "RollbackRefused" in refused.reason
    state = (Path(up.settings["mirror.state"]) / "last-sequence").read_text()
    assert str(second.sequence) in state


# ---- the same steps in one process (as ``shinsei-transfer publish`` runs them) --------------

class Job:
    """The four steps' functions on the spool kept between runs, to one outbox."""

    def __init__(self, steps: Steps):
        self.steps, self.spool = steps, steps.spool
        self.plan = PublishPlan([steps.signing], load_lookup_key(steps.root / "keys" / "lookup.key"),
                                Origin("142158", "prod"), [OutboxDestination(steps.inbox)],
                                timedelta(hours=72), JOB, checkpoint_file=steps.checkpoints,
                                spool_dir=steps.spool)
        self.policy = TrustPolicy([steps.signing.public_key], Origin("142158", "prod"))

    def run(self, session_factory):
        return publish(session_factory, self.plan)

    def build_and_sign(self, session_factory):
        recorder.record_results(session_factory, self.plan.build_plan(), self.spool)
        builder.build_spool(session_factory, self.plan.build_plan(), self.spool)
        return signer.sign_spool(self.spool, self.plan.signing_keys, self.plan.origin,
                                 checkpoint_file=None)

    def push(self, now=None):
        return push_signed(self.spool, self.plan.destinations, self.policy, now=now)

    def record(self, session_factory):
        return recorder.record_results(session_factory, self.plan.build_plan(), self.spool)


@pytest.fixture
def job(steps):
    return Job(steps)


def test_every_host_down_at_approval_the_next_run_publishes_it(job, steps, session_factory):
    publication_id = approved_request(session_factory)
    steps.inbox.rmdir()                    # the only destination is gone
    assert [d.delivered for d in job.run(session_factory)[1]] == [False]
    with session_factory() as dbsession:
        assert dbsession.get(Publication, publication_id).state == "failed"
    steps.inbox.mkdir()
    assert job.run(session_factory) == ([publication_id], [
        Delivery_(f"outbox:{steps.inbox}", True)])
    assert len(list(steps.inbox.iterdir())) == 1
    with session_factory() as dbsession:
        assert dbsession.get(Publication, publication_id).state == "published"
        # The preview's "before" is what residents now see.
        assert changes.of_preview(dbsession).total("moved") == 0


def test_both_current_the_run_does_nothing(job, steps, session_factory):
    approved_request(session_factory)
    job.run(session_factory)
    [file] = steps.inbox.iterdir()
    recorded, actions = rows(session_factory), transfer_actions(session_factory)
    assert job.run(session_factory) == ([], [])
    assert list(steps.inbox.iterdir()) == [file]
    assert rows(session_factory) == recorded
    assert transfer_actions(session_factory) == actions


def test_a_new_publication_supersedes_the_catch_up(job, steps, session_factory):
    approved_request(session_factory)
    steps.inbox.rmdir()
    job.run(session_factory)
    steps.inbox.mkdir()
    newer = approved_request(session_factory, note="新しい依頼")
    assert job.run(session_factory)[0] == [newer]
    [file] = steps.inbox.iterdir()
    with session_factory() as dbsession:
        assert dbsession.get(Publication, newer).sequence == int(file.name[9:-4])
        assert dbsession.execute(select(func.count()).select_from(Delivery).where(
            Delivery.redelivery.is_(True))).scalar_one() == 0


def test_a_host_recorded_with_a_newer_sequence_is_never_sent_an_older_one(
        job, steps, session_factory, caplog):
    approved_request(session_factory)
    steps.inbox.rmdir()
    job.run(session_factory)
    steps.inbox.mkdir()
    job.build_and_sign(session_factory)
    signed = steps.spool / spool.SIGNED
    plan = json.loads((signed / spool.CATCH_UP).read_text())
    # As if the records said this host had since received a newer publication.
    plan["held"] = {f"outbox:{steps.inbox}": plan["sequence"] + 1}
    (signed / spool.CATCH_UP).write_text(json.dumps(plan))
    assert job.push() is None
    assert "newer than" in caplog.text and "never backwards" in caplog.text
    assert list(steps.inbox.iterdir()) == []


def test_an_older_signed_file_is_never_pushed(job, steps, session_factory, caplog):
    """E.g. the spool put back from an older backup: the pusher remembers what it sent last;
    the signer keeps only the current publication's file."""
    approved_request(session_factory)
    job.run(session_factory)
    signed = steps.spool / spool.SIGNED
    [older] = signed.glob("snapshot-*.bin")
    kept = older.read_bytes()
    approved_request(session_factory, note="2回目")
    job.run(session_factory)
    [newer] = signed.glob("snapshot-*.bin")
    newer.unlink()
    older.write_bytes(kept)
    assert job.push() is None and "never backwards" in caplog.text   # the pusher alone
    assert job.run(session_factory) == ([], [])    # a whole run: the signer removes it
    assert not older.exists()
    assert len(list(steps.inbox.iterdir())) == 2   # the two publications, nothing else


def test_an_expired_publication_is_not_sent_again_and_the_screens_say_why(
        job, steps, session_factory, testapp):
    publication_id = approved_request(session_factory)
    steps.inbox.rmdir()
    job.run(session_factory)
    steps.inbox.mkdir()
    job.build_and_sign(session_factory)
    later = datetime.now(UTC) + timedelta(hours=73)     # past the 72 hours it is valid for
    result = job.push(now=later)
    assert result is not None and not result["verified"] and result["kind"] == "redelivery"
    assert list(steps.inbox.iterdir()) == []
    [recorded] = job.record(session_factory)
    assert not recorded.delivered and "not sent again: SnapshotExpired" in recorded.reason
    with session_factory() as dbsession:
        assert dbsession.get(Publication, publication_id).state == "failed"
        last = dbsession.execute(select(Delivery).order_by(Delivery.id.desc())).scalars().first()
        assert last.redelivery and not last.delivered and "SnapshotExpired" in last.reason
    login(testapp, "supervisor")
    shown = visible_text(testapp.get("/publications").text, skip_classes={"technical"})
    said = shown.split("その内容の有効期限が切れていたため、送りませんでした。")
    assert len(said) == 2 and "もう一度公開を依頼してください" in said[1][:200]
    assert "同じ内容を自動で送り直します" not in said[1][:200]


def test_a_re_delivery_report_naming_no_sent_publication_is_recorded_once_as_a_failure(
        job, steps, session_factory):
    approved_request(session_factory)
    steps.inbox.rmdir()
    job.run(session_factory)
    steps.inbox.mkdir()
    job.run(session_factory)
    report = steps.spool / spool.RESULTS / spool.RESULT
    forged = json.loads(report.read_text())
    forged.update(sequence=forged["sequence"] + 7, report="ab" * 16)
    report.write_text(json.dumps(forged))
    before = rows(session_factory)
    assert job.record(session_factory) == []
    assert job.record(session_factory) == []      # read again by the next run: once only
    assert rows(session_factory) == before
    with session_factory() as dbsession:
        failures = dbsession.execute(select(AuditRecord).where(
            AuditRecord.action == "transfer.failed")).scalars().all()
    assert [f.target for f in failures] == [f"report:{'ab' * 16}"]
    assert "matches no publication sent before" in failures[0].details


def test_each_report_is_recorded_once(job, steps, session_factory):
    approved_request(session_factory)
    steps.inbox.rmdir()
    job.run(session_factory)
    steps.inbox.mkdir()
    job.run(session_factory)
    recorded = rows(session_factory)
    assert job.record(session_factory) == []
    job.build_and_sign(session_factory)   # the builder records the last report first, too
    assert rows(session_factory) == recorded
    assert len({r[4] for r in recorded}) == 2 and all(r[4] for r in recorded)


def test_an_unreadable_last_report_does_not_make_the_pusher_send_everything_again(
        job, steps, session_factory):
    approved_request(session_factory)
    job.run(session_factory)
    [file] = steps.inbox.iterdir()
    file.unlink()                                    # taken by the receiver, as deployed
    (steps.spool / spool.RESULTS / spool.RESULT).write_bytes(b"\xff not a report")
    assert job.run(session_factory) == ([], [])      # the plan says the destination holds it
    assert list(steps.inbox.iterdir()) == []
    assert len(rows(session_factory)) == 1
