"""Requesting and approving a publication in the intranet (four-eyes), and who sees what."""

import pytest
from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.db import engine_of
from intranet.publications.models import Publication
from tests.conftest import csrf_token, login
from tests.factories import make_applications, make_programme


@pytest.fixture
def data(session_factory):
    make_applications(session_factory, make_programme(session_factory), 5)


def request_one(app, note="6月10日分"):
    page = app.get("/publications")
    return app.post("/publications", {"csrf_token": csrf_token(page), "note": note})


def decide(app, publication_id, decision, status="*"):
    page = app.get("/publications")
    return app.post(f"/publications/{publication_id}/decision",
                    {"csrf_token": csrf_token(page), "decision": decision}, status=status)


def test_preview_shows_counts_and_changes(as_role, data):
    page = as_role("staff").get("/publications")
    assert "新規 5 件" in page.text and "受け付けました" in page.text


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


def test_without_four_eyes_a_request_is_approved_at_once(app_settings, accounts, data, dbsession):
    import webtest

    from intranet import main

    app = webtest.TestApp(main({}, **{**app_settings, "publication.four_eyes": "false"}))
    login(app, "staff")
    request_one(app)
    assert dbsession.execute(select(Publication.state)).scalar_one() == "approved"
    engine_of(app.app.registry).dispose()


def test_staff_cannot_approve_and_the_officer_cannot_request(testapp, data, dbsession):
    login(testapp, "staff")
    request_one(testapp)
    publication = dbsession.execute(select(Publication)).scalar_one()
    decide(testapp, publication.id, "approve", status=403)
    testapp.reset()
    login(testapp, "security_officer")
    testapp.get("/publications", status=403)
    assert "転送ログ" in testapp.get("/transfers").text
