"""The transfer job end to end: approved request → build, sign → push (outbox and a real
sshd) → deliveries, audit records and the preview's "before" all recorded."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
import transaction
from sqlalchemy import select, text

from intranet.audit import services as audit_services
from intranet.audit.models import AuditRecord
from intranet.audit.writer import Actor
from intranet.db import get_tm_session
from intranet.publications import changes, services
from intranet.publications.job import PublishPlan, publish
from intranet.publications.models import Delivery, Publication
from intranet.users.services import find_user
from tests.factories import make_applications, make_programme
from tests.tampering import insider
from transfer.keys import generate_lookup_key, generate_signing_key
from transfer.transports import OutboxDestination
from transfer.verify import Origin, TrustPolicy, verify_snapshot

JOB = Actor(name="transfer", role="transfer", host="intranet-host", os_user="shinsei-transfer")


@pytest.fixture
def keys(tmp_path):
    signing = generate_signing_key(tmp_path / "sign.key", tmp_path / "sign.key.pub")
    return signing, generate_lookup_key(tmp_path / "lookup.key")


def approved_request(session_factory, note="test"):
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        staff, supervisor = find_user(dbsession, "staff"), find_user(dbsession, "supervisor")
        publication = services.request_publication(dbsession, JOB, staff, note, True)
        services.decide(dbsession, JOB, supervisor, publication, True, True,
                        digest=publication.content_digest)
        return publication.id


@pytest.fixture
def outbox(tmp_path):
    path = tmp_path / "outbox"
    path.mkdir()
    return path


def plan(keys, destinations, checkpoint_file=None):
    signing, secret = keys
    return PublishPlan([signing], secret, Origin("142158", "prod"), destinations,
                       timedelta(hours=72), JOB, checkpoint_file=checkpoint_file)


def verified(path, keys):
    return verify_snapshot(path.read_bytes(), TrustPolicy([keys[0].public_key],
                           Origin("142158", "prod")), last_sequence=None, now=None)


def test_nothing_approved_nothing_published(session_factory, accounts, keys, tmp_path):
    assert publish(session_factory, plan(keys, [OutboxDestination(tmp_path)])) == ([], [])


def test_publish_to_an_outbox_records_everything(session_factory, accounts, keys, tmp_path):
    make_applications(session_factory, make_programme(session_factory), 7)
    approved_request(session_factory)
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    ids, deliveries = publish(session_factory, plan(keys, [OutboxDestination(outbox)]))
    assert [d.delivered for d in deliveries] == [True]
    [file] = list(outbox.iterdir())
    snapshot = verify_snapshot(file.read_bytes(), TrustPolicy([keys[0].public_key],
                               Origin("142158", "prod")), last_sequence=None, now=None)
    assert snapshot.table.count == 7
    with session_factory() as dbsession:
        publication = dbsession.get(Publication, ids[0])
        assert publication.state == "published" and publication.sequence == snapshot.sequence
        record = dbsession.execute(select(AuditRecord).where(
            AuditRecord.action == "transfer.delivery")).scalar_one()
        for field in ('"requested_by":["staff"]', '"approved_by":["supervisor"]',
                      f'"sequence":{snapshot.sequence}', '"entries":7', '"result":"delivered"',
                      keys[0].key_id):
            assert field in record.details
        assert record.os_user == "shinsei-transfer" and record.host == "intranet-host"
        # The next preview starts from what was just published.
        assert changes.of_preview(dbsession).totals() == {
            "added": 0, "removed": 0, "moved": 0, "altered": 0}


def test_a_scheduled_run_publishes_only_approved_requests(session_factory, accounts, keys,
                                                          outbox):
    # The shipped timer used to publish live data with no requester and no approver.
    make_applications(session_factory, make_programme(session_factory), 2)
    with transaction.manager:                      # requested, not approved
        dbsession = get_tm_session(session_factory, transaction.manager)
        services.request_publication(dbsession, JOB, find_user(dbsession, "staff"), "x", True)
    assert publish(session_factory, plan(keys, [OutboxDestination(outbox)]),
                   scheduled=True) == ([], [])
    assert list(outbox.iterdir()) == []
    with session_factory() as dbsession:
        assert dbsession.execute(select(Publication.state)).scalars().all() == ["requested"]


def test_what_is_approved_is_what_is_published(session_factory, accounts, keys, outbox):
    from intranet.applications.models import Application
    from intranet.programmes.models import Programme

    make_applications(session_factory, make_programme(session_factory), 3)
    publication_id = approved_request(session_factory)
    # After approval: a status moves and a supervisor renames the programme.
    with session_factory() as dbsession, dbsession.begin():
        for application in dbsession.scalars(select(Application)):
            application.status_code = "reviewing"
        dbsession.scalars(select(Programme)).one().name = "承認後に変えた名前"
    ids, deliveries = publish(session_factory, plan(keys, [OutboxDestination(outbox)]))
    assert ids == [publication_id] and deliveries[0].delivered
    [file] = list(outbox.iterdir())
    snapshot = verified(file, keys)
    codes = [s["code"] for s in snapshot.header["statuses"]]
    assert {codes[i] for i in snapshot.table.status_counts()} == {"received"}
    assert snapshot.header["programmes"][0]["name"]["ja"] != "承認後に変えた名前"
    with session_factory() as dbsession:
        publication = dbsession.get(Publication, publication_id)
        assert snapshot.header["content_digest"] == publication.content_digest
        record = dbsession.execute(select(AuditRecord).where(
            AuditRecord.action == "transfer.delivery")).scalar_one()
        assert publication.content_digest in record.details
        # The change goes into the next publication: the preview shows it pending.
        assert changes.of_preview(dbsession).total("moved") == 3


def test_frozen_content_changed_after_approval_is_refused(session_factory, accounts, keys,
                                                          outbox, engine):
    make_applications(session_factory, make_programme(session_factory), 3)
    publication_id = approved_request(session_factory)
    with engine.begin() as conn:           # someone with the database edits the frozen rows
        conn.execute(text("UPDATE publication_rows SET status_code = 'paid'"))
    ids, deliveries = publish(session_factory, plan(keys, [OutboxDestination(outbox)]))
    assert ids == [publication_id] and deliveries == [] and list(outbox.iterdir()) == []
    with session_factory() as dbsession:
        assert dbsession.get(Publication, publication_id).state == "failed"
        record = dbsession.execute(select(AuditRecord).where(
            AuditRecord.action == "publication.refused")).scalar_one()
        assert "no longer reproduce the approved digest" in record.details


def test_a_request_approved_by_its_requester_is_refused_under_four_eyes(
        session_factory, accounts, keys, outbox, engine):
    make_applications(session_factory, make_programme(session_factory), 2)
    with transaction.manager:              # e.g. approved with four eyes off, then switched on
        dbsession = get_tm_session(session_factory, transaction.manager)
        services.request_publication(dbsession, JOB, find_user(dbsession, "staff"), "x", False)
    assert publish(session_factory, plan(keys, [OutboxDestination(outbox)])) == ([], [])
    with session_factory() as dbsession:
        assert dbsession.execute(select(Publication.state)).scalar_one() == "failed"


def test_an_older_approved_request_is_superseded_by_the_newer(session_factory, accounts, keys,
                                                              outbox):
    make_applications(session_factory, make_programme(session_factory), 2)
    older, newer = approved_request(session_factory), approved_request(session_factory)
    ids, _deliveries = publish(session_factory, plan(keys, [OutboxDestination(outbox)]))
    assert ids == [newer]
    with session_factory() as dbsession:
        assert dbsession.get(Publication, older).state == "superseded"
        assert dbsession.get(Publication, newer).state == "published"


def test_every_run_signs_an_audit_checkpoint_the_snapshot_carries(session_factory, accounts,
                                                                   keys, tmp_path, outbox):
    from transfer.checkpoints import read_file

    checkpoints = tmp_path / "checkpoints.jsonl"
    publish(session_factory, plan(keys, [OutboxDestination(outbox)], checkpoints))  # nothing
    make_applications(session_factory, make_programme(session_factory), 2)
    approved_request(session_factory)
    publish(session_factory, plan(keys, [OutboxDestination(outbox)], checkpoints))
    signed = read_file(checkpoints, [keys[0].public_key])
    assert len(signed) == 2
    [file] = list(outbox.iterdir())
    carried = verified(file, keys).header["audit_checkpoint"]
    assert carried == signed[-1].as_dict()
    with session_factory() as dbsession:
        assert audit_services.verify(dbsession, signed).ok


def test_a_failed_destination_is_recorded_and_audited(session_factory, accounts, keys, tmp_path):
    make_applications(session_factory, make_programme(session_factory), 2)
    approved_request(session_factory)
    missing = OutboxDestination(tmp_path / "no-such-dir")
    ids, deliveries = publish(session_factory, plan(keys, [missing]))
    assert not deliveries[0].delivered
    with session_factory() as dbsession:
        assert dbsession.get(Publication, ids[0]).state == "failed"
        delivery = dbsession.execute(select(Delivery)).scalar_one()
        assert not delivery.delivered and "FileNotFoundError" in delivery.reason


def test_an_edited_transfer_record_breaks_the_chain(session_factory, accounts, keys, tmp_path,
                                                    engine):
    make_applications(session_factory, make_programme(session_factory), 2)
    approved_request(session_factory)
    publish(session_factory, plan(keys, [OutboxDestination(tmp_path)]))
    with insider(engine) as conn:
        conn.execute(text("UPDATE audit_records SET details = replace(details, "
                          "'delivered', 'failed') WHERE action = 'transfer.delivery'"))
    with session_factory() as dbsession:
        verdict = audit_services.verify(dbsession)
    assert not verdict.ok


@pytest.mark.skipif(os.geteuid() != 0 or not Path("/usr/sbin/sshd").exists(),
                    reason="needs root and openssh-server (make test installs it)")
def test_publish_over_sftp_to_a_real_sshd(session_factory, accounts, keys, tmp_path):
    from lab.sshd import UPLOAD_USER, Sshd
    from transfer.sftp import SftpDestination

    make_applications(session_factory, make_programme(session_factory), 3)
    approved_request(session_factory)
    sshd = Sshd().start()
    try:
        destination = SftpDestination("127.0.0.1", sshd.port, UPLOAD_USER, sshd.client_key,
                                      sshd.known_hosts(tmp_path / "known_hosts"), "/inbox",
                                      timeout=5)
        _ids, deliveries = publish(session_factory, plan(keys, [destination]))
        assert deliveries[0].delivered, deliveries[0].reason
        [file] = list(sshd.inbox.iterdir())
        assert file.name.startswith("snapshot-") and file.stat().st_size > 0
        with session_factory() as dbsession:
            record = dbsession.execute(select(AuditRecord).where(
                AuditRecord.action == "transfer.delivery")).scalar_one()
            assert deliveries[0].host_key_fingerprint in record.details
    finally:
        sshd.stop()


def test_an_approval_older_than_the_published_one_is_refused_by_the_job(
        session_factory, accounts, keys, outbox):
    """The approval screen refuses an earlier request once a later one is approved; one
    approved past it (in the database by hand) is refused by the job, which sends nothing
    and says why, so residents never see older statuses come back."""
    make_applications(session_factory, make_programme(session_factory), 2)
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        earlier = services.request_publication(dbsession, JOB, find_user(dbsession, "staff"),
                                               "earlier", True).id
    later = approved_request(session_factory)
    assert publish(session_factory, plan(keys, [OutboxDestination(outbox)]))[0] == [later]
    with transaction.manager:
        dbsession = get_tm_session(session_factory, transaction.manager)
        refused = dbsession.get(Publication, earlier)
        with pytest.raises(services.PublicationRefused, match=f"{later} 番"):
            services.decide(dbsession, JOB, find_user(dbsession, "supervisor"), refused, True,
                            True, digest=refused.content_digest)
    with transaction.manager:      # what a hand in the database would do
        dbsession = get_tm_session(session_factory, transaction.manager)
        refused = dbsession.get(Publication, earlier)
        refused.state, refused.approved_digest = "approved", refused.content_digest
        refused.approved_by_id = find_user(dbsession, "supervisor").id
    before = sorted(outbox.iterdir())
    assert publish(session_factory, plan(keys, [OutboxDestination(outbox)])) == ([], [])
    assert sorted(outbox.iterdir()) == before
    with session_factory() as dbsession:
        assert dbsession.get(Publication, earlier).state == "failed"
        reason = dbsession.execute(select(AuditRecord.details).where(
            AuditRecord.action == "publication.refused")).scalar_one()
        assert f"older than publication {later}" in reason
