"""問い合わせ対応: find an application and read its status and history — nothing else —
and every record opened is in the audit trail for the security officer."""

import json

import pytest
from sqlalchemy import select

from intranet.applications.models import Application
from intranet.audit.models import AuditRecord
from intranet.audit.personal import AuditPersonal
from tests.conftest import csrf_token
from tests.factories import make_applications, make_programme


@pytest.fixture
def one(session_factory):
    programme = make_programme(session_factory)
    application_id = make_applications(session_factory, programme, 1, start=12345678)[0]
    with session_factory() as s, s.begin():
        application = s.get(Application, application_id)
        application.address, application.phone = "中央区1丁目①番", "042-000-0001"
        application.notes = "窓口で相談あり"
    return application_id


def test_the_desk_finds_a_caller_and_reads_status_and_history(as_role, one):
    app = as_role("inquiry")
    found = app.get("/applications", {"name": "やまだ"})
    assert "1 件見つかりました" in found.text
    page = app.get(f"/applications/{one}")
    assert "受付済" in page.text and "履歴" in page.text
    for hidden in ("中央区1丁目①番", "042-000-0001", "窓口で相談あり", "生年月日", "状況を変更"):
        assert hidden not in page.text


def test_the_desk_lands_on_search(as_role):
    app = as_role("inquiry")
    assert app.get("/", status=303).location.endswith("/applications")
    assert as_role("staff").get("/", status=303).location.endswith("/dashboard")


def test_every_record_the_desk_opens_is_audited_with_who_and_whose(as_role, one, dbsession):
    app = as_role("inquiry")
    app.get(f"/applications/{one}")
    app.get(f"/applications/{one}")
    records = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "application.view")).scalars().all()
    assert len(records) == 2
    assert {(r.actor, r.actor_role, r.target) for r in records} == {
        ("inquiry", "inquiry", f"application:{one}")}
    # Whose: the application id in the chain, the receipt number beside it (issue 25).
    assert "receipt" not in json.loads(records[0].details)
    assert "12345678" not in records[0].details
    side = dbsession.execute(select(AuditPersonal.value).where(
        AuditPersonal.seq == records[0].seq)).scalar_one()
    assert json.loads(side) == {"receipt": "12345678"}


@pytest.mark.parametrize("path", ["/applications.csv", "/applications.xlsx", "/history.csv",
                                  "/history.xlsx", "/imports", "/bulk", "/publications",
                                  "/catalogue/received", "/audit"])
def test_the_desk_cannot_export_import_or_change(as_role, one, path):
    as_role("inquiry").get(path, status=403)


def test_the_desk_cannot_change_a_status_even_by_posting(as_role, one, dbsession):
    app = as_role("inquiry")
    page = app.get(f"/applications/{one}")
    app.post(f"/applications/{one}/status", {"csrf_token": csrf_token(page), "version": "1",
                                             "status": "reviewing"}, status=403)
    assert dbsession.get(Application, one).status_code == "received"
    listing = app.get("/applications")
    assert "CSV" not in listing.text and "Excel" not in listing.text


def test_staff_opening_a_record_is_not_logged_as_a_desk_lookup(as_role, one, dbsession):
    as_role("staff").get(f"/applications/{one}")
    assert not dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "application.view")).first()
