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


def test_supervisor_edits_aliases_and_an_import_then_matches_them(as_role, dbsession,
                                                                   session_factory, app_settings,
                                                                   tmp_path):
    from tests.factories import make_applications, make_programme
    from tests.functional.test_imports import confirm, upload

    app = as_role("supervisor")
    page = app.get("/catalogue/paid")
    assert "振込完了" in page.text                      # the default aliases are shown
    assert form_for(page, aliases="振込完了\n 口座振込済み \n振込完了").submit().status_int == 303
    dbsession.expire_all()
    assert dbsession.get(Status, "paid").alias_list() == ["振込完了", "口座振込済み"]
    assert "口座振込済み" in app.get("/catalogue").text
    app_settings["imports.spool_dir"] = str(tmp_path / "spool")
    programme = make_programme(session_factory)
    make_applications(session_factory, programme, 1, status="payment_failed")
    data = "受付番号,処理状況,振込予定日\r\n00000001,支払予定,2020/8/1\r\n".encode("cp932")
    confirm(app, upload(app, programme, data, status=200))
    data = "受付番号,状況,振込日\r\n00000001,口座振込済み　,2020/8/1\r\n".encode("cp932")
    confirm(app, upload(app, programme, data, status=200))
    from intranet.applications.models import Application
    assert dbsession.execute(select(Application.status_code)).scalar_one() == "paid"


def test_an_alias_another_status_answers_to_is_refused(as_role, dbsession):
    app = as_role("supervisor")
    response = form_for(app.get("/catalogue/paid"), aliases="不備あり").submit(expect_errors=True)
    assert response.status_int == 400
    assert "別名「不備あり」は状況「不備あり（書類返送）」の名前と同じです" in response.text
    assert 'id="aliases-error"' in response.text
    assert "不備あり" not in dbsession.get(Status, "paid").alias_list()
