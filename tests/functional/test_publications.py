"""Requesting and approving a publication in the intranet (four-eyes), and who sees what."""

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.publications import views
from intranet.publications.models import Publication
from tests.conftest import csrf_token, login
from tests.factories import make_applications, make_programme


@pytest.fixture
def data(session_factory):
    make_applications(session_factory, make_programme(session_factory), 5)


def request_one(app, note="6月10日分"):
    page = app.get("/publications")
    return app.post("/publications", {"csrf_token": csrf_token(page), "note": note})


def decide(app, publication_id, decision, status="*", digest=None):
    """Press approve or reject as the page offers it (with the digest the page shows)."""
    page = app.get("/publications")
    shown = re.findall(r'name="digest" value="([0-9a-f]*)"', page.text)
    return app.post(f"/publications/{publication_id}/decision",
                    {"csrf_token": csrf_token(page), "decision": decision,
                     "digest": digest if digest is not None else (shown[0] if shown else "")},
                    status=status)


def test_preview_shows_counts_and_changes(as_role, data):
    page = as_role("staff").get("/publications")
    assert "新たに掲載 <strong>5</strong> 件" in page.text and "受け付けました" in page.text


def test_staff_requests_and_another_supervisor_approves(testapp, data, dbsession):
    login(testapp, "staff")
    assert request_one(testapp).status_int == 303
    publication = dbsession.execute(select(Publication)).scalar_one()
    assert publication.state == "requested"
    testapp.reset()
    login(testapp, "supervisor")
    assert decide(testapp, publication.id, "approve").status_int == 303
    dbsession.expire_all()
    assert dbsession.get(Publication, publication.id).state == "approved"
    actions = dbsession.execute(select(AuditRecord.action).where(
        AuditRecord.action.startswith("publication.")).order_by(AuditRecord.seq)).scalars().all()
    assert actions == ["publication.request", "publication.approve"]


def test_the_requester_cannot_approve_their_own_request(as_role, data, dbsession):
    app = as_role("supervisor")
    request_one(app)
    publication = dbsession.execute(select(Publication)).scalar_one()
    refused = decide(app, publication.id, "approve", status=409)
    assert "依頼した本人は承認できません" in refused.text
    dbsession.expire_all()
    assert dbsession.get(Publication, publication.id).state == "requested"


def test_without_four_eyes_a_request_is_approved_at_once(app_with, accounts, data, dbsession):
    app = app_with(**{"publication.four_eyes": "false"})
    login(app, "staff")
    assert "二者承認なしで公開する設定" in app.get("/publications").text
    request_one(app)
    publication = dbsession.execute(select(Publication)).scalar_one()
    assert publication.state == "approved"
    assert publication.approved_digest == publication.content_digest


def test_staff_cannot_approve_and_the_officer_cannot_request(testapp, data, dbsession):
    login(testapp, "staff")
    request_one(testapp)
    publication = dbsession.execute(select(Publication)).scalar_one()
    decide(testapp, publication.id, "approve", status=403)
    testapp.reset()
    login(testapp, "security_officer")
    testapp.get("/publications", status=403)
    assert "転送ログ" in testapp.get("/transfers").text


def test_four_eyes_is_the_default_and_says_nothing_alarming(as_role, data):
    assert "二者承認なしで公開する設定" not in as_role("staff").get("/publications").text


def test_a_request_freezes_its_content_and_shows_the_digest(testapp, data, session_factory,
                                                            dbsession):
    from intranet.applications.models import Application
    from intranet.publications import content

    login(testapp, "staff")
    request_one(testapp)
    publication = dbsession.execute(select(Publication)).scalar_one()
    assert re.fullmatch(r"[0-9a-f]{64}", publication.content_digest)
    assert publication.content_rows == 5
    page = testapp.get("/publications")
    assert publication.content_digest[:16] in page.text
    # A change after the request does not touch what was requested.
    with session_factory() as s, s.begin():
        for application in s.scalars(select(Application)):
            application.status_code = "reviewing"
    dbsession.expire_all()
    frozen = dbsession.get(Publication, publication.id)
    assert content.digest(dbsession, frozen) == publication.content_digest
    assert {row.status_code for row in content.frozen_rows(dbsession, frozen.id)} == {"received"}


def test_an_approval_must_name_the_digest_of_the_request(testapp, data, dbsession):
    login(testapp, "staff")
    request_one(testapp)
    publication = dbsession.execute(select(Publication)).scalar_one()
    testapp.reset()
    login(testapp, "supervisor")
    for forged in ("", "0" * 64):
        refused = decide(testapp, publication.id, "approve", status=409, digest=forged)
        assert "ダイジェスト" in refused.text
    dbsession.expire_all()
    assert dbsession.get(Publication, publication.id).state == "requested"
    decide(testapp, publication.id, "approve", status=303)
    dbsession.expire_all()
    approved = dbsession.get(Publication, publication.id)
    assert approved.approved_digest == approved.content_digest
    record = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "publication.approve")).scalar_one()
    assert approved.content_digest in record.details


def test_an_approval_starts_the_job_through_the_trigger_file(app_with, accounts, data,
                                                             dbsession, tmp_path):
    trigger = tmp_path / "publish-requested"
    app = app_with(**{"publication.trigger_file": str(trigger)})
    login(app, "staff")
    request_one(app)
    assert not trigger.exists()                  # a request alone starts nothing
    app.reset()
    login(app, "supervisor")
    publication = dbsession.execute(select(Publication)).scalar_one()
    decide(app, publication.id, "approve", status=303)
    assert trigger.exists()


def test_a_request_starts_the_preparation_of_its_table_and_not_the_job(
        app_with, accounts, data, dbsession, tmp_path, monkeypatch):
    """The request's file starts shinsei-transfer-prepare.service (its table made while it
    waits); the job's file only the approval touches. Both once committed."""
    trigger, prepare = tmp_path / "publish-requested", tmp_path / "prepare-requested"
    seen = []

    def touched(committed, path):
        seen.append((committed, Path(path).name))
        Path(path).touch()

    monkeypatch.setattr(views, "_touch_when_committed", touched)
    app = app_with(**{"publication.trigger_file": str(trigger),
                      "publication.prepare_file": str(prepare)})
    login(app, "staff")
    request_one(app)
    assert seen == [(True, "prepare-requested")] and not trigger.exists()
    app.reset()
    login(app, "supervisor")
    publication = dbsession.execute(select(Publication)).scalar_one()
    decide(app, publication.id, "approve", status=303)
    assert seen[1:] == [(True, "publish-requested")]


def test_the_trigger_is_touched_only_once_the_approval_is_committed(
        app_with, accounts, data, dbsession, engine, tmp_path, monkeypatch):
    """The job the touch starts reads the database at once: it must find the approval. What
    another connection sees at the moment of the touch is what the job would see."""
    trigger = tmp_path / "publish-requested"
    seen = []

    def touched(committed, path):
        with engine.connect() as connection:
            seen.append((committed, connection.execute(
                select(Publication.state)).scalar_one()))
        Path(path).touch()

    monkeypatch.setattr(views, "_touch_when_committed", touched)
    app = app_with(**{"publication.trigger_file": str(trigger)})
    login(app, "staff")
    request_one(app)
    app.reset()
    login(app, "supervisor")
    publication = dbsession.execute(select(Publication)).scalar_one()
    decide(app, publication.id, "approve", status=303)
    assert seen == [(True, "approved")] and trigger.exists()


def two_requests_then_a_supervisor(testapp, dbsession):
    """Staff request twice (morning and afternoon); a supervisor logs in to decide."""
    login(testapp, "staff")
    request_one(testapp, note="午前分")
    request_one(testapp, note="午後分")
    earlier, later = dbsession.execute(select(Publication).order_by(Publication.id)).scalars()
    testapp.reset()
    login(testapp, "supervisor")
    return earlier, later


def test_an_earlier_request_cannot_be_approved_once_a_later_one_was(testapp, data, dbsession):
    """A hurried supervisor approves the older of two waiting requests after the newer one:
    its content is older than what the newer one publishes, so it would put older statuses
    back on the residents' page. Refused, with the newer request's number; rejecting it
    still works."""
    earlier, later = two_requests_then_a_supervisor(testapp, dbsession)
    decide(testapp, later.id, "approve", status=303, digest=later.content_digest)
    refused = decide(testapp, earlier.id, "approve", status=409, digest=earlier.content_digest)
    assert f"公開依頼（{later.id} 番）がすでに承認されています" in refused.text
    assert "却下して" in refused.text
    dbsession.expire_all()
    assert dbsession.get(Publication, earlier.id).state == "requested"
    decide(testapp, earlier.id, "reject", status=303)
    dbsession.expire_all()
    assert dbsession.get(Publication, earlier.id).state == "rejected"


def test_the_earlier_request_may_still_be_approved_first(testapp, data, dbsession):
    """The other order is safe (the job publishes the newest and supersedes the older)."""
    earlier, later = two_requests_then_a_supervisor(testapp, dbsession)
    decide(testapp, earlier.id, "approve", status=303, digest=earlier.content_digest)
    decide(testapp, later.id, "approve", status=303, digest=later.content_digest)
    dbsession.expire_all()
    assert {p.state for p in dbsession.execute(select(Publication)).scalars()} == {"approved"}


def test_the_refusal_reads_in_english(as_role, data, dbsession):
    staff = as_role("staff")
    request_one(staff)
    request_one(staff)
    earlier, later = dbsession.execute(select(Publication).order_by(Publication.id)).scalars()
    supervisor = as_role("supervisor")
    page = supervisor.get("/publications")
    supervisor.post("/language", {"locale": "en", "csrf_token": csrf_token(page)})
    decide(supervisor, later.id, "approve", status=303, digest=later.content_digest)
    refused = decide(supervisor, earlier.id, "approve", status=409, digest=earlier.content_digest)
    assert f"(no. {later.id}) has already been approved" in refused.text
