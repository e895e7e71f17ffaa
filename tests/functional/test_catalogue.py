"""Supervisors edit the status catalogue; every edit is audited with before and after."""

from sqlalchemy import select

from intranet.audit.models import AuditRecord
from intranet.statuses.models import Status
from tests.conftest import csrf_token, main_form


def form_for(page, **changes):
    form = main_form(page)
    for name, value in changes.items():
        form[name] = value
    return form


def test_catalogue_lists_every_default_status(as_role):
    page = as_role("staff").get("/catalogue")
    for label in ("受付済", "審査中", "照会中", "不備あり（書類返送）", "再提出待ち", "支給決定",
                  "振込予定", "振込済", "振込不能", "辞退・取下げ", "重複申請", "不支給"):
        assert label in page.text


def test_supervisor_changes_wording_and_flow(as_role, dbsession):
    app = as_role("supervisor")
    page = app.get("/catalogue/received")
    form = form_for(page, **{"explanation.ja-easy": "もうしこみを うけとりました。"})
    form["next"] = ["reviewing", "withdrawn"]
    assert form.submit().status_int == 303
    status = dbsession.get(Status, "received")
    assert status.wording("ja-easy").explanation == "もうしこみを うけとりました。"
    assert status.allowed_next == {"reviewing", "withdrawn"}
    record = dbsession.execute(select(AuditRecord).where(
        AuditRecord.action == "catalogue.update")).scalar_one()
    assert "もうしこみを うけとりました。" in record.details and '"before"' in record.details


def test_empty_wording_is_refused_naming_the_field(as_role, dbsession):
    app = as_role("supervisor")
    page = app.get("/catalogue/received")
    response = form_for(page, **{"next_step.en": ""}).submit(expect_errors=True)
    assert response.status_int == 400
    assert 'id="next_step.en-error"' in response.text
    assert dbsession.get(Status, "received").wording("en").next_step != ""


def test_staff_reads_but_cannot_edit(as_role):
    app = as_role("staff")
    page = app.get("/catalogue")
    assert "/catalogue/received" not in page.text
    app.post("/catalogue/received", {"csrf_token": csrf_token(page)}, status=403)
